/**
 * SUMMA: for step s = 0 … P − 1, the cores of column s broadcast their A tile along their row, the
 * cores of row s broadcast their B tile down their column, and every core does C += A_s·B_s (with
 * its own tile where it is the root). Double-buffered: while step s multiplies, step s + 1's tiles
 * move into the other half of the receive buffers. Inputs in the block layout; no alignment.
 *
 * Colours: two (one per axis), whatever P is. A broadcast from any root uses the same static rules:
 * a wavelet leaving the root's ramp goes both ways, one entering from the west continues east and is
 * delivered, one entering from the east continues west and is delivered (the ends deliver only).
 *
 * Static schedule. In a phase (root r), every core posts exactly one A operation (recv, or send at
 * the root) at offset post and one B operation at 2·post (+1 when post = 0, so A streams always
 * start first), then multiplies, then a `delay` pads the step to the latest transfer completion and
 * the `wait` never blocks. With D_A, D_B the streams' durations and d = max(r, P − 1 − r) the
 * farthest distance from the root: the A broadcasts start at post; the B broadcast of column x must
 * enter each destination's down-ramp after that core's A stream left it, so it starts at
 * max(2·post, post + D_A + max(0, |x − r| − 1)·α); the latest completion is at the corner core d
 * away along both axes:
 *
 *   Wc(r) = 2·ramp + d·α + D_B + max(2·post, post + D_A + (d − 1)·α)
 *
 * and a step multiplying mm cycles while phase r moves takes max(2·post + 2·issue + mm, Wc(r)).
 *
 *   prologue       phase(r = 0), delay, wait
 *   step 0         phase(r = 1), C = A₀·B₀, delay, wait
 *   steps 1…P−2    phase(r = s + 1), C += A_s·B_s, delay, wait      (a loop; the delay depends on s)
 *   step P − 1     C += A_{P−1}·B_{P−1}
 */
import { add, and, eq, max, mod, mul, ne, sub, X, Y, type BodyBuilder, type BufferRef } from '../../ir/program-builder.js';
import type { Expr } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { figures, matmulCost, streamCycles, tiles, type Figures, type GemmShape } from './gemm.js';
import { lineBroadcastRoutes } from './broadcast.js';
import { checkGemmCall, type GemmBuffers } from './gemm-ring.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export function summaColoursNeeded(P: number): number {
  return P === 1 ? 0 : 2;
}

export interface SummaCostParts {
  figures: Figures;
  cycles: number;
  finish: Expr;
  /** Extra delay before the B operation (1 when post = 0). */
  gap: number;
  /** Latest transfer completion of the phase with root r, from the phase's first issue. */
  worstComm(r: number): number;
  /** Delay padding of a step multiplying `mm` cycles while phase r moves (the prologue: mm = −issue). */
  pad(r: number, mm: number): number;
  mm0: number;
  mm1: number;
  computeCoreCycles: number;
  matmulCoreCycles: number;
}

/** The exact cost of emitSumma(shape) on `target`. */
export function summaCost(shape: GemmShape, target: Target): SummaCostParts {
  const { P, type } = shape;
  const { m, k, n } = tiles(shape);
  const f = figures(target, type, shape.acc);
  const { issue: I, post, loop: Lp, hop: a } = f;
  const mm0 = matmulCost(f, m, k, n, false), mm1 = matmulCost(f, m, k, n, true);
  const matmulCore = I + mm0 + (P - 1) * (I + mm1);
  const DA = streamCycles(f, type, m * k), DB = streamCycles(f, type, k * n);
  const gap = post === 0 ? 1 : 0;
  const worstComm = (r: number) => {
    const d = Math.max(r, P - 1 - r);
    return 2 * f.ramp + d * a + DB + Math.max(2 * post + gap, post + DA + (d - 1) * a);
  };
  const fixed = (mm: number) => 2 * post + gap + 2 * I + mm;
  const step = (r: number, mm: number) => Math.max(fixed(mm), worstComm(r));
  const pad = (r: number, mm: number) => step(r, mm) - fixed(mm);
  const parts = { figures: f, gap, worstComm, pad, mm0, mm1, matmulCoreCycles: P * P * matmulCore };
  if (P === 1) return { ...parts, cycles: I + mm0, finish: I + mm0, computeCoreCycles: I + mm0 };
  let cycles = step(0, -I) + step(1, mm0);
  if (P > 2) {
    cycles += I;
    for (let s = 1; s <= P - 2; s++) cycles += Lp + step(s + 1, mm1);
  }
  cycles += I + mm1;
  const compute = matmulCore + (P > 2 ? I + (P - 2) * Lp : 0);
  return { ...parts, cycles, finish: cycles, computeCoreCycles: P * P * compute };
}

/** Emits SUMMA into env.region. */
export function emitSumma(env: KernelEnv, shape: GemmShape, bufs: GemmBuffers): EmittedKernel & { parts: SummaCostParts } {
  const { P, type } = shape;
  const { m, k, n } = tiles(shape);
  const mk = m * k, kn = k * n;
  checkGemmCall(env, 'summa', shape, summaColoursNeeded(P),
    [{ name: 'A', buf: bufs.A, elems: mk }, { name: 'B', buf: bufs.B, elems: kn }, { name: 'C', buf: bufs.C, elems: m * n }]);
  const cost = summaCost(shape, env.target);
  const rb = env.region;
  const { A, B, C } = bufs;
  rb.setLoc(env.loc);
  const done = (routes: KernelRoute[], scratch: BufferRef[]) => ({ routes, scratch, cycles: cost.cycles, finish: cost.finish, parts: cost });
  if (P === 1) {
    rb.matmul(C, A, B, m, k, n);
    return done([], []);
  }
  const f = cost.figures;
  // Received tiles, two slots each: step s multiplies slot s mod 2 while slot (s + 1) mod 2 fills.
  const Ar = scratchBuffer(env, `${env.loc}.Ar`, type, 2 * mk);
  const Br = scratchBuffer(env, `${env.loc}.Br`, type, 2 * kn);
  const [cRow, cCol] = env.colours.colours;
  const routes = [...lineBroadcastRoutes(cRow, 'x'), ...lineBroadcastRoutes(cCol, 'y')];

  /** Posts the broadcasts of root r into slot `slot`. */
  const phase = (body: BodyBuilder, r: Expr, slot: Expr) => {
    body.recv(Ar.at(mul(slot, mk)), mk, cRow, { guard: ne(X, r) });
    body.send(A, mk, cRow, { guard: eq(X, r) });
    if (cost.gap > 0) body.delay(cost.gap);
    body.recv(Br.at(mul(slot, kn)), kn, cCol, { guard: ne(Y, r) });
    body.send(B, kn, cCol, { guard: eq(Y, r) });
  };
  /** C (+)= A_s·B_s, the core's own tiles where it is the root of step s. */
  const multiply = (body: BodyBuilder, s: Expr, slot: Expr, accumulate: boolean) => {
    const a = Ar.at(mul(slot, mk)), b = Br.at(mul(slot, kn));
    body.matmul(C, a, b, m, k, n, { accumulate, guard: and(ne(X, s), ne(Y, s)) });
    body.matmul(C, A, b, m, k, n, { accumulate, guard: and(eq(X, s), ne(Y, s)) });
    body.matmul(C, a, B, m, k, n, { accumulate, guard: and(ne(X, s), eq(Y, s)) });
    body.matmul(C, A, B, m, k, n, { accumulate, guard: and(eq(X, s), eq(Y, s)) });
  };
  const padFor = (r: number, mm: number) => cost.pad(r, mm);

  phase(rb, 0, 0);
  if (padFor(0, -f.issue) > 0) rb.delay(padFor(0, -f.issue));
  rb.wait();
  phase(rb, 1, 1);
  multiply(rb, 0, 0, false);
  if (padFor(1, cost.mm0) > 0) rb.delay(padFor(1, cost.mm0));
  rb.wait();
  if (P > 2) {
    let anyPad = false;
    for (let s = 1; s <= P - 2; s++) anyPad ||= padFor(s + 1, cost.mm1) > 0;
    rb.loop(P - 2, (body, i) => {
      const s = add(i, 1), r = add(i, 2);
      phase(body, r, mod(r, 2));
      multiply(body, s, mod(s, 2), true);
      if (anyPad) body.delay(padExpr(f, shape, r, cost.mm1, cost.gap));
      body.wait();
    });
  }
  multiply(rb, P - 1, (P - 1) % 2, true);
  return done(routes, [Ar, Br]);
}

/** cost.pad(r, mm) as an expression of the root r (summaCost's worstComm, written with max). */
function padExpr(f: Figures, shape: GemmShape, r: Expr, mm: number, gap: number): Expr {
  const { P, type } = shape;
  const { m, k, n } = tiles(shape);
  const DA = streamCycles(f, type, m * k), DB = streamCycles(f, type, k * n);
  const d = max(r, sub(P - 1, r));
  const worst = add(2 * f.ramp + DB, mul(f.hop, d), max(2 * f.post + gap, add(f.post + DA - f.hop, mul(f.hop, d))));
  return max(0, sub(worst, 2 * f.post + gap + 2 * f.issue + mm));
}
