/**
 * Cannon and MeshGEMM: the compute-shift GEMM on a ring per mesh axis (gemm-rings.ts). Every core
 * holds an A tile and a B tile of the same contraction block; P times it multiplies them into its C
 * tile while (except the last time) the A tile moves one ring step along x and the B tile one along
 * y into the spare buffers (double buffering; the loop is unrolled by two so the buffers alternate
 * without swaps).
 *
 * Alignment. At step s, core (x, y) holds the contraction block at((pos(x) + pos(y) + c − s) mod P)
 * (c = 1 for Cannon, which makes it the textbook (x + y + s) mod P; 0 for MeshGEMM). Skew 'tiling':
 * the inputs arrive so (legitimate for weights, placed once). Skew 'data': they arrive in the block
 * layout (A tile (y, x), B tile (y, x)) and the kernel first rotates row y of A backward by
 * pos(y) + c ring steps and column x of B by pos(x) + c, each in the shorter direction, in rounds of
 * one ring step (guarded per line; the kernel's buffer bindings are restored at the end).
 *
 * Static schedule: every step is the same instruction sequence on every core (a skipped transfer is
 * replaced by a `delay` of its posting cost), so all cores run in lock step, and a `delay` before
 * the step's `wait` pads the step to the latest transfer completion any core can see
 * (gemm-ring-cost.ts derives it). The `wait` then never blocks; the step's length is a closed form.
 *
 *   [skew, R rounds]  recv A′ | recv B′ | send A | send B | delay pad | wait | swap A A′ | swap B B′
 *   step 0            recv A′, recv B′, send A, send B, C = A·B,  [delay pad], wait
 *   steps 1 … P − 2   the same with C += (the current and spare buffers alternate)
 *   step P − 1        C += A·B
 * Receives are posted before sends, so every stream finds its receive posted and starts at once.
 */
import { diag } from '../../ir/diagnostics.js';
import { add, eq, lt, mod, X, Y, select, type BodyBuilder, type BufferRef } from '../../ir/program-builder.js';
import type { Expr } from '../../ir/program.js';
import { checkGemmShape, tiles, type GemmShape } from './gemm.js';
import { labelOffset, ringCost, ringOf, skewExprs, type RingCostParts } from './gemm-ring-cost.js';
import { ringRoutes, type Ring, type RingKind } from './gemm-rings.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export type Skew = 'tiling' | 'data';

/** The operand buffers a GEMM kernel works on (element 0 of each holds the core's tile). */
export interface GemmBuffers {
  A: BufferRef;
  B: BufferRef;
  C: BufferRef;
}

export interface RingGemmOptions {
  skew: Skew;
}

/** Colours a ring GEMM needs: one set per axis for the shifts, and one more per axis for a data skew. */
export function ringColoursNeeded(kind: RingKind, P: number, skew: Skew): number {
  if (P === 1) return 0;
  return (skew === 'data' ? 4 : 2) * ringOf(kind, P).colourCount;
}

/** The contraction block core (x, y) holds at step s. */
export function blockAt(kind: RingKind, P: number, x: number, y: number, s: number): number {
  const r = ringOf(kind, P);
  return r.at((((r.pos(x) + r.pos(y) + labelOffset(kind) - s) % P) + P) % P);
}

/** The same at step 0, as an expression of the core's x, y: where a 'tiling' skew puts the tiles. */
export function blockExpr(kind: RingKind, P: number): Expr {
  const r = ringOf(kind, P);
  return r.atExpr(mod(add(r.posExpr(X), r.posExpr(Y), labelOffset(kind)), P));
}

/** Colour slots a core sends on and receives on for ring steps in direction dir. */
function slotExprs(r: Ring, i: Expr, dir: 1 | -1): { send: Expr; recv: Expr } {
  const P = r.P;
  const to = r.atExpr(mod(add(r.posExpr(i), dir === 1 ? 1 : P - 1), P));
  const from = r.atExpr(mod(add(r.posExpr(i), dir === 1 ? P - 1 : 1), P));
  // A forward edge uses its sender's slot; a backward edge is a forward edge reversed and keeps its slot.
  return dir === 1 ? { send: r.slotExpr(i), recv: r.slotExpr(from) } : { send: r.slotExpr(to), recv: r.slotExpr(i) };
}

/** colours[slot] as an expression. */
export function colourExpr(slot: Expr, colours: readonly number[]): Expr {
  let e: Expr = colours[colours.length - 1];
  for (let q = colours.length - 2; q >= 0; q--) e = select(eq(slot, q), colours[q], e);
  return e;
}

/** Checks region, colours and buffers of a GEMM kernel call (W3007). */
export function checkGemmCall(env: KernelEnv, name: string, shape: GemmShape, need: number, bufs: { name: string; buf: BufferRef; elems: number }[]): void {
  checkGemmShape(shape, env.loc);
  const { P } = shape;
  if (env.width !== P || env.height !== P) {
    throw diag('W3007', `${name} GEMM ${env.loc}: the region is ${env.width}×${env.height} cores, the kernel needs ${P}×${P}`, env.loc,
      'give the kernel a square region of side P');
  }
  const have = env.colours.colours.length;
  if (have < need) throw diag('W3007', `${name} GEMM ${env.loc} needs ${need} colours, ${have} were given`, env.loc, 'hand the kernel more colours');
  for (const b of bufs) {
    const want = b.name === 'C' ? shape.acc ?? shape.type : shape.type;
    if (b.buf.type !== want || b.buf.length < b.elems) {
      throw diag('W3007', `${name} GEMM ${env.loc}: buffer ${b.buf.name} (${b.name}) holds ${b.buf.length} × ${b.buf.type}, its tile needs ${b.elems} × ${want}`,
        env.loc, 'declare the operand buffers with the GEMM\'s element type and tile size');
    }
  }
}

/**
 * Emits Cannon ('cannon') or MeshGEMM ('meshgemm') into env.region. Returns the routes, the scratch
 * buffers and the exact timing (gemm-ring-cost.ts).
 */
export function emitRingGemm(env: KernelEnv, kind: RingKind, shape: GemmShape, bufs: GemmBuffers, opts: RingGemmOptions): EmittedKernel & { parts: RingCostParts } {
  const { P, type } = shape;
  const { m, k, n } = tiles(shape);
  checkGemmCall(env, kind, shape, ringColoursNeeded(kind, P, opts.skew),
    [{ name: 'A', buf: bufs.A, elems: m * k }, { name: 'B', buf: bufs.B, elems: k * n }, { name: 'C', buf: bufs.C, elems: m * n }]);
  const cost = ringCost(kind, shape, env.target, opts);
  const rb = env.region;
  const { A, B, C } = bufs;
  rb.setLoc(env.loc);
  const result = (routes: KernelRoute[], scratch: BufferRef[]) => ({ routes, scratch, cycles: cost.cycles, finish: cost.finish, parts: cost });
  if (P === 1) {
    rb.matmul(C, A, B, m, k, n);
    return result([], []);
  }
  const fig = cost.figures;
  const A2 = scratchBuffer(env, `${env.loc}.A2`, type, A.length);
  const B2 = scratchBuffer(env, `${env.loc}.B2`, type, B.length);
  const r = ringOf(kind, P);
  const nc = r.colourCount;
  const have = env.colours.colours;
  const fwdA = have.slice(0, nc), fwdB = have.slice(nc, 2 * nc);
  const routes: KernelRoute[] = [...ringRoutes(r, 'x', 1, fwdA), ...ringRoutes(r, 'y', 1, fwdB)];
  const fa = slotExprs(r, X, 1), fb = slotExprs(r, Y, 1);
  const cA = colourExpr(fa.send, fwdA), cAr = colourExpr(fa.recv, fwdA);
  const cB = colourExpr(fb.send, fwdB), cBr = colourExpr(fb.recv, fwdB);
  const mk = m * k, kn = k * n;

  let fixA: Expr = 0, fixB: Expr = 0;
  if (opts.skew === 'data' && cost.skewRounds > 0) {
    const bwdA = have.slice(2 * nc, 3 * nc), bwdB = have.slice(3 * nc, 4 * nc);
    routes.push(...ringRoutes(r, 'x', -1, bwdA), ...ringRoutes(r, 'y', -1, bwdB));
    const ba = slotExprs(r, X, -1), bb = slotExprs(r, Y, -1);
    const sa = skewExprs(kind, P, Y), sb = skewExprs(kind, P, X);
    const sendA = select(sa.backward, colourExpr(ba.send, bwdA), cA), recvA = select(sa.backward, colourExpr(ba.recv, bwdA), cAr);
    const sendB = select(sb.backward, colourExpr(bb.send, bwdB), cB), recvB = select(sb.backward, colourExpr(bb.recv, bwdB), cBr);
    // A skipped instruction costs nothing: a delay of its cost where it is skipped keeps every core in lock step.
    const orPad = (body: BodyBuilder, guard: Expr, cycles: number) => { if (cycles > 0) body.delay(cycles, { guard: eq(guard, 0) }); };
    rb.loop(cost.skewRounds, (body, t) => {
      const gA = lt(t, sa.steps), gB = lt(t, sb.steps);
      body.recv(A2, mk, recvA, { guard: gA }); orPad(body, gA, fig.post);
      body.recv(B2, kn, recvB, { guard: gB }); orPad(body, gB, fig.post);
      body.send(A, mk, sendA, { guard: gA }); orPad(body, gA, fig.post);
      if (cost.gap > 0) body.delay(cost.gap);
      body.send(B, kn, sendB, { guard: gB }); orPad(body, gB, fig.post);
      if (cost.skewPad > 0) body.delay(cost.skewPad);
      body.wait();
      body.swap(A, A2, { guard: gA }); orPad(body, gA, fig.issue);
      body.swap(B, B2, { guard: gB }); orPad(body, gB, fig.issue);
    });
    fixA = sa.odd;
    fixB = sb.odd;
  }

  const step = (body: BodyBuilder, cur: [BufferRef, BufferRef], nxt: [BufferRef, BufferRef], accumulate: boolean, pad: number) => {
    body.recv(nxt[0], mk, cAr);
    body.recv(nxt[1], kn, cBr);
    body.send(cur[0], mk, cA);
    if (cost.gap > 0) body.delay(cost.gap);
    body.send(cur[1], kn, cB);
    body.matmul(C, cur[0], cur[1], m, k, n, { accumulate });
    if (pad > 0) body.delay(pad);
    body.wait();
  };
  const even: [BufferRef, BufferRef] = [A, B], odd: [BufferRef, BufferRef] = [A2, B2];
  step(rb, even, odd, false, cost.pad0);
  if (cost.pairs > 0) {
    rb.loop(cost.pairs, (body) => {
      step(body, odd, even, true, cost.pad1);
      step(body, even, odd, true, cost.pad1);
    });
  }
  if (cost.extraStep) step(rb, odd, even, true, cost.pad1);
  const last = (P - 1) % 2 === 0 ? even : odd;
  rb.matmul(C, last[0], last[1], m, k, n, { accumulate: true });
  if (fixA !== 0) rb.swap(A, A2, { guard: fixA });
  if (fixB !== 0) rb.swap(B, B2, { guard: fixB });
  return result(routes, [A2, B2]);
}
