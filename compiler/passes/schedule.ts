/**
 * schedule — a static, cycle-exact schedule: one step per op. (mesh → mesh + schedule)
 *
 * Steps run one after the other on the whole region: step s starts on every core at T_s, its kernel
 * has an exact cost C_s and a finish offset f_s(x,y) per core (kernels/call.ts, kernels/transfer.ts,
 * kernels/timing.ts), emit pads every core with `delay(C_s − f_s(x,y))`, so every core starts step
 * s + 1 at T_{s+1} = T_s + C_s with nothing in flight — the composition rule of kernels/kernel.ts.
 * The program's total is the sum of the C_s.
 *
 *   call on core c:            C_s = callCost(op)                    f_c = C_s, others 0
 *   tiles of a tiled op:       C_s = max_b callCost(tile b)          f_b = callCost(tile b) on tile b's core
 *   transfer s → d (h hops):   P = I + C, D = ⌈words / (bits/32)⌉
 *                              f_s = P + max(I, D), f_d = P + max(I, 2ρ + h·α + D), C_s = max(f_s, f_d)
 *
 *   before:  %h = call Relu(%x) on (0,0 1x1) @r    %"h@1,0" = redistribute(%h) {colour = 0, hops = 1, ...}
 *   after:   (schedule)  step 0 @0 call r cost 129 | step 1 @129 transfer h->1,0 cost 139 | total 268
 */
import type { MeshGraph, MeshOp } from '../../ir/mesh.js';
import { exprToText } from '../../ir/program-text.js';
import type { Target } from '../../ir/target.js';
import { callKernelCycles, type CallSpec } from '../kernels/call.js';
import { transferTiming } from '../kernels/transfer.js';
import { distributedSide, dryRun } from '../kernels/distributed.js';
import { opColours } from './route-distributed.js';
import type { BackendPass, BackendState, Schedule, ScheduleStep, TransferRoute } from '../pipeline.js';

/** The call spec of a mesh op (operand places are filled in by emit; the cost needs shapes only). */
export function callSpecOf(mesh: MeshGraph, op: MeshOp): CallSpec {
  const t = (v: string) => {
    if (!v) return null;
    const mv = mesh.values.get(v)!;
    return { at: { buf: 0, offset: 0 }, dtype: mv.type.dtype, shape: mv.type.shape };
  };
  return { opType: op.op, domain: op.domain, attrs: op.attrs, inputs: op.inputs.map(t), outputs: op.outputs.map(t) };
}

/** A distributed program: one step per kernel, each with the exact cost of its generator (kernels/distributed.ts). */
function scheduleDistributed(mesh: MeshGraph, target: Target, P: number): Schedule {
  const steps: ScheduleStep[] = [];
  let T = 0;
  for (const op of mesh.ops) {
    const d = dryRun(op, mesh, target, P, opColours(op.params));
    steps.push({ op: op.name, kind: 'kernel', start: T, cost: d.cycles, finish: [], finishExpr: d.finish });
    T += d.cycles;
  }
  return { steps, totalCycles: T };
}

export function schedule(mesh: MeshGraph, routes: readonly TransferRoute[], target: Target): Schedule {
  const P = distributedSide(mesh);
  if (P !== undefined) return scheduleDistributed(mesh, target, P);
  const byOp = new Map(routes.map((r) => [r.op, r]));
  const steps: ScheduleStep[] = [];
  let T = 0;
  // The tiles of a tiled op (kernels/tiled.ts, `params.pin`) run together: consecutive tile calls on
  // distinct cores, none reading another's output, share one step whose cost is the largest tile's.
  // Such a step covers `finish.length` consecutive ops, one per finishing core (emit relies on it).
  let group: { step: ScheduleStep; outputs: Set<string> } | undefined;
  for (const op of mesh.ops) {
    const tile = op.kernel === 'call' && typeof op.params.pin === 'number';
    if (tile && group && !group.step.finish.some((f) => f.core.x === op.region.x && f.core.y === op.region.y) &&
      !op.inputs.some((v) => group!.outputs.has(v))) {
      const cost = callKernelCycles(callSpecOf(mesh, op), target);
      group.step.finish.push({ core: { x: op.region.x, y: op.region.y }, offset: cost });
      if (cost > group.step.cost) {
        T += cost - group.step.cost;
        group.step.cost = cost;
      }
      for (const o of op.outputs) group.outputs.add(o);
      continue;
    }
    let step: ScheduleStep;
    if (op.kernel === 'redistribute') {
      const r = byOp.get(op.name)!;
      const v = mesh.values.get(op.inputs[0])!;
      const n = v.type.shape.reduce((a, b) => a * b, 1);
      const tm = transferTiming(target, v.mem, n, r.hops);
      step = {
        op: op.name, kind: 'transfer', start: T, cost: tm.cycles,
        finish: [{ core: r.src, offset: tm.sender }, ...r.dests.map((core, k) => ({ core, offset: tm.receivers[k] }))],
      };
    } else {
      const cost = callKernelCycles(callSpecOf(mesh, op), target);
      step = { op: op.name, kind: 'call', start: T, cost, finish: [{ core: { x: op.region.x, y: op.region.y }, offset: cost }] };
    }
    steps.push(step);
    T += step.cost;
    group = tile ? { step, outputs: new Set(op.outputs) } : undefined;
  }
  return { steps, totalCycles: T };
}

export function formatSchedule(s: Schedule): string {
  const lines = s.steps.map((st, i) =>
    `// step ${i} @${st.start} ${st.kind} ${st.op} cost ${st.cost}  ${st.finishExpr !== undefined ? `finish ${exprToText(st.finishExpr)}` : st.finish.map((f) => `(${f.core.x},${f.core.y})+${f.offset}`).join(' ')}`);
  lines.push(`// total ${s.totalCycles} cycles`);
  return lines.join('\n');
}

export const schedulePass: BackendPass = {
  id: 'schedule',
  summary: 'one step per op, each started on every core together, with its exact cost and per-core finish',
  run(state: BackendState): BackendState {
    return { ...state, schedule: schedule(state.mesh!, state.routes ?? [], state.target) };
  },
};
