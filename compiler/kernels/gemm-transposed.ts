/**
 * The transposed GEMM C[M×N] = A[M×K]·Bᵀ with B stored [N×K] (Q·Kᵀ in attention), without moving a
 * transpose across the mesh. Core (x, y) holds A tile (y, x) and B tile (y, x) (block layouts) and
 * will hold C tile (y, x). For s = 0 … P − 1 it multiplies A(y, x)·B(j, x)ᵀ — a partial of C tile
 * (y, j), j = at((pos(y) − s) mod P) — while its B tile moves one step along the INTERLEAVE ring of
 * its column (gemm-rings.ts; every edge ≤ 2 hops); the partials of row y are reduce-added along the
 * row to the core that owns C(y, j), x = j (the root moves every step, and differs per row).
 *
 * The reduction: two chains toward the root. From x = 0 the partials flow east, each core on the way
 * adding its own (`forward` with add, a software relay costing β), into the root's C (recv with add);
 * from x = P − 1 they flow west the same way into the root's scratch Tw (each core is root exactly
 * once, for its own C tile: a second receive into C while the first is in flight would race, so
 * Tw is added once, at the end). The root writes its own partial straight into C. Colours: the
 * ring's (3, or P when P < 3) plus one per chain direction.
 *
 * Static schedule (every core runs the same costs; a core without a part in a chain posts a delay
 * instead): step s posts the B shift (recv, send), then the chains of partial s − 1 (east, west),
 * multiplies partial s, pads to the step's latest completion, waits and swaps B. The chains are
 * pipelined one step behind the multiplications. Cost derivation: gemm-transposed-cost.ts.
 *
 *   step 0           recv B′, send B, partial 0, [delay], wait, swap B B′
 *   steps 1 … P − 2  recv B′, send B, east(s − 1), west(s − 1), partial s, [delay], wait, swap
 *   step P − 1       east(P − 2), west(P − 2), partial P − 1, [delay], wait
 *   epilogue         east(P − 1), west(P − 1), [delay], wait;  C += Tw (x < P − 1)
 */
import { add, and, eq, gt, lt, mod, mul, sub, X, Y, type BodyBuilder, type BufferRef } from '../../ir/program-builder.js';
import type { Expr } from '../../ir/program.js';
import { tiles, type GemmShape } from './gemm.js';
import { checkGemmCall, colourExpr, type GemmBuffers } from './gemm-ring.js';
import { transposedCost, type TransposedCostParts } from './gemm-transposed-cost.js';
import { meshgemmRing, ringRoutes } from './gemm-rings.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export { transposedCost };

export function transposedColoursNeeded(P: number): number {
  return P === 1 ? 0 : meshgemmRing(P).colourCount + 2;
}

/** Emits the transposed GEMM into env.region: A tile m×k, B tile n×k (row-major), C tile m×n. */
export function emitTransposedGemm(env: KernelEnv, shape: GemmShape, bufs: GemmBuffers): EmittedKernel & { parts: TransposedCostParts } {
  const { P, type } = shape;
  const acc = shape.acc ?? type;
  const { m, k, n } = tiles(shape);
  const mn = m * n, nk = n * k;
  checkGemmCall(env, 'transposed', shape, transposedColoursNeeded(P),
    [{ name: 'A', buf: bufs.A, elems: m * k }, { name: 'B', buf: bufs.B, elems: nk }, { name: 'C', buf: bufs.C, elems: mn }]);
  const cost = transposedCost(shape, env.target);
  const rb = env.region;
  const { A, B, C } = bufs;
  rb.setLoc(env.loc);
  const done = (routes: KernelRoute[], scratch: BufferRef[]) => ({ routes, scratch, cycles: cost.cycles, finish: cost.finish, parts: cost });
  if (P === 1) {
    rb.matmul(C, A, B, m, k, n, { transB: true });
    return done([], []);
  }
  const f = cost.figures;
  const B2 = scratchBuffer(env, `${env.loc}.B2`, type, B.length);
  const T = scratchBuffer(env, `${env.loc}.T`, acc, 2 * mn);
  const Tw = scratchBuffer(env, `${env.loc}.Tw`, acc, mn);
  const r = meshgemmRing(P);
  const nc = r.colourCount;
  const cols = env.colours.colours;
  const ringCols = cols.slice(0, nc), cE = cols[nc], cW = cols[nc + 1];
  const routes: KernelRoute[] = [
    ...ringRoutes(r, 'y', 1, ringCols),
    { colour: cE, input: 'ramp', outputs: ['east'], guard: lt(X, P - 1) },
    { colour: cE, input: 'west', outputs: ['ramp'], guard: gt(X, 0) },
    { colour: cW, input: 'ramp', outputs: ['west'], guard: gt(X, 0) },
    { colour: cW, input: 'east', outputs: ['ramp'], guard: lt(X, P - 1) },
  ];
  const from = r.atExpr(mod(add(r.posExpr(Y), P - 1), P));
  const cB = colourExpr(r.slotExpr(Y), ringCols), cBr = colourExpr(r.slotExpr(from), ringCols);
  /** Root (owner of the C tile) of row y for partial s. */
  const rootOf = (s: Expr): Expr => r.atExpr(mod(sub(add(r.posExpr(Y), P), mod(s, P)), P));
  const orPad = (body: BodyBuilder, active: Expr) => { if (f.post > 0) body.delay(f.post, { guard: eq(active, 0) }); };
  const gap = (body: BodyBuilder) => { if (cost.gap > 0) body.delay(cost.gap); };

  const shiftB = (body: BodyBuilder) => {
    body.recv(B2, nk, cBr);
    body.send(B, nk, cB);
  };
  /** The two chains reducing partial q (held in slot q mod 2 of T) of every row to its root. */
  const chains = (body: BodyBuilder, q: Expr) => {
    const j = rootOf(q);
    const t = T.at(mul(mod(q, 2), mn));
    // East chain: x = 0 sends, 0 < x < j forward-add, the root adds into C.
    body.send(t, mn, cE, { guard: and(eq(X, 0), gt(j, 0)) });
    body.forward(t, mn, cE, cE, { combine: 'add', guard: and(gt(X, 0), lt(X, j)) });
    body.recv(C, mn, cE, { combine: 'add', guard: and(eq(X, j), gt(j, 0)) });
    orPad(body, and(lt(X, add(j, 1)), gt(j, 0)));
    gap(body);
    // West chain: x = P − 1 sends, j < x < P − 1 forward-add, the root receives into Tw.
    body.send(t, mn, cW, { guard: and(eq(X, P - 1), lt(j, P - 1)) });
    body.forward(t, mn, cW, cW, { combine: 'add', guard: and(gt(X, j), lt(X, P - 1)) });
    body.recv(Tw, mn, cW, { guard: and(eq(X, j), lt(j, P - 1)) });
    orPad(body, and(gt(X, sub(j, 1)), lt(j, P - 1)));
  };
  /** Partial s: the root writes C, the others slot s mod 2 of T. */
  const partial = (body: BodyBuilder, s: Expr) => {
    const root = eq(X, rootOf(s));
    body.matmul(C, A, B, m, k, n, { transB: true, guard: root });
    body.matmul(T.at(mul(mod(s, 2), mn)), A, B, m, k, n, { transB: true, guard: eq(root, 0) });
  };
  const finishStep = (body: BodyBuilder, pad: number, swap: boolean) => {
    if (pad > 0) body.delay(pad);
    body.wait();
    if (swap) body.swap(B, B2);
  };

  // Step 0.
  shiftB(rb);
  partial(rb, 0);
  finishStep(rb, cost.pad0, true);
  // Steps 1 … P − 2.
  if (P > 2) {
    rb.loop(P - 2, (body, i) => {
      const s = add(i, 1);
      shiftB(body);
      gap(body);
      chains(body, i);
      partial(body, s);
      finishStep(body, cost.padMid, true);
    });
  }
  // Step P − 1 and the epilogue.
  chains(rb, P - 2);
  partial(rb, P - 1);
  finishStep(rb, cost.padLast, false);
  chains(rb, P - 1);
  finishStep(rb, cost.padEpilogue, false);
  rb.binary('add', C, C, Tw, m, n, { guard: lt(X, P - 1) });
  if ((P - 1) % 2 === 1) rb.swap(B, B2);
  return done(routes, [B2, T, Tw]);
}
