/**
 * A double-buffered compute-shift loop: Cannon's algorithm on a 4×4 mesh. The skew is done by the
 * input tilings (core (x, y) starts with A tile (y, (x + y) mod P) and B tile ((x + y) mod P, x)), then
 * P steps each post the shifts of A (left, the wrap crossing the row) and B (up, the wrap crossing the
 * column) into spare buffers, multiply-accumulate the current tiles while the words move, wait, and
 * swap. The product equals a plain matrix product (and ONNX MatMul's reference semantics); the cycle
 * count is the closed form of a compute-bound step.
 */
import { describe, expect, it } from 'vitest';
import { evaluateNode } from '../ir/evaluate.js';
import { add, and, eq, ge, gt, H, lt, mod, ProgramBuilder, sub, W, X, Y } from '../ir/program-builder.js';
import type { MemType, Program } from '../ir/program.js';
import { Tensor } from '../ir/tensor.js';
import { emulate } from '../runtime/emulate.js';
import { ISSUE, LOOP, POST, ramp, testTarget } from './emulator-fixtures.js';

const P = 4;

function cannon(b: number, inType: MemType): Program {
  const t = testTarget(P, P);
  const pb = new ProgramBuilder('cannon', t);
  const r = pb.region('mesh', { x: 0, y: 0, width: P, height: P });
  const bb = b * b;
  const A = r.buffer('A', inType, bb), A2 = r.buffer('A2', inType, bb);
  const B = r.buffer('B', inType, bb), B2 = r.buffer('B2', inType, bb);
  const Cc = r.buffer('C', 'f32', bb);
  const L = 1, U = 2; // colours: A moves left, B moves up
  r.setLoc('cannon');
  r.loop(P, (body) => {
    body.send(A, bb, L);
    body.send(B, bb, U);
    body.recv(A2, bb, L);
    body.recv(B2, bb, U);
    body.matmul(Cc, A, B, b, b, b, { accumulate: true });
    body.wait();
    body.swap(A, A2);
    body.swap(B, B2);
  });
  // Colour L: x ≥ 1 sends west, x = 0 wraps east through the row to x = P − 1.
  r.route({ colour: L, input: 'ramp', outputs: 'west', guard: ge(X, 1) });
  r.route({ colour: L, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
  r.route({ colour: L, input: 'east', outputs: 'ramp', guard: lt(X, sub(W, 1)) });
  r.route({ colour: L, input: 'west', outputs: 'east', guard: and(gt(X, 0), lt(X, sub(W, 1))) });
  r.route({ colour: L, input: 'west', outputs: 'ramp', guard: eq(X, sub(W, 1)) });
  // Colour U: the same along columns.
  r.route({ colour: U, input: 'ramp', outputs: 'north', guard: ge(Y, 1) });
  r.route({ colour: U, input: 'ramp', outputs: 'south', guard: eq(Y, 0) });
  r.route({ colour: U, input: 'south', outputs: 'ramp', guard: lt(Y, sub(H, 1)) });
  r.route({ colour: U, input: 'north', outputs: 'south', guard: and(gt(Y, 0), lt(Y, sub(H, 1))) });
  r.route({ colour: U, input: 'north', outputs: 'ramp', guard: eq(Y, sub(H, 1)) });
  const N = P * b;
  pb.input('A', inType, [N, N], { buffer: A, tile: [b, b], at: [Y, mod(add(X, Y), W)] });
  pb.input('B', inType, [N, N], { buffer: B, tile: [b, b], at: [mod(add(X, Y), H), X] });
  pb.output('C', 'f32', [N, N], { buffer: Cc, tile: [b, b], at: [Y, X] });
  return pb.build();
}

function product(a: Float32Array, b: Float32Array, N: number): Float64Array {
  const c = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) for (let k = 0; k < N; k++) c[i * N + j] += a[i * N + k] * b[k * N + j];
  return c;
}

function worstRelative(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < want.length; i++) w = Math.max(w, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  return w;
}

describe('Cannon on a 4×4 mesh', () => {
  it.each([
    // b, input type, FMA lanes L (wse2 figures: f32 2 FLOP/cycle, f16-in f32-acc 4 FLOP/cycle)
    [4, 'f32', 1],
    [4, 'f16', 2],
  ] as const)('b = %i, %s tiles: P steps of (loop + 4 postings + matmul + wait + 2 swaps)', (b, type, L) => {
    const N = P * b;
    const round = (v: Float32Array) => (type === 'f16' ? v.map((x) => Math.round(x * 8) / 8) : v);
    const a = round(ramp(N * N, 1)), bm = round(ramp(N * N, 2));
    const res = emulate(cannon(b, type), { mode: 'functional', inputs: new Map([['A', a], ['B', bm]]) });
    // matmul b×b×b accumulating: max(b³ / L, reads (3b²) / R, b² / W), R = 2 and W = 1 on wse2 figures.
    const mm = Math.max(Math.ceil(b ** 3 / L), Math.ceil((3 * b * b) / 2), b * b);
    // Transfers finish inside the matmul, so each wait costs its issue only.
    const step = LOOP + 4 * POST + (ISSUE + mm) + ISSUE + 2 * ISSUE;
    expect(res.totalCycles).toBe(ISSUE + P * step);
    // 2 streams per core per step; every core's shifts cross 1 hop, the wraps P − 1.
    expect(res.links.streams).toBe(2 * P * P * P);
    const words = type === 'f16' ? (b * b) / 2 : b * b;
    expect(res.links.wordHops).toBe(P * 2 * P * words * ((P - 1) * 1 + (P - 1)));
    const c = res.outputs![0];
    expect(c.shape).toEqual([N, N]);
    expect(worstRelative(c.data, product(a, bm, N))).toBeLessThan(1e-5);
    const ref = evaluateNode({ op: 'MatMul', domain: '', name: 'mm', inputs: ['A', 'B'], outputs: ['C'], attrs: {} },
      [new Tensor('float32', [N, N], a), new Tensor('float32', [N, N], bm)], 17)[0];
    expect(worstRelative(c.data, ref.data as Float32Array)).toBeLessThan(1e-5);
  });
});
