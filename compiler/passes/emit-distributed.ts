/**
 * emit, for a distributed program: one region, the P×P square at the mesh origin, one SPMD kernel.
 * Each value's tile buffer sits where allocate-sram put it, with its live range (the instruction ids
 * from the first instruction of its first step to the last of its last step); graph inputs, outputs and constants are tiled over
 * the region by their grid (kernels/grids.ts: the matrix through the grid's permutation, tile
 * coordinates (y div d) mod m and (x div d) mod m; an output is read back from the first core
 * holding each tile). Each step is
 *
 *   delay 0                              (the step's first instruction: live ranges start here)
 *   <the kernel's instructions>          (kernels/distributed.ts, with the colours route gave it and
 *                                         its scratch buffers inside the step's reservation)
 *   delay (C_s − finish_s(x, y))         (every core leaves the step at T_s + C_s; live ranges end here)
 *
 * and carries its predicted start on both delays, with the program's total.
 */
import type { MeshGraph } from '../../ir/mesh.js';
import { ProgramBuilder, sub, type BufferRef, type InstrRef } from '../../ir/program-builder.js';
import { MEM_TYPE_BYTES, type Expr, type MemType, type Program, type RouteRule } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { Tensor } from '../../ir/tensor.js';
import { gridTile } from '../../ir/mesh.js';
import { gridCoords, gridOutputGuard, gridShape, permutes } from '../kernels/grids.js';
import { emitDist } from '../kernels/distributed.js';
import type { KernelEnv } from '../kernels/kernel.js';
import type { Schedule, SramPlan } from '../pipeline.js';
import { opColours } from './route-distributed.js';

const align4 = (n: number) => Math.ceil(n / 4) * 4;

export interface DistributedEmitInput {
  mesh: MeshGraph;
  target: Target;
  P: number;
  sram: SramPlan;
  schedule: Schedule;
  outputNames: ReadonlyMap<string, string>;
  /** The route rules (route-distributed.ts). */
  rules: readonly RouteRule[];
}

export function emitDistributed(inp: DistributedEmitInput): Program {
  const { mesh, target, P, sram, schedule } = inp;
  const b = new ProgramBuilder(mesh.name || 'main', target, { opset: mesh.opset });
  const r = b.region('main', { x: 0, y: 0, width: P, height: P });
  const decl = new Map(sram.buffers.map((d) => [d.name, d]));
  const bufs = new Map<string, BufferRef>();
  const byName = new Map<string, BufferRef>();
  for (const d of sram.buffers) if (d.name.startsWith('v.')) byName.set(d.name, r.buffer(d.name, d.type, d.length, { offset: d.offset }));
  for (const t of sram.tensors) bufs.set(t.value, byName.get(t.buffer)!);
  const buf = (v: string) => {
    const x = bufs.get(v);
    if (!x) throw new Error(`internal: emit: value '${v}' has no tile buffer`);
    return x;
  };
  const marks: { first: InstrRef; last: InstrRef }[] = [];
  for (const rule of inp.rules) b.route({ colour: rule.colour, rect: rule.rect, input: rule.input, outputs: rule.outputs, ...(rule.guard !== undefined ? { guard: rule.guard } : {}) });
  schedule.steps.forEach((step, s) => {
    const op = mesh.ops[s];
    const first = r.delay(0, { loc: op.name });
    b.predict(first, step.start);
    const base = decl.get(`scratch.${op.name}`)?.offset ?? 0;
    let cursor = base;
    const scratch: BufferRef[] = [];
    const env: KernelEnv = {
      target, region: r, width: P, height: P, colours: { colours: opColours(op.params) }, loc: op.name,
      scratch: (name: string, type: MemType, length: number) => {
        const x = r.buffer(name, type, length, { offset: cursor });
        cursor = align4(cursor + length * MEM_TYPE_BYTES[type]);
        scratch.push(x);
        return x;
      },
    };
    // (The kernel's routes are in the route pass's compacted rules.)
    const e = emitDist(op, mesh, env, buf);
    const pad: Expr = typeof e.finish === 'number' ? step.cost - e.finish : sub(step.cost, e.finish);
    const last = r.delay(pad, { loc: op.name });
    b.predict(last, typeof e.finish === 'number' ? step.start + e.finish : { op: 'add', a: step.start, b: e.finish });
    for (const x of scratch) x.live(first, last);
    marks.push({ first, last });
  });
  b.predictTotal(schedule.totalCycles);
  // Live ranges (a tile live for the whole program has none: the whole kernel).
  for (const t of sram.tensors) {
    if (t.live[0] === 0 && t.live[1] === marks.length - 1) continue;
    const m0 = marks[t.live[0]], m1 = marks[t.live[1]];
    if (m0 && m1 && t.buffer === `v.${t.value}`) buf(t.value).live(m0.first, m1.last); // a view's range is its root's
  }
  // Data in and out, tiled by form.
  const tiling = (v: string, output: boolean) => {
    const g = mesh.values.get(v)!.layout.grid!;
    const guard = output ? gridOutputGuard(g, P) : undefined;
    return {
      buffer: buf(v), tile: gridTile(g), at: gridCoords(g, P), view: gridShape(g), ...(guard !== undefined ? { guard } : {}),
      ...(permutes(g) ? { perm: { dims: [...g.dims], perm: [...g.perm] } } : {}),
    };
  };
  for (const [name, t] of [...mesh.constants].sort((a, c) => (a[0] < c[0] ? -1 : a[0] > c[0] ? 1 : 0))) {
    if (!bufs.has(name) || t.data.length === 0) continue; // an empty constant has nothing to load
    const mv = mesh.values.get(name)!;
    const tl = tiling(name, false);
    b.constant(`const.${name}`, mv.mem, tl.view, tl, constData(t, mv.mem));
  }
  for (const v of mesh.inputs) if (bufs.has(v)) b.input(v, mesh.values.get(v)!.mem, [...mesh.values.get(v)!.type.shape], tiling(v, false));
  for (const v of mesh.outputs) b.output(inp.outputNames.get(v) ?? v, mesh.values.get(v)!.mem, [...mesh.values.get(v)!.type.shape], tiling(v, true));
  return b.build();
}

/** A constant tensor's values as the SRAM type's array (the builder writes its bytes). */
export function constData(t: Tensor, mem: MemType): Float32Array | Int32Array {
  const n = t.data.length;
  const out = mem === 'i32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(t.data[i]);
  return out;
}
