/**
 * The decode layer on a P×P region, WaferLLM's layout (HARDWARE.md "A decoder layer on the mesh";
 * docs/llm-plan.md "Decode layer"): the token's vector x [D] split along y in ⌈D/P⌉ tiles and
 * replicated along x; Q/K/V and gate/up GEMVs reduce along y (outputs split along x), scores along
 * x within a kv head's columns, softmax and P·V along y, W_O and W_down along x (outputs back along
 * y, the residual's layout). `decodeLayerSteps` returns the ordered kernel steps with their exact
 * cycles; `decodeLayout` the tile sizes every other part of the planner (SRAM, KV) shares.
 */
import { MEM_TYPE_BYTES, type MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { LlmConfig } from '../frontend/llm/config.js';
import { gemvTiles, type GemvShape } from '../kernels/gemv.js';
import { allreduceStep, gemvStep, holding, kvShiftStep, localStep, transferStep, type LayerStep, type LocalOp } from './plan-steps.js';

export type PlanDtype = 'f16' | 'f32';

/** How the heads and tensors of one layer are tiled on a P×P decode region. */
export interface DecodeLayout {
  P: number;
  /** x / residual tile along y: ⌈D/P⌉. */
  dt: number;
  /** Columns per kv head (c, a sub-line of the row) and kv heads per column (when kvHeads > P). */
  colsPerKvHead: number;
  kvHeadsPerCol: number;
  /** Head-dim slice per column: whole rotate-half pairs, 2·⌈(headDim/2)/c⌉ (the head dim padded to c·hdt). */
  hdt: number;
  /** K / V columns per core (kvHeadsPerCol·hdt) and q / attention-output columns (× rep). */
  kvt: number;
  qt: number;
  /** Query heads sharing a kv head, and query rows per core in the scores (kvHeadsPerCol·rep). */
  rep: number;
  hr: number;
  /** MLP tile along x: ⌈I/P⌉. */
  it: number;
  /** Cores of one row holding a kv head's columns (the scores' allreduce line). */
  scoreLine: number;
}

export function decodeLayout(cfg: LlmConfig, P: number): DecodeLayout {
  const rep = cfg.heads / cfg.kvHeads;
  const kvHeadsPerCol = Math.ceil(cfg.kvHeads / P);
  const c = cfg.kvHeads >= P ? 1 : Math.floor(P / cfg.kvHeads);
  const hdt = 2 * Math.ceil(cfg.headDim / 2 / c);
  const kvt = kvHeadsPerCol * hdt;
  return {
    P, dt: Math.ceil(cfg.hidden / P), colsPerKvHead: c, kvHeadsPerCol, hdt, kvt, qt: rep * kvt, rep, hr: kvHeadsPerCol * rep,
    it: Math.ceil(cfg.intermediate / P), scoreLine: c,
  };
}

/** Element types: activations and weights in `dtype`, accumulations (GEMV outputs, scores, statistics) in f32. */
export function types(dtype: PlanDtype): { act: MemType; acc: MemType; accOpt: { acc?: 'f32' } } {
  return { act: dtype, acc: 'f32', accOpt: dtype === 'f16' ? { acc: 'f32' } : {} };
}

/** Positions per core of the K/V cache at context T: shift keeps rows balanced; concat piles new entries on one row. */
export function kvRowPositions(P: number, T: number, kv: 'shift' | 'concat' = 'shift', prompt = T): number {
  if (kv === 'shift') return Math.ceil(T / P);
  return Math.ceil(Math.min(prompt, T) / P) + Math.max(0, T - prompt);
}

export interface DecodeStepOptions {
  kv?: 'shift' | 'concat';
  /** Prompt length (concat: the prompt's entries are balanced, the generated ones on one row). */
  prompt?: number;
}

/** Norm steps (RMSNorm or LayerNorm) on the x layout: statistics by K-tree allreduce along y. */
export function normSteps(t: Target, cfg: LlmConfig, name: string, P: number, rows: number, cols: number, axis: 'x' | 'y', dtype: PlanDtype): LayerStep[] {
  const { act, acc } = types(dtype);
  const n = rows * cols;
  const lines = P;
  const steps: LayerStep[] = [];
  if (cfg.norm === 'layer') {
    steps.push(localStep(t, `${name}.mean.local`, [{ op: 'reduce', rows, cols, out: rows, type: act }]));
    steps.push(allreduceStep(t, `${name}.mean.allreduce`, P, lines, axis, 'sum', rows, acc));
    steps.push(localStep(t, `${name}.center`, [
      { op: 'unary', fn: 'scale', n: rows, src: acc, dst: acc },
      { op: 'binary', rows, cols, bcast: 'col', a: act, b: acc, dst: acc },
    ]));
    steps.push(localStep(t, `${name}.var.local`, [
      { op: 'unary', fn: 'square', n, src: acc, dst: acc },
      { op: 'reduce', rows, cols, out: rows, type: acc },
    ]));
  } else {
    steps.push(localStep(t, `${name}.sumsq.local`, [
      { op: 'unary', fn: 'square', n, src: act, dst: acc },
      { op: 'reduce', rows, cols, out: rows, type: acc },
    ]));
  }
  steps.push(allreduceStep(t, `${name}.${cfg.norm === 'layer' ? 'var' : 'sumsq'}.allreduce`, P, lines, axis, 'sum', rows, acc));
  const ops: LocalOp[] = [
    { op: 'unary', fn: 'scale', n: rows, src: acc, dst: acc },
    { op: 'unary', fn: 'add_scalar', n: rows, src: acc, dst: acc },
    { op: 'unary', fn: 'rsqrt', n: rows, src: acc, dst: acc },
    { op: 'binary', rows, cols, bcast: 'col', a: cfg.norm === 'layer' ? acc : act, b: acc, dst: act },
    { op: 'binary', rows, cols, bcast: 'row', a: act, b: act, dst: act },
  ];
  if (cfg.norm === 'layer') ops.push({ op: 'binary', rows, cols, bcast: 'row', a: act, b: act, dst: act });
  steps.push(localStep(t, `${name}.scale`, ops));
  return steps;
}

/** f32 GEMV result rounded to the activation type (f16 only), plus an optional bias. */
function finish(n: number, dtype: PlanDtype, bias: boolean): LocalOp[] {
  const ops: LocalOp[] = [];
  if (dtype === 'f16') ops.push({ op: 'unary', fn: 'copy', n, src: 'f32', dst: 'f16' });
  if (bias) ops.push({ op: 'binary', rows: 1, cols: n, bcast: 'none', a: dtype, b: dtype, dst: dtype });
  return ops;
}

/**
 * The decode layer's steps at side P and context T (the new token attends to T positions, itself
 * included). A later emitter walks the same list; every cycle comes from the kernel cost functions.
 */
export function decodeLayerSteps(cfg: LlmConfig, t: Target, P: number, T: number, dtype: PlanDtype, opts: DecodeStepOptions = {}): LayerStep[] {
  const lay = decodeLayout(cfg, P);
  const { act, acc, accOpt } = types(dtype);
  const { dt, qt, kvt, hr, hdt, it, rep } = lay;
  const tT = kvRowPositions(P, T, opts.kv, opts.prompt);
  const gemv = (name: string, K: number, N: number, reduceAxis: 'x' | 'y') => gemvStep(t, name, { K, N, P, type: dtype, reduceAxis, ...accOpt });
  const s: LayerStep[] = [];
  s.push(...normSteps(t, cfg, 'norm1', P, 1, dt, 'y', dtype));
  // Q, K, V on the padded column layouts (N = P·qt, P·kvt): every core gets exactly its head slice.
  s.push(gemv('q', cfg.hidden, P * qt, 'y'), localStep(t, 'q.round', finish(qt, dtype, cfg.qkvBias)));
  s.push(gemv('k', cfg.hidden, P * kvt, 'y'), localStep(t, 'k.round', finish(kvt, dtype, cfg.qkvBias)));
  s.push(gemv('v', cfg.hidden, P * kvt, 'y'), localStep(t, 'v.round', finish(kvt, dtype, cfg.qkvBias)));
  if (cfg.positions === 'rope') {
    // cos/sin of this position for the core's hdt/2 frequencies, then x·cos + rot(x)·sin on q and k.
    const half = hdt / 2;
    const rot = (n: number): LocalOp[] => [
      { op: 'binary', rows: n / hdt, cols: hdt, bcast: 'row', a: act, b: act, dst: act },
      { op: 'binary', rows: n / hdt, cols: hdt, bcast: 'row', a: act, b: act, dst: act },
      { op: 'binary', rows: 1, cols: n, bcast: 'none', a: act, b: act, dst: act },
    ];
    s.push(localStep(t, 'rope', [
      { op: 'unary', fn: 'scale', n: half, src: 'f32', dst: 'f32' },
      { op: 'call', opType: 'Cos', n: half },
      { op: 'call', opType: 'Sin', n: half },
      ...rot(qt), ...rot(kvt),
    ]));
  }
  // KV append: concat writes on the row that owns the next position; shift: every row passes one
  // entry (its K and V slices) one hop north while the new entry enters the bottom row.
  if ((opts.kv ?? 'shift') === 'shift') s.push(kvShiftStep(t, 'kv.shift', act, 2 * kvt, P));
  s.push(localStep(t, 'kv.append', [{ op: 'unary', fn: 'copy', n: 2 * kvt, src: act, dst: act }]));
  // Scores: per kv head on the core, q (rep × hdt) · K_slice (hdt × tT); sum over the head's columns.
  s.push(localStep(t, 'scores.matmul', [{ op: 'matmul', m: rep, k: hdt, n: tT, a: act, dst: acc, count: lay.kvHeadsPerCol }]));
  s.push(allreduceStep(t, 'scores.allreduce', lay.scoreLine, P * Math.floor(P / lay.scoreLine), 'x', 'sum', hr * tT, acc));
  // Softmax over positions (split along y): max, exp, sum; the 1/sum is applied after P·V.
  s.push(localStep(t, 'softmax.max.local', [{ op: 'reduce', rows: hr, cols: tT, out: hr, type: acc }]));
  s.push(allreduceStep(t, 'softmax.max.allreduce', P, P, 'y', 'max', hr, acc));
  s.push(localStep(t, 'softmax.exp', [
    { op: 'binary', rows: hr, cols: tT, bcast: 'col', a: acc, b: acc, dst: acc },
    { op: 'unary', fn: 'exp', n: hr * tT, src: acc, dst: acc },
    { op: 'reduce', rows: hr, cols: tT, out: hr, type: acc },
  ]));
  s.push(allreduceStep(t, 'softmax.sum.allreduce', P, P, 'y', 'sum', hr, acc));
  const pv: LocalOp[] = [{ op: 'unary', fn: 'copy', n: hr * tT, src: acc, dst: act }, { op: 'matmul', m: rep, k: tT, n: hdt, a: act, dst: acc, count: lay.kvHeadsPerCol }];
  s.push(localStep(t, 'pv.matmul', dtype === 'f16' ? pv : pv.slice(1)));
  s.push(allreduceStep(t, 'pv.allreduce', P, P, 'y', 'sum', qt, acc));
  s.push(localStep(t, 'pv.normalize', [
    { op: 'unary', fn: 'recip', n: hr, src: acc, dst: acc },
    { op: 'binary', rows: hr, cols: hdt, bcast: 'col', a: acc, b: acc, dst: act },
  ]));
  s.push(gemv('o', P * qt, cfg.hidden, 'x'), localStep(t, 'o.round', finish(dt, dtype, cfg.outBias)));
  s.push(localStep(t, 'residual1', [{ op: 'binary', rows: 1, cols: dt, bcast: 'none', a: act, b: act, dst: act }]));
  s.push(...normSteps(t, cfg, 'norm2', P, 1, dt, 'y', dtype));
  if (cfg.mlp === 'gated') {
    s.push(gemv('gate', cfg.hidden, cfg.intermediate, 'y'), localStep(t, 'gate.round', finish(it, dtype, cfg.mlpBias)));
    s.push(gemv('up', cfg.hidden, cfg.intermediate, 'y'), localStep(t, 'up.round', finish(it, dtype, cfg.mlpBias)));
    s.push(localStep(t, 'silu.mul', [
      { op: 'unary', fn: 'silu', n: it, src: act, dst: act },
      { op: 'binary', rows: 1, cols: it, bcast: 'none', a: act, b: act, dst: act },
    ]));
  } else {
    s.push(gemv('fc', cfg.hidden, cfg.intermediate, 'y'), localStep(t, 'fc.round', finish(it, dtype, cfg.mlpBias)));
    s.push(localStep(t, 'gelu', [{ op: 'unary', fn: 'gelu', n: it, src: act, dst: act }]));
  }
  s.push(gemv('down', cfg.intermediate, cfg.hidden, 'x'), localStep(t, 'down.round', finish(dt, dtype, cfg.mlpBias)));
  s.push(localStep(t, 'residual2', [{ op: 'binary', rows: 1, cols: dt, bcast: 'none', a: act, b: act, dst: act }]));
  return s;
}

/** Decode steps outside the layers: embedding lookup (first stage), final norm, LM head and greedy argmax. */
export function decodeHeadSteps(cfg: LlmConfig, t: Target, P: number, dtype: PlanDtype): { embed: LayerStep[]; head: LayerStep[] } {
  const { act } = types(dtype);
  const dt = Math.ceil(cfg.hidden / P);
  // The table [V, D] is tiled like the head (V along x, D along y): the token's column multicasts its
  // D slice along each row (≤ P − 1 hops); learned positions add a local row of the same kind.
  const embed = [transferStep(t, 'embed.gather', act, dt, P - 1, P)];
  if (cfg.positions === 'learned') embed.push(transferStep(t, 'embed.position', act, dt, P - 1, P), localStep(t, 'embed.add', [{ op: 'binary', rows: 1, cols: dt, bcast: 'none', a: act, b: act, dst: act }]));
  const head = [...normSteps(t, cfg, 'final.norm', P, 1, dt, 'y', dtype), ...lmHeadSteps(t, cfg, P, dtype, 'y')];
  return { embed, head };
}

/**
 * The LM head GEMV (K = D, N = V, reducing along `reduceAxis`) and the greedy argmax over its logits,
 * split along the other axis: local max, then max-allreduces of the value and of the index of its
 * holders. The logits tile (⌈V/P⌉ accumulator elements) is no activation buffer: it is live from the
 * GEMV through the argmax, so those steps carry it as scratch.
 */
export function lmHeadSteps(t: Target, cfg: LlmConfig, P: number, dtype: PlanDtype, reduceAxis: 'x' | 'y'): LayerStep[] {
  const { acc, accOpt } = types(dtype);
  const lm: GemvShape = { K: cfg.hidden, N: cfg.vocab, P, type: dtype, reduceAxis, ...accOpt };
  const along = reduceAxis === 'y' ? 'x' : 'y';
  return holding([
    gemvStep(t, 'lm_head', lm),
    localStep(t, 'argmax.local', [{ op: 'reduce', rows: 1, cols: Math.ceil(cfg.vocab / P), out: 1, type: acc }]),
    allreduceStep(t, 'argmax.value', P, P, along, 'max', 1, acc),
    allreduceStep(t, 'argmax.index', P, P, along, 'max', 1, acc),
  ], gemvTiles(lm).nt * MEM_TYPE_BYTES[acc]);
}
