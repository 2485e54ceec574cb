/**
 * The prefill layer on a P×P region (docs/llm-plan.md "Prefill layer"): activations [L, D] with L
 * split along y and D along x (sizes padded up to multiples of P, as the GEMM kernels require);
 * every projection a MeshGEMM (ringCost, data skew); attention per head on sub-squares of side
 * ⌊P/⌈√heads⌉⌋ — Q·Kᵀ by the transposed GEMM, causal softmax by allreduces along the sub-square's
 * rows, P·V by MeshGEMM — with the moves of Q/K/V to the sub-squares and of the output back counted
 * as transfers; norms by allreduce along x.
 */
import type { Target } from '../../ir/target.js';
import type { LlmConfig } from '../frontend/llm/config.js';
import { lmHeadSteps, normSteps, types, type PlanDtype } from './plan-decode.js';
import { allreduceStep, localStep, meshgemmStep, padTo, transferStep, transposedStep, type LayerStep, type LocalOp } from './plan-steps.js';

/** Tile sizes of the prefill layout at side P and prompt L. */
export interface PrefillLayout {
  P: number;
  Lp: number; Dp: number; Qp: number; KVp: number; Ip: number;
  /** Per-core tiles: lt = Lp/P rows; dt, qn, kn, in columns of x, q, k/v, the MLP. */
  lt: number; dt: number; qn: number; kn: number; in: number;
  /** Sub-squares for attention: g × g of side s; heads per sub-square (run one after another). */
  g: number; s: number; headsPerSquare: number;
  /** Padded sequence and head dim on a sub-square, and the sub-square's tiles. */
  Ls: number; hs: number; ls: number; hsT: number;
  /** Query rows are processed in `chunks` blocks of Lc rows (lc per core): the score tile is lc × ls. */
  chunks: number; Lc: number; lc: number;
}

/**
 * `chunks`: query-row blocks of the attention (1: the whole L × L score matrix at once). The planner
 * takes the fewest that let the stages fit (plan-phase.ts).
 */
export function prefillLayout(cfg: LlmConfig, P: number, L: number, chunks = 1): PrefillLayout {
  const Lp = padTo(L, P), Dp = padTo(cfg.hidden, P), Qp = padTo(cfg.heads * cfg.headDim, P), KVp = padTo(cfg.kvHeads * cfg.headDim, P), Ip = padTo(cfg.intermediate, P);
  const g = Math.min(Math.ceil(Math.sqrt(cfg.heads)), P);
  const s = Math.floor(P / g);
  const headsPerSquare = Math.ceil(cfg.heads / (g * g));
  const Ls = padTo(L, s), hs = padTo(cfg.headDim, s), ls = Ls / s;
  const lc = Math.ceil(ls / Math.min(Math.max(1, Math.floor(chunks)), ls));
  const nChunks = Math.ceil(ls / lc);
  return { P, Lp, Dp, Qp, KVp, Ip, lt: Lp / P, dt: Dp / P, qn: Qp / P, kn: KVp / P, in: Ip / P, g, s, headsPerSquare, Ls, hs, ls, hsT: hs / s, chunks: nChunks, Lc: lc * s, lc };
}

function round(rows: number, cols: number, dtype: PlanDtype, bias: boolean): LocalOp[] {
  const ops: LocalOp[] = [];
  if (dtype === 'f16') ops.push({ op: 'unary', fn: 'copy', n: rows * cols, src: 'f32', dst: 'f16' });
  if (bias) ops.push({ op: 'binary', rows, cols, bcast: 'row', a: dtype, b: dtype, dst: dtype });
  return ops;
}

/** The prefill layer's steps at side P for an L-token prompt (attention in `chunks` query blocks). */
export function prefillLayerSteps(cfg: LlmConfig, t: Target, P: number, L: number, dtype: PlanDtype, chunks = 1): LayerStep[] {
  const y = prefillLayout(cfg, P, L, chunks);
  const { act, acc, accOpt } = types(dtype);
  const { lt, dt, qn, kn, s: sq, ls, lc, hsT } = y;
  // Every (head, query chunk) pair of a sub-square runs one after another.
  const hps = y.headsPerSquare * y.chunks;
  const gemm = (name: string, M: number, K: number, N: number, copies = 1, side = P) => meshgemmStep(t, name, { M, K, N, P: side, type: dtype, ...accOpt }, copies);
  const st: LayerStep[] = [];
  st.push(...normSteps(t, cfg, 'norm1', P, lt, dt, 'x', dtype));
  st.push(gemm('q', y.Lp, y.Dp, y.Qp), localStep(t, 'q.round', round(lt, qn, dtype, cfg.qkvBias)));
  st.push(gemm('k', y.Lp, y.Dp, y.KVp), localStep(t, 'k.round', round(lt, kn, dtype, cfg.qkvBias)));
  st.push(gemm('v', y.Lp, y.Dp, y.KVp), localStep(t, 'v.round', round(lt, kn, dtype, cfg.qkvBias)));
  if (cfg.positions === 'rope') {
    const rot = (n: number): LocalOp[] => [
      { op: 'binary', rows: 1, cols: n, bcast: 'none', a: act, b: act, dst: act },
      { op: 'binary', rows: 1, cols: n, bcast: 'none', a: act, b: act, dst: act },
      { op: 'binary', rows: 1, cols: n, bcast: 'none', a: act, b: act, dst: act },
    ];
    const angles = lt * Math.ceil(Math.max(qn, kn) / 2);
    st.push(localStep(t, 'rope', [
      { op: 'binary', rows: lt, cols: angles / lt, bcast: 'row', a: 'f32', b: 'f32', dst: 'f32' },
      { op: 'call', opType: 'Cos', n: angles },
      { op: 'call', opType: 'Sin', n: angles },
      ...rot(lt * qn), ...rot(lt * kn),
    ]));
  }
  // Q, K, V of each head to its sub-square (K, V copied to every query head of their group): the
  // words entering a sub-square cross its s boundary links, at most P hops from their columns.
  const squares = y.g * y.g;
  st.push(transferStep(t, 'attn.scatter', act, Math.ceil((3 * y.Ls * y.hs * y.headsPerSquare) / sq), P, sq * squares));
  st.push(transposedStep(t, 'scores', { M: y.Lc, K: y.hs, N: y.Ls, P: sq, type: dtype, ...accOpt }, hps));
  const lines = sq * squares;
  const sm: LayerStep[] = [
    localStep(t, 'softmax.mask.max', [
      { op: 'binary', rows: lc, cols: ls, bcast: 'none', a: acc, b: acc, dst: acc },
      { op: 'reduce', rows: lc, cols: ls, out: lc, type: acc },
    ]),
    allreduceStep(t, 'softmax.max.allreduce', sq, lines, 'x', 'max', lc, acc),
    localStep(t, 'softmax.exp.sum', [
      { op: 'binary', rows: lc, cols: ls, bcast: 'col', a: acc, b: acc, dst: acc },
      { op: 'unary', fn: 'exp', n: lc * ls, src: acc, dst: acc },
      { op: 'reduce', rows: lc, cols: ls, out: lc, type: acc },
    ]),
    allreduceStep(t, 'softmax.sum.allreduce', sq, lines, 'x', 'sum', lc, acc),
    localStep(t, 'softmax.scale', [
      { op: 'unary', fn: 'recip', n: lc, src: acc, dst: acc },
      { op: 'binary', rows: lc, cols: ls, bcast: 'col', a: acc, b: acc, dst: act },
    ]),
  ];
  for (const step of sm) st.push(scaleStep(step, hps));
  st.push(gemm('pv', y.Lc, y.Ls, y.hs, hps, sq), localStep(t, 'pv.round', round(lc * hps, hsT, dtype, false)));
  st.push(transferStep(t, 'attn.gather', act, Math.ceil((y.Ls * y.hs * y.headsPerSquare) / sq), P, sq * squares));
  st.push(gemm('o', y.Lp, y.Qp, y.Dp), localStep(t, 'o.round', round(lt, dt, dtype, cfg.outBias)));
  st.push(localStep(t, 'residual1', [{ op: 'binary', rows: lt, cols: dt, bcast: 'none', a: act, b: act, dst: act }]));
  st.push(...normSteps(t, cfg, 'norm2', P, lt, dt, 'x', dtype));
  if (cfg.mlp === 'gated') {
    st.push(gemm('gate', y.Lp, y.Dp, y.Ip), localStep(t, 'gate.round', round(lt, y.in, dtype, cfg.mlpBias)));
    st.push(gemm('up', y.Lp, y.Dp, y.Ip), localStep(t, 'up.round', round(lt, y.in, dtype, cfg.mlpBias)));
    st.push(localStep(t, 'silu.mul', [
      { op: 'unary', fn: 'silu', n: lt * y.in, src: act, dst: act },
      { op: 'binary', rows: lt, cols: y.in, bcast: 'none', a: act, b: act, dst: act },
    ]));
  } else {
    st.push(gemm('fc', y.Lp, y.Dp, y.Ip), localStep(t, 'fc.round', round(lt, y.in, dtype, cfg.mlpBias)));
    st.push(localStep(t, 'gelu', [{ op: 'unary', fn: 'gelu', n: lt * y.in, src: act, dst: act }]));
  }
  st.push(gemm('down', y.Lp, y.Ip, y.Dp), localStep(t, 'down.round', round(lt, dt, dtype, cfg.mlpBias)));
  st.push(localStep(t, 'residual2', [{ op: 'binary', rows: lt, cols: dt, bcast: 'none', a: act, b: act, dst: act }]));
  return st;
}

/** A step repeated `times` (heads that share a sub-square run one after another). */
function scaleStep(s: LayerStep, times: number): LayerStep {
  if (times === 1) return s;
  return { ...s, shape: { ...s.shape, copies: times }, cycles: s.cycles * times, computeCycles: s.computeCycles * times, commCycles: s.commCycles * times, wordHops: s.wordHops * times };
}

/** Prefill steps outside the layers: embedding gather (first stage); final norm, LM head of the last token only, argmax (last stage). */
export function prefillHeadSteps(cfg: LlmConfig, t: Target, P: number, L: number, dtype: PlanDtype): { embed: LayerStep[]; head: LayerStep[] } {
  const { act } = types(dtype);
  const y = prefillLayout(cfg, P, L);
  // Table rows (V along y, D along x) move within their column to the rows owning their positions:
  // at most Lp·dt elements over one column's links, at most P − 1 hops (an upper bound).
  const embed = [transferStep(t, 'embed.gather', act, y.Lp * y.dt, P - 1, P)];
  if (cfg.positions === 'learned') {
    // The position table's rows are tiled by ⌈maxPositions/P⌉ per core row, the prompt's by lt: unless
    // the two agree, rows 0 … L − 1 move within their column like the token rows (same bound).
    if (Math.ceil(cfg.maxPositions / P) !== y.lt) embed.push(transferStep(t, 'embed.position.move', act, y.Lp * y.dt, P - 1, P));
    embed.push(localStep(t, 'embed.position', [{ op: 'binary', rows: y.lt, cols: y.dt, bcast: 'none', a: act, b: act, dst: act }]));
  }
  const head = [
    ...normSteps(t, cfg, 'final.norm', P, 1, y.dt, 'x', dtype),
    // The last token's row (split along x) is multicast along y, then the LM head reduces along x.
    transferStep(t, 'lm_head.broadcast', act, y.dt, P - 1, P),
    ...lmHeadSteps(t, cfg, P, dtype, 'x'),
  ];
  return { embed, head };
}
