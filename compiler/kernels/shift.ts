/**
 * The tile shift between regions: on a region 2P cores wide (P stages side by side along x, as the
 * pipeline stages of distributed mode are), every core (x, y) with x < P sends its tile `src` (n
 * elements) to core (x + P, y), which ends with it in `dst`. All P flows of a row cross the link
 * between columns P − 1 and P, so the transfer is bandwidth-bound; it is done as P rounds of
 * neighbour hops on one colour (rule ramp → east on columns 0 … 2P − 2, west → ramp on 1 … 2P − 1):
 *
 *   round r (0 ≤ r < P): the cores x ∈ [r, r + P) send the tile they hold one hop east, the cores
 *   x ∈ [r + 1, r + P] receive it.
 *
 * Round 0 sends from `src`, the last round receives into `dst`; tiles in transit alternate between two
 * scratch buffers T0, T1 (double buffering; the middle rounds run in a loop unrolled by two so the
 * buffers alternate without swaps, and every buffer keeps its binding). `src` is only read on
 * x < P and `dst` only written on x ≥ P, so they may exist only there (buffer guards).
 *
 * Static schedule: every core runs every round's instruction sequence, a skipped transfer replaced
 * by a `delay` of its posting cost, so all cores stay in lock step:
 *
 *   recv T′ (or delay post) | send T (or delay post) | delay pad | wait
 *
 * With post = issue + comm, the receives are posted at post and the sends at 2·post, so every stream
 * starts at 2·post (its links were freed by the previous round's wait) and its receive completes at
 * 2·post + 2ρ + α + D (D: the stream's link cycles). The pad, max(0, 2ρ + α + D − issue), makes every
 * core's wait end at the same cycle, so a round takes
 *
 *   R = 2·post + max(issue, 2ρ + α + D)
 *
 * and the kernel, with Q = ⌊(P − 2) / 2⌋ loop iterations (two middle rounds each, `loop` overhead per
 * iteration, one issue for the loop itself when Q > 0),
 *
 *   cycles = P·R + (Q > 0 ? issue + Q·loop : 0),   finish = cycles on every core.
 *
 * docs/kernels-gemm.md ("Tile shift between regions") describes it; test/kernels-shift.test.ts checks
 * that the emulator measures exactly this.
 */
import { diag } from '../../ir/diagnostics.js';
import { add, and, eq, ge, le, lt, mul, X, type BodyBuilder, type BufferRef } from '../../ir/program-builder.js';
import type { Expr, MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { EmittedKernel, KernelEnv, KernelRoute } from './kernel.js';
import { scratchBuffer } from './kernel.js';
import { arrivalOffset, postOffset, streamCycles } from './timing.js';

/** The shift: P columns per stage, n elements of `type` per tile. */
export interface ShiftShape {
  P: number;
  n: number;
  type: MemType;
}

/** Colours the shift uses. */
export const SHIFT_COLOURS = 1;

/** The parts of the shift's cost (all in cycles). */
export interface ShiftTiming {
  /** Posting offset of a transfer instruction (issue + comm). */
  post: number;
  /** Delay before each round's wait. */
  pad: number;
  /** One round. */
  round: number;
  /** Iterations of the loop over the middle rounds (two rounds each), and whether one more follows it. */
  pairs: number;
  extraRound: boolean;
  cycles: number;
}

/** The exact timing of emitShiftEast(s) on `target` (the formulas of the file's overview). */
export function shiftTiming(target: Target, s: ShiftShape): ShiftTiming {
  const I = target.overhead.issue;
  const post = postOffset(target);
  const arrive = arrivalOffset(target, 1) + streamCycles(target, s.type, s.n);
  const pad = Math.max(0, arrive - I);
  const round = 2 * post + Math.max(I, arrive);
  const middle = Math.max(0, s.P - 2);
  const pairs = Math.floor(middle / 2);
  const extraRound = middle % 2 === 1;
  const cycles = s.P * round + (pairs > 0 ? I + pairs * target.overhead.loop : 0);
  return { post, pad, round, pairs, extraRound, cycles };
}

/** Predicted cycles of emitShiftEast(s) on `target`. */
export function shiftEastCost(target: Target, s: ShiftShape): number {
  return shiftTiming(target, s).cycles;
}

/** The shift's route rules on `colour`, relative to its region (width 2P). */
export function shiftRoutes(colour: number, P: number): KernelRoute[] {
  return [
    { colour, input: 'ramp', outputs: ['east'], guard: lt(X, 2 * P - 1) },
    { colour, input: 'west', outputs: ['ramp'], guard: and(ge(X, 1), lt(X, 2 * P)) },
  ];
}

function checkShift(env: KernelEnv, s: ShiftShape, src: BufferRef, dst: BufferRef): void {
  const where = `shift ${env.loc}`;
  if (!Number.isInteger(s.P) || s.P < 1 || !Number.isInteger(s.n) || s.n < 1) {
    throw diag('W3007', `${where}: P = ${s.P} and n = ${s.n} must be positive integers`, env.loc, 'give the stage width and the tile size');
  }
  if (env.width < 2 * s.P) {
    throw diag('W3007', `${where}: the region is ${env.width} cores wide, the shift by P = ${s.P} needs ${2 * s.P}`, env.loc,
      'emit the shift on the two stages it connects (a region 2P cores wide)');
  }
  if (env.colours.colours.length < SHIFT_COLOURS) throw diag('W3007', `${where} needs ${SHIFT_COLOURS} colour, none was given`, env.loc, 'hand the kernel a colour');
  for (const [role, b] of [['src', src], ['dst', dst]] as const) {
    if (b.type !== s.type || b.length < s.n) {
      throw diag('W3007', `${where}: buffer ${b.name} (${role}) holds ${b.length} × ${b.type}, the tile is ${s.n} × ${s.type}`, env.loc,
        'declare the tile buffers with the shift\'s element type and tile size');
    }
  }
}

/**
 * Emits the shift into env.region: after it, each core x ∈ [P, 2P) holds in `dst` the `src` tile of
 * core x − P (same row). Returns its route (one colour), scratch and exact timing.
 */
export function emitShiftEast(env: KernelEnv, s: ShiftShape, src: BufferRef, dst: BufferRef): EmittedKernel {
  checkShift(env, s, src, dst);
  const { P, n } = s;
  const t = shiftTiming(env.target, s);
  const colour = env.colours.colours[0];
  const rb = env.region;
  rb.setLoc(env.loc);
  // A skipped transfer costs nothing: a delay of its posting cost where it is skipped keeps the lock step.
  const orPad = (body: BodyBuilder, guard: Expr) => { if (t.post > 0) body.delay(t.post, { guard: eq(guard, 0) }); };
  const round = (body: BodyBuilder, r: Expr, from: BufferRef, to: BufferRef) => {
    const sends = and(ge(X, r), lt(X, add(r, P)));
    const recvs = and(ge(X, add(r, 1)), le(X, add(r, P)));
    body.recv(to, n, colour, { guard: recvs }); orPad(body, recvs);
    body.send(from, n, colour, { guard: sends }); orPad(body, sends);
    if (t.pad > 0) body.delay(t.pad);
    body.wait();
  };
  if (P === 1) {
    round(rb, 0, src, dst);
    return { routes: shiftRoutes(colour, P), scratch: [], cycles: t.cycles, finish: t.cycles };
  }
  const T0 = scratchBuffer(env, `${env.loc}.T0`, s.type, n);
  const T1 = scratchBuffer(env, `${env.loc}.T1`, s.type, n);
  round(rb, 0, src, T0);
  if (t.pairs > 0) {
    rb.loop(t.pairs, (body, q) => {
      round(body, add(mul(q, 2), 1), T0, T1);
      round(body, add(mul(q, 2), 2), T1, T0);
    });
  }
  if (t.extraRound) round(rb, P - 2, T0, T1);
  round(rb, P - 1, t.extraRound ? T1 : T0, dst);
  return { routes: shiftRoutes(colour, P), scratch: [T0, T1], cycles: t.cycles, finish: t.cycles };
}
