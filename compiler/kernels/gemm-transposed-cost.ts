/**
 * The exact cost of the transposed GEMM as gemm-transposed.ts emits it (docs/kernels-gemm.md
 * derives each term from docs/runtime-model.md).
 *
 * Chains. A chain of L cores toward a root starts when its last member has posted (all post at the
 * same offset) and its links are free; its streams start in lock step, the one leaving member i at
 * t + i·c with c = 2·ramp + α + β (a hop, two ramps and the relay), so the root's receive completes
 * at t + (L − 1)·c + 2·ramp + α + D_T (D_T: the partial's stream duration). Where both chains reach
 * the root, the west chain's last stream may not enter the root's down-ramp before the east one has
 * left it: t_W ≥ t_E + (L_E − L_W)·c + D_T. In the middle steps the B shift (posted first, starting
 * at 2·post) holds every core's up-ramp for D_B cycles and its down-ramp for D_B cycles from
 * 2·post + ramp + h_B·α, so a chain cannot start before K = 2·post + D_B + (h_B − 1)·α (its first
 * stream's up-ramp, its second member's down-ramp); the schedule takes h_B = H (the ring's longest
 * edge) for every row, an upper bound that every step's padding covers.
 *
 * Every step has a row whose root is x = 0 (one west chain of P − 1) and one whose root is
 * x = P − 1, so the latest completion of a step's chains is the same every step:
 *   Wchain(t_E, t_W) = 2·ramp + α + D_T + max(t_W + (P − 2)·c, t_E + (P − 3)·c + D_T [P ≥ 3]).
 */
import { binaryCycles, lanesFor } from '../../ir/program-cost.js';
import type { Expr } from '../../ir/program.js';
import { add, lt, select, X } from '../../ir/program-builder.js';
import type { Target } from '../../ir/target.js';
import { figures, matmulCost, streamCycles, tiles, type Figures, type GemmShape } from './gemm.js';
import { maxHops, meshgemmRing } from './gemm-rings.js';

export interface TransposedCostParts {
  figures: Figures;
  cycles: number;
  /** Each core's finish: the core of column P − 1 has no west sum to add. */
  finish: Expr;
  /** Extra delay between the groups of postings (1 when post = 0, so the groups start in order). */
  gap: number;
  pad0: number;
  padMid: number;
  padLast: number;
  padEpilogue: number;
  computeCoreCycles: number;
  matmulCoreCycles: number;
}

export function transposedCost(shape: GemmShape, target: Target): TransposedCostParts {
  const { P, type } = shape;
  const acc = shape.acc ?? type;
  const { m, k, n } = tiles(shape);
  const f = figures(target, type, acc);
  const { issue: I, post, loop: Lp, ramp, hop: a } = f;
  const mm = matmulCost(f, m, k, n, false);
  const parts = { figures: f, matmulCoreCycles: P * P * P * (I + mm) };
  if (P === 1) {
    return { ...parts, cycles: I + mm, finish: I + mm, gap: 0, pad0: 0, padMid: 0, padLast: 0, padEpilogue: 0, computeCoreCycles: I + mm };
  }
  const gap = post === 0 ? 1 : 0;
  // Partial sums travel in the accumulation type, B tiles in the operands'.
  const DT = streamCycles(f, acc, m * n), DB = streamCycles(f, type, n * k);
  const c = 2 * ramp + a + f.relay;
  const H = maxHops(meshgemmRing(P));
  const shiftWorst = 2 * post + 2 * ramp + H * a + DB;
  const chainWorst = (tE: number, tW: number) =>
    2 * ramp + a + DT + Math.max(tW + (P - 2) * c, P >= 3 ? tE + (P - 3) * c + DT : -Infinity);
  const K = 2 * post + DB + (H - 1) * a;
  const worstMid = Math.max(shiftWorst, chainWorst(Math.max(3 * post + gap, K), Math.max(4 * post + 2 * gap, K)));
  const worstLast = chainWorst(post, 2 * post + gap);

  const fixed0 = 2 * post + 2 * I + mm, fixedMid = 4 * post + 2 * gap + 2 * I + mm;
  const fixedLast = 2 * post + gap + 2 * I + mm, fixedEpi = 2 * post + gap + I;
  const step0 = Math.max(fixed0, shiftWorst), stepMid = Math.max(fixedMid, worstMid);
  const stepLast = Math.max(fixedLast, worstLast), stepEpi = Math.max(fixedEpi, worstLast);
  const add_ = I + binaryCycles(m, n, m * n, false, lanesFor(target, [acc, acc], acc), f.R, f.W);
  const fix = (P - 1) % 2 === 1 ? I : 0;
  const base = step0 + I + (P > 2 ? I + (P - 2) * (Lp + stepMid + I) : 0) + stepLast + stepEpi;
  const perCore = P * (I + mm) + (P - 1) * I + fix + (P > 2 ? I + (P - 2) * Lp : 0);
  return {
    ...parts,
    cycles: base + add_ + fix,
    finish: add(base + fix, select(lt(X, P - 1), add_, 0)),
    gap,
    pad0: step0 - fixed0,
    padMid: stepMid - fixedMid,
    padLast: stepLast - fixedLast,
    padEpilogue: stepEpi - fixedEpi,
    computeCoreCycles: P * P * perCore + P * (P - 1) * add_,
  };
}
