/**
 * emit — write the program. (mesh + decisions → program)
 *
 * One region: the used sub-rectangle, one SPMD kernel. Its memory map is allocate-sram's: one buffer
 * per tensor, guarded to the core (or, for a tiled input or output, the cores) holding it, with the
 * live range of a computed tensor (its first step's first instruction to its last step's last). Each
 * schedule step becomes, in order:
 *
 *   call step:      call <op>(…)  if x = cx and y = cy        then   delay select(here, 0, C_s)
 *   transfer step:  send … if sender;  recv … if receiver;  wait if either;  then delay C_s − f_s(x,y)
 *
 * (x, y relative to the region), so every core leaves step s at T_{s+1}. A delay of 0 on every core
 * (a one-core region) is left out. Every instruction carries its predicted start: T_s + its offset
 * (an expression of x, y for the delays), and the program its total. Each constant tensor goes in
 * as one constant into its buffer on its core; inputs and outputs are tiled whole into their buffer
 * on their core, a tiled one
 * (kernels/tiled.ts) as one tiling whose tile b sits at element 0 of `tile.<v>` on tile b's core. A
 * call step of a tiled op covers finish.length consecutive ops, one call per core. Route rules come
 * from route (programRules). The program carries the graph's opset and, as `source`, the graph IR
 * text after the graph passes (what `wafer run --check` evaluates for reference).
 *
 *   before:  (mesh + plan + schedule)  step 0 @0 call relu cost 129
 *   after:   region 0 "main" rect (0,0 1x1)   0 call Relu(B1[0] f32[8,16]) -> (B0[0] f32[8,16]) @ "relu"   (predicted start 0)
 */
import { DiagnosticError } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import { ProgramBuilder, X, Y, and, eq, or, select, type BufferRef, type InstrRef, type RegionBuilder } from '../../ir/program-builder.js';
import type { Expr, Program, Rect } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { printGraph } from '../../ir/text.js';
import { isStatic } from '../../ir/graph.js';
import { parseTileName } from '../kernels/tiled.js';
import { emitCallKernel, type CallSpec } from '../kernels/call.js';
import { emitTransferKernel } from '../kernels/transfer.js';
import type { BackendPass, BackendState, Core, Placement, Schedule, SramPlan, SramTensor, TransferRoute } from '../pipeline.js';
import { distributedSide } from '../kernels/distributed.js';
import { constData, emitDistributed } from './emit-distributed.js';
import { programRules } from './route.js';

/** Guard selecting one core of the region (undefined when the region has one core). */
export function coreGuard(c: Core, region: Rect): Expr | undefined {
  const parts: Expr[] = [];
  if (region.width > 1) parts.push(eq(X, c.x - region.x));
  if (region.height > 1) parts.push(eq(Y, c.y - region.y));
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : and(parts[0], parts[1]);
}

/** An expression that is `value` on each listed core and `dflt` elsewhere. */
function perCore(entries: { core: Core; value: number }[], dflt: number, region: Rect): Expr {
  let e: Expr = dflt;
  for (let i = entries.length - 1; i >= 0; i--) {
    const g = coreGuard(entries[i].core, region);
    if (g === undefined) return entries[i].value;
    if (entries[i].value !== e) e = select(g, entries[i].value, e);
  }
  return e;
}

function anyCore(cores: Core[], region: Rect): Expr | undefined {
  const gs = cores.map((c) => coreGuard(c, region));
  if (gs.some((g) => g === undefined)) return undefined;
  return gs.length === 1 ? gs[0] : or(gs[0]!, gs[1]!, ...(gs.slice(2) as Expr[]));
}

export interface EmitInput {
  mesh: MeshGraph;
  target: Target;
  placement: Placement;
  routes: readonly TransferRoute[];
  sram: SramPlan;
  schedule: Schedule;
  outputNames: ReadonlyMap<string, string>;
  /** Shape of a graph value (for tiled inputs and outputs, whose mesh values are the tiles). */
  graphShape?: (name: string) => number[] | undefined;
}

export function emitProgram(inp: EmitInput): Program {
  const { mesh, target, placement, sram, schedule } = inp;
  const region = placement.region;
  const b = new ProgramBuilder(mesh.name || 'main', target, { opset: mesh.opset });
  const r: RegionBuilder = b.region('main', region);
  const buffers = new Map<string, BufferRef>();
  for (const buf of sram.buffers) {
    const guard = buf.cores ? anyCore(buf.cores, region) : undefined;
    buffers.set(buf.name, r.buffer(buf.name, buf.type, buf.length, { offset: buf.offset, ...(guard !== undefined ? { guard } : {}) }));
  }
  // Each step's first and last instruction (live ranges of the tensors computed in the program).
  const marks: { first?: InstrRef; last?: InstrRef }[] = [];
  const where = new Map<string, SramTensor>();
  for (const t of sram.tensors) where.set(t.value, t);
  const place = (v: string) => {
    const t = where.get(v);
    if (!t) throw new Error(`internal: emit: value '${v}' has no SRAM place`);
    return buffers.get(t.buffer)!.at(t.offset);
  };
  let mark: { first?: InstrRef; last?: InstrRef } = {};
  const predict = (ref: InstrRef, at: Expr) => {
    mark.first ??= ref;
    mark.last = ref;
    b.predict(ref, at);
  };
  const ops = new Map(mesh.ops.map((op) => [op.name, op]));
  const opIndex = new Map(mesh.ops.map((op, i) => [op.name, i]));
  const routes = new Map(inp.routes.map((x) => [x.op, x]));

  schedule.steps.forEach((step) => {
    marks.push((mark = {}));
    const op = ops.get(step.op)!;
    const T = step.start;
    if (step.kind === 'call') {
      const t = (v: string) => {
        if (!v) return null;
        const mv = mesh.values.get(v)!;
        return { at: place(v), dtype: mv.type.dtype, shape: mv.type.shape };
      };
      // A step of tiles covers finish.length consecutive ops, one per core (schedule.ts).
      const first = opIndex.get(op.name)!;
      step.finish.forEach((f, k) => {
        const o = mesh.ops[first + k];
        const spec: CallSpec = { opType: o.op, domain: o.domain, attrs: o.attrs, inputs: o.inputs.map(t), outputs: o.outputs.map(t) };
        predict(emitCallKernel(r, spec, coreGuard(f.core, region), o.name), T);
      });
    } else {
      const route = routes.get(op.name)!;
      const v = mesh.values.get(op.inputs[0])!;
      const n = v.type.shape.reduce((a, c) => a * c, 1);
      const e = emitTransferKernel(r, {
        n, colour: route.colour,
        src: { at: place(op.inputs[0]), guard: coreGuard(route.src, region) },
        dests: route.dests.map((d) => ({ at: place(op.outputs[0]), guard: coreGuard(d, region) })),
        waitGuard: anyCore([route.src, ...route.dests], region),
      }, op.name);
      predict(e.send, T);
      e.recvs.forEach((ref) => predict(ref, T));
      predict(e.wait, T + target.overhead.issue + target.overhead.comm);
    }
    // Padding: every core leaves the step at T + C.
    const pads = step.finish.map((f) => ({ core: f.core, value: step.cost - f.offset }));
    const cores = region.width * region.height;
    const allZero = pads.every((p) => p.value === 0) && (pads.length >= cores);
    if (!allZero) {
      const d = r.delay(perCore(pads, step.cost, region), { loc: op.name });
      predict(d, perCore(step.finish.map((f) => ({ core: f.core, value: T + f.offset })), T, region));
    }
  });
  b.predictTotal(schedule.totalCycles);

  for (const rule of programRules(inp.routes)) b.route(rule);

  // Live ranges of computed tensors, from their first step's first instruction to their last step's last.
  const stepOf = new Map<string, number>();
  schedule.steps.forEach((st, k) => stepOf.set(st.op, k));
  const opStep = mesh.ops.map((o) => stepOf.get(o.name));
  for (let i = 1; i < opStep.length; i++) opStep[i] ??= opStep[i - 1]; // tiles share their group's step
  for (const t of sram.tensors) {
    if (t.kind !== 'temp') continue;
    const m0 = marks[opStep[t.live[0]] ?? 0], m1 = marks[opStep[t.live[1]] ?? 0];
    if (m0?.first && m1?.last) buffers.get(t.buffer)!.live(m0.first, m1.last);
  }

  // Constants: each tensor into its own buffer on its core.
  for (const t of [...sram.tensors].filter((x) => x.kind === 'const').sort((a, c) => (a.buffer < c.buffer ? -1 : a.buffer > c.buffer ? 1 : 0))) {
    if (t.elements === 0) continue;
    const data = constData(mesh.constants.get(t.value)!, t.mem);
    b.constant(`const.${t.buffer}`, t.mem, [1, t.elements], { buffer: buffers.get(t.buffer)!, tile: [1, t.elements], at: [0, 0], guard: coreGuard(t.core, region) }, data);
  }
  // Inputs and outputs: whole, in their slot on their core.
  const io = (name: string, v: string, kind: 'input' | 'output') => {
    const t = where.get(v)!;
    const mv = mesh.values.get(v)!;
    const shape = mv.type.shape;
    const cols = shape.length ? shape[shape.length - 1] : 1;
    const rows = shape.slice(0, -1).reduce((a, c) => a * c, 1);
    if (rows * cols === 0) {
      throw new DiagnosticError({
        code: 'W3006', message: `graph ${kind} '${name}' has no elements (shape [${shape.join(',')}])`, location: `${kind} '${name}'`,
        hint: 'a program moves non-empty tensors between the host and SRAM',
      });
    }
    const spec = { buffer: buffers.get(t.buffer)!, tile: [rows, cols] as [number, number], at: [0, 0] as [Expr, Expr], guard: coreGuard(t.core, region) };
    if (kind === 'input') b.input(name, t.mem, [...shape], spec);
    else b.output(name, t.mem, [...shape], spec);
  };
  // A tiled input or output (kernels/tiled.ts): one tiling, tile b on the core holding `%v#tile<b>`.
  const tiledIo = (list: string[], kind: 'input' | 'output') => {
    const groups = new Map<string, string[]>();
    for (const v of list) {
      const p = parseTileName(v);
      if (!p) continue;
      (groups.get(p.base) ?? groups.set(p.base, []).get(p.base)!)[p.tile] = v;
    }
    for (const [base, tiles] of groups) {
      const name = inp.outputNames.get(base) ?? base;
      const shape = inp.graphShape?.(name);
      if (!shape) throw new Error(`internal: emit: no shape for tiled ${kind} '${name}'`);
      const first = mesh.values.get(tiles[0])!;
      const ts = first.type.shape;
      const tile: [number, number] = [ts.slice(0, -1).reduce((a, c) => a * c, 1), ts.length ? ts[ts.length - 1] : 1];
      const cols = shape.length ? shape[shape.length - 1] : 1;
      const perRow = cols / tile[1];
      const cores = tiles.map((v) => where.get(v)!.core);
      const spec = {
        buffer: buffers.get(where.get(tiles[0])!.buffer)!, tile,
        at: [perCore(cores.map((core, k) => ({ core, value: Math.floor(k / perRow) })), 0, region),
          perCore(cores.map((core, k) => ({ core, value: k % perRow })), 0, region)] as [Expr, Expr],
        guard: anyCore(cores, region),
      };
      if (kind === 'input') b.input(name, first.mem, [...shape], spec);
      else b.output(name, first.mem, [...shape], spec);
    }
  };
  for (const v of mesh.inputs) if (!parseTileName(v)) io(v, v, 'input');
  tiledIo(mesh.inputs, 'input');
  for (const v of mesh.outputs) if (!parseTileName(v)) io(inp.outputNames.get(v) ?? v, v, 'output');
  tiledIo(mesh.outputs, 'output');
  return b.build();
}

export const emitPass: BackendPass = {
  id: 'emit',
  summary: 'write the program: one SPMD region, memory map, instructions with predicted starts, routes, data',
  run(state: BackendState): BackendState {
    const P = distributedSide(state.mesh!);
    const program: Program = P !== undefined ? emitDistributed({
      mesh: state.mesh!, target: state.target, P, sram: state.sram!, schedule: state.schedule!, outputNames: state.outputNames ?? new Map(),
      rules: state.routeRules ?? [],
    }) : emitProgram({
      mesh: state.mesh!, target: state.target, placement: state.placement!, routes: state.routes ?? [], sram: state.sram!,
      schedule: state.schedule!, outputNames: state.outputNames ?? new Map(),
      graphShape: (name) => { const t = state.graph.types.get(name); return t && isStatic(t) ? [...t.shape] : undefined; },
    });
    // The graph the program computes, so that `wafer run --check` can evaluate the same thing.
    program.source = printGraph(state.graph);
    return { ...state, program };
  },
};
