/**
 * The exact cost of Cannon and MeshGEMM as gemm-ring.ts emits them, from docs/runtime-model.md and
 * the target's figures (docs/kernels-gemm.md derives each term).
 *
 * In a shift step every core posts, at offsets post, 2·post, 3·post, 4·post (+ gap) from the step's
 * first issue: recv A′, recv B′, send A, send B (post = issue + comm; gap = 1 when post = 0, else 0,
 * so that the A streams always start before the B streams). Every receive is posted before any
 * send, so each stream starts when its send is posted unless a link is busy. The links a step uses:
 * each A edge its own horizontal links and each B edge its own vertical ones (the rings are laid out
 * so that no two edges share a link direction), plus the ramps: a core's up-ramp carries its A then
 * its B stream, its down-ramp the incoming A then B. So the A streams start at 3·post; a core's B
 * stream starts at max(4·post + gap, 3·post + D_A + max(0, h_A − h_B)·α), where D_A is the A stream's
 * duration and h_A, h_B the hops of the A and B edges into the B stream's destination (its down-ramp
 * is busy with the incoming A until then, and a later stream never goes before an earlier one).
 * The latest completion of any transfer of a step, over all cores, is therefore
 *
 *   Wc = 2·ramp + H·α + D_B + max(4·post + gap, 3·post + D_A)      (H: the ring's longest edge, in hops)
 *
 * (the core whose A and B edges both have H hops; the A receives and all sends end earlier). The
 * kernel pads each step with a delay so that its wait is issued no earlier than Wc − issue: then the
 * wait ends at max(4·post + gap + issue + mm + issue, Wc) on every core and the step takes
 *
 *   step(mm) = max(4·post + gap + 2·issue + mm, Wc).
 */
import { add, lt, mod, mul, ne, select, sub, X, Y } from '../../ir/program-builder.js';
import type { Expr } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { figures, matmulCost, streamCycles, tiles, type Figures, type GemmShape } from './gemm.js';
import { cannonRing, maxHops, meshgemmRing, type Ring, type RingKind } from './gemm-rings.js';

export function ringOf(kind: RingKind, P: number): Ring {
  return kind === 'cannon' ? cannonRing(P) : meshgemmRing(P);
}

/** The label offset c of the alignment (gemm-ring.ts overview). */
export function labelOffset(kind: RingKind): number {
  return kind === 'cannon' ? 1 : 0;
}

/**
 * Skew of one line (row y for A, column x for B): the ring steps its tiles move and the direction
 * (1 forward, −1 backward). The line rotates backward by b = (pos(line) + c) mod P, or forward by
 * P − b when that is shorter.
 */
export function skewMoves(kind: RingKind, P: number, line: number): { steps: number; dir: 1 | -1 } {
  const r = ringOf(kind, P);
  const b = (r.pos(line) + labelOffset(kind)) % P;
  return b <= P - b ? { steps: b, dir: -1 } : { steps: P - b, dir: 1 };
}

/** skewMoves as expressions of a core's coordinate, and whether the line moves an odd number of times. */
export function skewExprs(kind: RingKind, P: number, line: Expr): { steps: Expr; backward: Expr; odd: Expr } {
  const r = ringOf(kind, P);
  const b = mod(add(r.posExpr(line), labelOffset(kind)), P);
  const back = lt(add(b, b), P + 1); // b ≤ P − b
  const steps = select(back, b, sub(P, b));
  return { steps, backward: back, odd: ne(mod(steps, 2), 0) };
}

export interface RingCostParts {
  figures: Figures;
  /** Predicted cycles from the kernel's first instruction to the last core's finish. */
  cycles: number;
  /** Each core's finish (x, y): the same everywhere but for the final buffer-binding fix-up of a data skew. */
  finish: Expr;
  /** Extra delay before send B (1 when post = 0). */
  gap: number;
  /** Latest transfer completion of a step, from the step's first issue. */
  worstComm: number;
  /** Skew rounds (data skew) and the delay padding each. */
  skewRounds: number;
  skewPad: number;
  /** Delay padding of step 0 and of the later shift steps. */
  pad0: number;
  pad1: number;
  /** Iterations of the unrolled loop (two steps each) and whether one more step follows it. */
  pairs: number;
  extraStep: boolean;
  /** Core-cycles the emulator counts as compute (matmul, swap, loop overheads), summed over the P² cores. */
  computeCoreCycles: number;
  /** Core-cycles spent in matmul instructions, summed over the cores. */
  matmulCoreCycles: number;
}

/** The exact cost of emitRingGemm(kind, shape, opts) on `target`. */
export function ringCost(kind: RingKind, shape: GemmShape, target: Target, opts: { skew: 'tiling' | 'data' }): RingCostParts {
  const { P, type } = shape;
  const { m, k, n } = tiles(shape);
  const f = figures(target, type, shape.acc);
  const { issue: I, post, loop: Lp } = f;
  const mm0 = matmulCost(f, m, k, n, false), mm1 = matmulCost(f, m, k, n, true);
  const matmulCore = I + mm0 + (P - 1) * (I + mm1);
  if (P === 1) {
    return {
      figures: f, cycles: I + mm0, finish: I + mm0, gap: 0, worstComm: 0, skewRounds: 0, skewPad: 0, pad0: 0, pad1: 0, pairs: 0, extraStep: false,
      computeCoreCycles: I + mm0, matmulCoreCycles: I + mm0,
    };
  }
  const r = ringOf(kind, P);
  const DA = streamCycles(f, type, m * k), DB = streamCycles(f, type, k * n);
  // With post = 0 every posting would fall on one cycle; a 1-cycle gap before send B keeps the A
  // streams first on every link, as the formula assumes.
  const gap = post === 0 ? 1 : 0;
  const worstComm = 2 * f.ramp + maxHops(r) * f.hop + DB + Math.max(4 * post + gap, 3 * post + DA);
  const fixed = (mm: number) => 4 * post + gap + 2 * I + mm;
  const step = (mm: number) => Math.max(fixed(mm), worstComm);
  const pad0 = step(mm0) - fixed(mm0), pad1 = step(mm1) - fixed(mm1);
  const pairs = Math.floor((P - 2) / 2);
  const extraStep = (P - 2) % 2 === 1;

  // Main part: step 0, the unrolled loop of the P − 2 middle steps, the last matmul.
  const main = step(mm0) + (pairs > 0 ? I + pairs * (Lp + 2 * step(mm1)) : 0) + (extraStep ? step(mm1) : 0) + I + mm1;
  let compute = matmulCore + (pairs > 0 ? I + pairs * Lp : 0);
  const parts = { figures: f, gap, worstComm, pad0, pad1, pairs, extraStep, matmulCoreCycles: P * P * matmulCore };
  if (opts.skew === 'tiling') {
    return { ...parts, cycles: main, finish: main, skewRounds: 0, skewPad: 0, computeCoreCycles: P * P * compute };
  }
  // Data skew: R rounds of (4 postings or their padding, pad, wait, 2 swaps or their padding). The
  // A skew of row y and the B skew of column x are the same function of the line index.
  let skewRounds = 0, moves = 0, oddLines = 0;
  for (let line = 0; line < P; line++) {
    const s = skewMoves(kind, P, line).steps;
    skewRounds = Math.max(skewRounds, s);
    moves += s;
    oddLines += s % 2;
  }
  let t = 0, skewPad = 0;
  if (skewRounds > 0) {
    const round = Math.max(4 * post + gap + I, worstComm);
    skewPad = round - (4 * post + gap + I);
    t = I + skewRounds * (Lp + round + 2 * I);
    compute += I + skewRounds * Lp;
  }
  // Lines moved an odd number of times swap their buffers back at the end (A by row, B by column):
  // `issue` per swap a core runs; the latest cores run both.
  const sa = skewExprs(kind, P, Y), sb = skewExprs(kind, P, X);
  const base = t + main;
  return {
    ...parts,
    cycles: base + (oddLines > 0 ? 2 * I : 0),
    finish: oddLines > 0 ? add(base, mul(I, sa.odd), mul(I, sb.odd)) : base,
    skewRounds, skewPad,
    // Per line, its P cores run the line's swaps (skew moves and the fix-up), for A by rows and B by columns.
    computeCoreCycles: P * P * compute + 2 * P * I * (moves + oddLines),
  };
}
