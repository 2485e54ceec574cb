/**
 * `dist.gather`: an embedding lookup out[i, :] = T[ids[i], :] in distributed mode — T a block [V, D]
 * (vocabulary rows along y, columns along x), ids in the rows form (every id a row, split along y
 * like the output's rows), out a block [numel(ids), D]. The rows of T a core needs are data-dependent,
 * so every row tile of T visits every row of cores: in step s (s = 0 … P − 1) the cores of mesh row s
 * broadcast their tile of T down their columns (SUMMA's static column-broadcast rules), and every
 * core gathers the ids of its rows that fall in that tile (a masked local Gather); the running index
 * J = ids − s·V/P says which (0 ≤ J < V/P) and where.
 *
 * Per step, all cores in lock step:
 *   row s: copy its tile to R        others: delay (the copy's cost)
 *   row s: send it down the column   others: recv R          all: wait; delay to the worst stream
 *   m = (J < V/P) ∧ (J ≥ 0); g = Gather(R, min(max(J, 0), V/P − 1)); out = Where(m, g, out); J −= V/P
 * Exact cost: the copy (I + unaryCycles), the broadcast padded to its longest stream
 * (P + max(I, 2ρ + (P − 1)·α + D)), the calls' callCost, the loop's issue and per-iteration overhead,
 * after the set-up (constants filled, out zeroed, J = ids with negative ids counted from the end).
 * An id outside [−V, V) matches no tile and leaves its row zero (the reference evaluation, which
 * `wafer run --check` runs, refuses it).
 */
import { eq, sub, Y, add, type BodyBuilder, type BufferRef, type OperandLike } from '../../ir/program-builder.js';
import { fillCycles, unaryCost } from '../../ir/program-cost.js';
import type { DType } from '../../ir/dtype.js';
import type { MemType } from '../../ir/program.js';
import { lineBroadcastFinish, lineBroadcastRoutes, lineBroadcastWorst } from './broadcast.js';
import { callKernelCycles, type CallSpec } from './call.js';
import type { EmittedKernel, KernelEnv } from './kernel.js';
import { scratchBuffer } from './kernel.js';
import { streamCycles } from './timing.js';

export interface GatherShape {
  /** Vocabulary rows and columns of the table. */
  V: number;
  D: number;
  /** Ids in all (the output's rows). */
  n: number;
  P: number;
  /** Table and output element type in SRAM, and the graph dtypes of the table and of the ids. */
  type: MemType;
  dtype: DType;
  idsDtype: DType;
}

function emitCall(body: BodyBuilder, c: CallSpec): void {
  const arg = (x: CallSpec['inputs'][number]) => (x ? { at: x.at, dtype: x.dtype, shape: x.shape } : null);
  body.call(c.opType, c.inputs.map(arg), c.outputs.map(arg), c.attrs, { domain: c.domain });
}

export function emitDistGather(env: KernelEnv, s: GatherShape, bufs: { table: BufferRef; ids: BufferRef; out: BufferRef }): EmittedKernel {
  const t = env.target;
  const rb = env.region;
  rb.setLoc(env.loc);
  const { P } = s;
  const vt = s.V / P, dt = s.D / P, n = s.n / P;
  const { issue: Iss, loop: Lp } = t.overhead;
  const W = t.sram.writeWordsPerCycle;
  const sc = (name: string, type: MemType, len: number) => scratchBuffer(env, `${env.loc}.${name}`, type, len);
  const Rt = sc('R', s.type, vt * dt), J = sc('J', 'i32', n), m1 = sc('m1', 'i32', n), m2 = sc('m2', 'i32', n), idx = sc('idx', 'i32', n);
  const g = sc('g', s.type, n * dt), k = sc('k', 'i32', 4); // k: V/P, 0, V/P − 1, V
  let cycles = 0;
  // Set-up: constants, out = 0, J = ids.
  rb.fill(k, 1, vt);
  rb.fill(k.at(1), 1, 0);
  rb.fill(k.at(2), 1, vt - 1);
  rb.fill(k.at(3), 1, s.V);
  rb.fill(bufs.out, n * dt, 0);
  rb.copy(J, bufs.ids, n);
  cycles += 4 * (Iss + fillCycles(1, W)) + Iss + fillCycles(n * dt, W) + unaryCost(t, 'copy', n, 'i32', 'i32');
  const ids = (b: OperandLike, shape: number[]) => ({ at: b, dtype: s.idsDtype, shape });
  const bools = (b: OperandLike, shape: number[]) => ({ at: b, dtype: 'bool' as DType, shape });
  const vals = (b: OperandLike, shape: number[]) => ({ at: b, dtype: s.dtype, shape });
  // Negative ids count from the end (ONNX): J = ids < 0 ? ids + V : ids.
  const setup: CallSpec[] = [
    { opType: 'Less', domain: '', attrs: {}, inputs: [ids(J, [n]), ids(k.at(1), [])], outputs: [bools(m1, [n])] },
    { opType: 'Add', domain: '', attrs: {}, inputs: [ids(J, [n]), ids(k.at(3), [])], outputs: [ids(idx, [n])] },
    { opType: 'Where', domain: '', attrs: {}, inputs: [bools(m1, [n]), ids(idx, [n]), ids(J, [n])], outputs: [ids(J, [n])] },
  ];
  for (const c of setup) emitCall(rb, c);
  cycles += setup.reduce((a, c) => a + callKernelCycles(c, t), 0);
  const calls: CallSpec[] = [
    { opType: 'Less', domain: '', attrs: {}, inputs: [ids(J, [n]), ids(k.at(0), [])], outputs: [bools(m1, [n])] },
    { opType: 'GreaterOrEqual', domain: '', attrs: {}, inputs: [ids(J, [n]), ids(k.at(1), [])], outputs: [bools(m2, [n])] },
    { opType: 'And', domain: '', attrs: {}, inputs: [bools(m1, [n]), bools(m2, [n])], outputs: [bools(m1, [n])] },
    { opType: 'Max', domain: '', attrs: {}, inputs: [ids(J, [n]), ids(k.at(1), [])], outputs: [ids(idx, [n])] },
    { opType: 'Min', domain: '', attrs: {}, inputs: [ids(idx, [n]), ids(k.at(2), [])], outputs: [ids(idx, [n])] },
    { opType: 'Gather', domain: '', attrs: { axis: { kind: 'int', value: 0 } }, inputs: [vals(Rt, [vt, dt]), ids(idx, [n])], outputs: [vals(g, [n, dt])] },
    { opType: 'Where', domain: '', attrs: {}, inputs: [bools(m1, [n, 1]), vals(g, [n, dt]), vals(bufs.out, [n, dt])], outputs: [vals(bufs.out, [n, dt])] },
    { opType: 'Sub', domain: '', attrs: {}, inputs: [ids(J, [n]), ids(k.at(0), [])], outputs: [ids(J, [n])] },
  ];
  const callCycles = calls.reduce((a, c) => a + callKernelCycles(c, t), 0);
  // The broadcast step: the root row copies its tile to R (the others wait as long), then sends it.
  const copy = unaryCost(t, 'copy', vt * dt, s.type, s.type);
  const D = streamCycles(t, s.type, vt * dt);
  const stepB = copy + lineBroadcastWorst(t, P, D);
  const [colour] = env.colours.colours;
  rb.loop(P, (body, step) => {
    const root = eq(Y, step);
    body.copy(Rt, bufs.table, vt * dt, { guard: root });
    body.delay(copy, { guard: eq(root, 0) });
    body.send(bufs.table, vt * dt, colour, { guard: root });
    body.recv(Rt, vt * dt, colour, { guard: eq(root, 0) });
    body.wait();
    body.delay(sub(stepB, add(copy, lineBroadcastFinish(t, 'y', step, D))));
    for (const c of calls) emitCall(body, c);
  });
  cycles += Iss + P * (Lp + stepB + callCycles);
  return { routes: lineBroadcastRoutes(colour, 'y'), scratch: [Rt, J, m1, m2, idx, g, k], cycles, finish: cycles };
}
