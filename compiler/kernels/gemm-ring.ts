/**
 * Cannon and MeshGEMM: the compute-shift GEMM on a ring per axis (gemm-rings.ts). Every core holds
 * one A tile and one B tile whose contraction blocks agree; P times it multiplies them into its C
 * tile while (except the last time) the A tile moves one ring step along x and the B tile one along
 * y into spare buffers (double buffering), then the buffers swap.
 *
 * Alignment ("skew"): tile labels. The A tile a core (x, y) holds at step s has the contraction
 * block at((pos(x) + pos(y) + c − s) mod P) and so has its B tile (c = 1 for Cannon, which makes the
 * block the textbook (x + y + s) mod P; 0 for MeshGEMM). With skew 'tiling' the inputs arrive so
 * (a legitimate layout for weights, which are placed once); with skew 'data' they arrive in the
 * block layout (A tile (y, x), B tile (y, x)) and the kernel first moves them — row y of A by
 * pos(y) + c ring steps backward, column x of B by pos(x) + c, each in the shorter direction — in
 * rounds of one ring step.
 *
 * Code per core (the cost model in gemm-ring-cost.ts follows this order exactly):
 *   [skew rounds]  recv A′, recv B′, send A, send B, wait, swap A A′, swap B B′   (guarded per line)
 *   step 0:        recv A′, recv B′, send A, send B, C = A·B, wait, swap, swap
 *   loop P − 2:    recv A′, recv B′, send A, send B, C += A·B, wait, swap, swap
 *   last step:     C += A·B
 *   [a final swap pair where a core swapped an odd number of times, so the caller's buffers are bound
 *    as they were: the kernel consumes A and B but leaves their names pointing at their own bytes]
 * Receives are posted before sends so that, in lock step, every stream finds its receive posted.
 */
import { add, eq, lt, mod, ne, select, sub, X, Y, type BodyBuilder, type BufferRef } from '../../ir/program-builder.js';
import type { Expr } from '../../ir/program.js';
import { checkGemmShape, tiles, type GemmShape } from './gemm.js';
import { cannonRing, meshgemmRing, ringRoutes, type Ring, type RingKind } from './gemm-rings.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { diag } from '../../ir/diagnostics.js';

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

/** The ring kernel's label offset c (see the overview). */
export function labelOffset(kind: RingKind): number {
  return kind === 'cannon' ? 1 : 0;
}

export function ringOf(kind: RingKind, P: number): Ring {
  return kind === 'cannon' ? cannonRing(P) : meshgemmRing(P);
}

/** Colours a ring GEMM needs: one set per axis for the shifts, and one more per axis for a data skew. */
export function ringColoursNeeded(kind: RingKind, P: number, skew: Skew): number {
  if (P === 1) return 0;
  const per = ringOf(kind, P).colourCount;
  return (skew === 'data' ? 4 : 2) * per;
}

/** Contraction block of the tiles core (x, y) holds at step s (numbers). */
export function blockAt(kind: RingKind, P: number, x: number, y: number, s: number): number {
  const r = ringOf(kind, P);
  return r.at((((r.pos(x) + r.pos(y) + labelOffset(kind) - s) % P) + P) % P);
}

/** The same as an expression of the core's x, y (step 0): where a 'tiling' skew puts the tiles. */
export function blockExpr(kind: RingKind, P: number): Expr {
  const r = ringOf(kind, P);
  return r.atExpr(mod(add(r.posExpr(X), r.posExpr(Y), labelOffset(kind)), P));
}

/**
 * Skew of one line (row y for A, column x for B): the ring steps its tiles move, and the direction
 * (1 forward, −1 backward). The line must rotate backward by b = (pos(line) + c) mod P; forward by
 * P − b is the same rotation, taken when shorter.
 */
export function skewMoves(kind: RingKind, P: number, line: number): { steps: number; dir: 1 | -1 } {
  const r = ringOf(kind, P);
  const b = (r.pos(line) + labelOffset(kind)) % P;
  return b <= P - b ? { steps: b, dir: -1 } : { steps: P - b, dir: 1 };
}

function skewExprs(kind: RingKind, P: number, line: Expr): { steps: Expr; backward: Expr } {
  const r = ringOf(kind, P);
  const b = mod(add(r.posExpr(line), labelOffset(kind)), P);
  // b ≤ P − b ⇔ 2b ≤ P
  const back = lt(add(b, b), P + 1);
  return { steps: select(back, b, sub(P, b)), backward: back };
}

/** Expression of the core a ring step in direction dir sends core `i`'s tile to, and receives from. */
function neighbourExprs(r: Ring, i: Expr, dir: 1 | -1): { slotSend: Expr; slotRecv: Expr } {
  const P = r.P;
  const to = r.atExpr(mod(add(r.posExpr(i), dir === 1 ? 1 : P - 1), P));
  const from = r.atExpr(mod(add(r.posExpr(i), dir === 1 ? P - 1 : 1), P));
  // Forward edges use their sender's slot; a backward edge is a forward edge reversed and keeps its slot.
  return dir === 1 ? { slotSend: r.slotExpr(i), slotRecv: r.slotExpr(from) } : { slotSend: r.slotExpr(to), slotRecv: r.slotExpr(i) };
}

function colourExpr(slot: Expr, colours: readonly number[]): Expr {
  if (colours.length === 1) return colours[0];
  let e: Expr = colours[colours.length - 1];
  for (let q = colours.length - 2; q >= 0; q--) e = select(eq(slot, q), colours[q], e);
  return e;
}

/** Emits Cannon or MeshGEMM into env.region; returns its routes and exact timing (gemm-ring-cost.ts). */
export function emitRingGemm(env: KernelEnv, kind: RingKind, shape: GemmShape, bufs: GemmBuffers, opts: RingGemmOptions,
  cost: (kind: RingKind, shape: GemmShape, opts: RingGemmOptions) => { cycles: number; finish: Expr }): EmittedKernel {
  checkGemmShape(shape, env.loc);
  const { P, type } = shape;
  if (env.width !== P || env.height !== P) {
    throw diag('W3002', `${kind} GEMM ${env.loc}: the region is ${env.width}×${env.height} cores, the kernel needs ${P}×${P}`, env.loc, 'give the kernel a square region of side P');
  }
  const { m, k, n } = tiles(shape);
  const need = ringColoursNeeded(kind, P, opts.skew);
  const have = env.colours.colours;
  if (have.length < need) {
    throw diag('W3002', `${kind} GEMM ${env.loc} needs ${need} colours, ${have.length} were given`, env.loc, 'hand the kernel more colours, or use a tiling skew');
  }
  const rb = env.region;
  const { A, B, C } = bufs;
  for (const [name, b, len] of [['A', A, m * k], ['B', B, k * n], ['C', C, m * n]] as const) {
    if (b.type !== type || b.length < len) {
      throw diag('W3002', `${kind} GEMM ${env.loc}: buffer ${b.name} (${name}) is ${b.length} × ${b.type}, the tile needs ${len} × ${type}`, env.loc);
    }
  }
  rb.setLoc(env.loc);
  if (P === 1) {
    rb.matmul(C, A, B, m, k, n);
    return { routes: [], scratch: [], ...cost(kind, shape, opts) };
  }
  const A2 = rb.buffer(`${env.loc}.A2`, type, A.length);
  const B2 = rb.buffer(`${env.loc}.B2`, type, B.length);
  const r = ringOf(kind, P);
  const nc = r.colourCount;
  const fwdA = have.slice(0, nc), fwdB = have.slice(nc, 2 * nc);
  const bwdA = have.slice(2 * nc, 3 * nc), bwdB = have.slice(3 * nc, 4 * nc);
  const routes: KernelRoute[] = [...ringRoutes(r, 'x', 1, fwdA), ...ringRoutes(r, 'y', 1, fwdB)];
  const fa = neighbourExprs(r, X, 1), fb = neighbourExprs(r, Y, 1);
  const cA = colourExpr(fa.slotSend, fwdA), cAr = colourExpr(fa.slotRecv, fwdA);
  const cB = colourExpr(fb.slotSend, fwdB), cBr = colourExpr(fb.slotRecv, fwdB);
  // Swaps per core so far, as an expression (for the final fix-up): P − 1 main steps plus skew rounds.
  let parityA: Expr = (P - 1) % 2, parityB: Expr = (P - 1) % 2;

  if (opts.skew === 'data') {
    routes.push(...ringRoutes(r, 'x', -1, bwdA), ...ringRoutes(r, 'y', -1, bwdB));
    const ba = neighbourExprs(r, X, -1), bbk = neighbourExprs(r, Y, -1);
    const sa = skewExprs(kind, P, Y), sb = skewExprs(kind, P, X);
    let rounds = 0;
    for (let line = 0; line < P; line++) rounds = Math.max(rounds, skewMoves(kind, P, line).steps);
    const sendA = select(sa.backward, colourExpr(ba.slotSend, bwdA), cA), recvA = select(sa.backward, colourExpr(ba.slotRecv, bwdA), cAr);
    const sendB = select(sb.backward, colourExpr(bbk.slotSend, bwdB), cB), recvB = select(sb.backward, colourExpr(bbk.slotRecv, bwdB), cBr);
    if (rounds > 0) {
      rb.loop(rounds, (body, t) => {
        const gA = lt(t, sa.steps), gB = lt(t, sb.steps);
        body.recv(A2, m * k, recvA, { guard: gA });
        body.recv(B2, k * n, recvB, { guard: gB });
        body.send(A, m * k, sendA, { guard: gA });
        body.send(B, k * n, sendB, { guard: gB });
        body.wait();
        body.swap(A, A2, { guard: gA });
        body.swap(B, B2, { guard: gB });
      });
    }
    parityA = mod(add(parityA, sa.steps), 2);
    parityB = mod(add(parityB, sb.steps), 2);
  }

  const step = (body: BodyBuilder, accumulate: boolean) => {
    body.recv(A2, m * k, cAr);
    body.recv(B2, k * n, cBr);
    body.send(A, m * k, cA);
    body.send(B, k * n, cB);
    body.matmul(C, A, B, m, k, n, { accumulate });
    body.wait();
    body.swap(A, A2);
    body.swap(B, B2);
  };
  step(rb, false);
  if (P > 2) rb.loop(P - 2, (body) => step(body, true));
  rb.matmul(C, A, B, m, k, n, { accumulate: true });
  const fixA = typeof parityA === 'number' ? parityA : ne(parityA, 0);
  const fixB = typeof parityB === 'number' ? parityB : ne(parityB, 0);
  if (fixA !== 0) rb.swap(A, A2, fixA === 1 ? undefined : { guard: fixA });
  if (fixB !== 0) rb.swap(B, B2, fixB === 1 ? undefined : { guard: fixB });
  return { routes, scratch: [A2, B2], ...cost(kind, shape, opts) };
}
