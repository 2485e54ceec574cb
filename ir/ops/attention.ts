/**
 * Attention (opset 23/24) and RotaryEmbedding (opset 23, in attention-rotary.ts).
 *
 * Attention computes, per batch b and query head h (kv head h / (q_heads / kv_heads) for GQA/MQA):
 *
 *   scores = (Q Kᵀ) · scale                        qk_matmul_output mode 0
 *   scores = softcap · tanh(scores / softcap)      mode 1 (only when softcap > 0)
 *   scores = scores + bias                         mode 2
 *   probs  = softmax(scores) per row               mode 3 (a row whose bias is all -inf gives zeros)
 *   Y      = probs V
 *
 * where bias sums the attention mask (bool: false → -inf; float: additive; a last dim shorter than
 * the total kv length is padded with -inf), the causal mask (-inf where key j > query i + offset,
 * the offset being the past length, or nonpad_kv_seqlen[b] - q_len when that input is given) and
 * the padding mask from nonpad_kv_seqlen (-inf at keys j >= nonpad_kv_seqlen[b]). This is the order
 * of the ONNX function body (the `_expanded` suite models), which the expected outputs follow.
 *
 * Q/K/V are 4-D [batch, heads, seq, head_size] or 3-D [batch, seq, heads * head_size] (with the
 * q_num_heads / kv_num_heads attributes); the kernels read either layout through strides, so no
 * transposes are materialized. past_key/past_value [batch, kv_heads, past, head_size] are prepended
 * to K/V, which gives the present_key/present_value outputs.
 *
 * float32/float16/bfloat16 run in float32 on the blocked matmul kernel, narrow floats being rounded
 * to their type after every stage above (as the function body computes in the input type); float64
 * runs in float64. softmax_precision needs no handling: the softmax arithmetic is in JS doubles,
 * with storage at least as wide as float32.
 */
import { type DType, allocData, castScalar } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor } from '../tensor.js';
import { rotaryOps } from './attention-rotary.js';
import { matmulF32Strided, matmulGenericStrided } from './matmul-kernel.js';
import type { OpDef, OpInfo } from './registry.js';
import { attrFloat, attrInt, fail, need } from './util.js';

const FLOATS: ReadonlySet<DType> = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64']);

/** The resolved geometry of one Attention node. */
interface Dims {
  is3d: boolean;
  batch: number;
  qHeads: number;
  kvHeads: number;
  qLen: number;
  kvLen: number;
  past: number;
  total: number;
  headSize: number;
  vHeadSize: number;
}

interface Shaped {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

function fmt(s: readonly number[]): string {
  return `[${s.join(',')}]`;
}

function attentionDims(inputs: (Shaped | undefined)[], attrs: Attrs): Dims {
  const q = need(inputs, 0, 'input Q');
  const k = need(inputs, 1, 'input K');
  const v = need(inputs, 2, 'input V');
  if (!FLOATS.has(q.dtype)) fail(`Attention expects floating-point Q, got ${q.dtype}`);
  if (k.dtype !== q.dtype || v.dtype !== q.dtype) fail(`Attention Q, K and V must share a dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`);
  const rank = q.shape.length;
  if (rank !== 3 && rank !== 4) fail(`Attention Q must be 3-D or 4-D, got ${fmt(q.shape)}`);
  if (k.shape.length !== rank || v.shape.length !== rank) fail(`Attention Q, K and V must have the same rank, got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  let d: Dims;
  if (rank === 3) {
    const qHeads = attrInt(attrs, 'q_num_heads', 0);
    const kvHeads = attrInt(attrs, 'kv_num_heads', 0);
    if (qHeads <= 0 || kvHeads <= 0) fail('Attention with 3-D inputs needs positive q_num_heads and kv_num_heads attributes');
    if (q.shape[2] % qHeads || k.shape[2] % kvHeads || v.shape[2] % kvHeads) {
      fail(`Attention hidden sizes (Q ${q.shape[2]}, K ${k.shape[2]}, V ${v.shape[2]}) must divide by the head counts (${qHeads}, ${kvHeads})`);
    }
    d = {
      is3d: true, batch: q.shape[0], qHeads, kvHeads, qLen: q.shape[1], kvLen: k.shape[1], past: 0, total: 0,
      headSize: q.shape[2] / qHeads, vHeadSize: v.shape[2] / kvHeads,
    };
    if (k.shape[2] / kvHeads !== d.headSize) fail(`Attention K head size ${k.shape[2] / kvHeads} differs from Q head size ${d.headSize}`);
  } else {
    d = {
      is3d: false, batch: q.shape[0], qHeads: q.shape[1], kvHeads: k.shape[1], qLen: q.shape[2], kvLen: k.shape[2], past: 0, total: 0,
      headSize: q.shape[3], vHeadSize: v.shape[3],
    };
    if (k.shape[3] !== d.headSize) fail(`Attention K head size ${k.shape[3]} differs from Q head size ${d.headSize}`);
    if (v.shape[1] !== d.kvHeads) fail(`Attention K and V head counts differ: ${fmt(k.shape)} vs ${fmt(v.shape)}`);
  }
  if (k.shape[0] !== d.batch || v.shape[0] !== d.batch) fail(`Attention batch sizes differ: Q ${fmt(q.shape)}, K ${fmt(k.shape)}, V ${fmt(v.shape)}`);
  const vLen = rank === 3 ? v.shape[1] : v.shape[2];
  if (vLen !== d.kvLen) fail(`Attention K and V sequence lengths differ: ${d.kvLen} vs ${vLen}`);
  if (d.kvHeads === 0 || d.qHeads % d.kvHeads !== 0) {
    fail(`Attention q heads (${d.qHeads}) must be a multiple of kv heads (${d.kvHeads})`);
  }
  const pk = inputs[4];
  const pv = inputs[5];
  if ((pk === undefined) !== (pv === undefined)) fail('Attention needs both past_key and past_value, or neither');
  if (pk && pv) {
    const want = (hs: number): number[] => [d.batch, d.kvHeads, pk.shape[2], hs];
    const fits = (s: readonly number[], hs: number): boolean => s.length === 4 && s.every((x, i) => x === want(hs)[i]);
    if (!fits(pk.shape, d.headSize)) fail(`Attention past_key must be [batch=${d.batch}, kv_heads=${d.kvHeads}, past, ${d.headSize}], got ${fmt(pk.shape)}`);
    if (!fits(pv.shape, d.vHeadSize)) fail(`Attention past_value must be ${fmt(want(d.vHeadSize))}, got ${fmt(pv.shape)}`);
    if (pk.dtype !== q.dtype || pv.dtype !== q.dtype) fail('Attention past_key/past_value must have the dtype of Q');
    d.past = pk.shape[2];
  }
  d.total = d.past + d.kvLen;
  const mask = inputs[3];
  if (mask) {
    if (mask.dtype !== 'bool' && mask.dtype !== q.dtype) fail(`Attention attn_mask must be bool or ${q.dtype}, got ${mask.dtype}`);
    const ms = mask.shape;
    const target = [d.batch, d.qHeads, d.qLen, d.total];
    const off = 4 - ms.length;
    const ok = ms.length >= 1 && ms.length <= 4 && ms.every((x, i) => (i === ms.length - 1 ? x <= d.total : x === 1 || x === target[off + i]));
    if (!ok) fail(`Attention attn_mask ${fmt(ms)} does not broadcast to ${fmt(target)}`);
  }
  const nonpad = inputs[6];
  if (nonpad) {
    if (nonpad.shape.length !== 1 || nonpad.shape[0] !== d.batch) fail(`Attention nonpad_kv_seqlen must be [${d.batch}], got ${fmt(nonpad.shape)}`);
    if (nonpad.dtype !== 'int64') fail(`Attention nonpad_kv_seqlen must be int64, got ${nonpad.dtype}`);
  }
  const mode = attrInt(attrs, 'qk_matmul_output_mode', 0);
  if (mode < 0 || mode > 3) fail(`Attention qk_matmul_output_mode must be 0..3, got ${mode}`);
  return d;
}

function outputTypes(d: Dims, dtype: DType, numOutputs: number): StaticType[] {
  const y = d.is3d ? [d.batch, d.qLen, d.qHeads * d.vHeadSize] : [d.batch, d.qHeads, d.qLen, d.vHeadSize];
  const types: StaticType[] = [{ dtype, shape: y }];
  if (numOutputs > 1) types.push({ dtype, shape: [d.batch, d.kvHeads, d.total, d.headSize] });
  if (numOutputs > 2) types.push({ dtype, shape: [d.batch, d.kvHeads, d.total, d.vHeadSize] });
  if (numOutputs > 3) types.push({ dtype, shape: [d.batch, d.qHeads, d.qLen, d.total] });
  return types;
}

/** present = concat(past, new) along the sequence, in [batch, kv_heads, total, head_size] layout. */
function present(d: Dims, past: Tensor | undefined, x: Tensor, hs: number, dtype: DType): Tensor {
  const out = allocData(dtype, d.batch * d.kvHeads * d.total * hs);
  const src = x.data;
  for (let b = 0; b < d.batch; b++) {
    for (let h = 0; h < d.kvHeads; h++) {
      const dst = (b * d.kvHeads + h) * d.total * hs;
      if (past) out.set(past.data.subarray((b * d.kvHeads + h) * d.past * hs, (b * d.kvHeads + h + 1) * d.past * hs), dst);
      for (let s = 0; s < d.kvLen; s++) {
        const from = d.is3d ? (b * d.kvLen + s) * d.kvHeads * hs + h * hs : ((b * d.kvHeads + h) * d.kvLen + s) * hs;
        out.set(src.subarray(from, from + hs), dst + (d.past + s) * hs);
      }
    }
  }
  return new Tensor(dtype, [d.batch, d.kvHeads, d.total, hs], out);
}

/** Fills `bias` (qLen x total) for batch b, head h: mask + causal + padding, as 0 / -inf / values. */
function fillBias(
  bias: Float64Array, d: Dims, b: number, h: number,
  mask: Tensor | undefined, causal: boolean, nonpad: Tensor | undefined,
): void {
  const T = d.total;
  bias.fill(0);
  if (mask) {
    const ms = mask.shape;
    const r = ms.length;
    const full = [1, 1, 1, 1];
    for (let i = 0; i < r; i++) full[4 - r + i] = ms[i];
    const mLen = full[3];
    const st3 = 1;
    const st2 = mLen;
    const st1 = full[2] * st2;
    const st0 = full[1] * st1;
    const base = (full[0] === 1 ? 0 : b * st0) + (full[1] === 1 ? 0 : h * st1);
    const isBool = mask.dtype === 'bool';
    for (let i = 0; i < d.qLen; i++) {
      const row = base + (full[2] === 1 ? 0 : i * st2);
      for (let j = 0; j < T; j++) {
        let v: number;
        if (j >= mLen) v = -Infinity;
        else {
          const m = mask.data[row + j * st3];
          v = isBool ? (m ? 0 : -Infinity) : m;
        }
        bias[i * T + j] = v;
      }
    }
  }
  const limit = nonpad ? nonpad.data[b] : T;
  if (causal) {
    const offset = nonpad ? limit - d.qLen : d.past;
    for (let i = 0; i < d.qLen; i++) for (let j = Math.max(0, i + offset + 1); j < T; j++) bias[i * T + j] += -Infinity;
  }
  if (nonpad) for (let i = 0; i < d.qLen; i++) for (let j = Math.max(0, limit); j < T; j++) bias[i * T + j] += -Infinity;
}

function evaluateAttention(inputs: (Tensor | undefined)[], attrs: Attrs, info: OpInfo): Tensor[] {
  const d = attentionDims(inputs, attrs);
  const q = inputs[0] as Tensor;
  const dtype = q.dtype;
  const f32 = dtype !== 'float64';
  const narrow = dtype === 'float16' || dtype === 'bfloat16';
  const round = (buf: Float32Array | Float64Array): void => {
    if (narrow) for (let i = 0; i < buf.length; i++) buf[i] = castScalar(buf[i], dtype);
  };
  const presentK = present(d, inputs[4], inputs[1] as Tensor, d.headSize, dtype);
  const presentV = present(d, inputs[5], inputs[2] as Tensor, d.vHeadSize, dtype);
  const mode = attrInt(attrs, 'qk_matmul_output_mode', 0);
  const wantQk = info.numOutputs > 3;
  const scale = attrFloat(attrs, 'scale', 1 / Math.sqrt(d.headSize));
  const softcap = attrFloat(attrs, 'softcap', 0);
  const causal = attrInt(attrs, 'is_causal', 0) !== 0;
  const { qLen: S, total: T, headSize: D, vHeadSize: Dv, qHeads, kvHeads } = d;
  const group = qHeads / kvHeads;
  const yShape = d.is3d ? [d.batch, S, qHeads * Dv] : [d.batch, qHeads, S, Dv];
  const y = allocData(dtype, d.batch * qHeads * S * Dv) as Float32Array | Float64Array;
  const qk = wantQk ? (allocData(dtype, d.batch * qHeads * S * T) as Float32Array | Float64Array) : undefined;
  const scores = f32 ? new Float32Array(S * T) : new Float64Array(S * T);
  const mask = inputs[3];
  const nonpad = inputs[6];
  const hasBias = mask !== undefined || nonpad !== undefined || causal;
  const bias = new Float64Array(hasBias ? S * T : 0);
  const masked = new Uint8Array(S);
  const qData = q.data as Float32Array | Float64Array;
  const kData = presentK.data as Float32Array | Float64Array;
  const vData = presentV.data as Float32Array | Float64Array;
  const mm = f32 ? matmulF32Strided : matmulGenericStrided;
  for (let b = 0; b < d.batch; b++) {
    for (let h = 0; h < qHeads; h++) {
      const kvh = Math.floor(h / group);
      const qOff = d.is3d ? b * S * qHeads * D + h * D : (b * qHeads + h) * S * D;
      const qRs = d.is3d ? qHeads * D : D;
      const kOff = (b * kvHeads + kvh) * T * D;
      const vOff = (b * kvHeads + kvh) * T * Dv;
      // scores = Q · Kᵀ: B(k=d, j=t) sits at t*D + d
      (mm as typeof matmulGenericStrided)(qData, qOff, qRs, kData, kOff, 1, D, scores, 0, T, S, D, T);
      for (let i = 0; i < S * T; i++) scores[i] *= scale;
      round(scores);
      const qkOff = (b * qHeads + h) * S * T;
      if (qk && mode === 0) qk.set(scores, qkOff);
      if (softcap > 0) {
        for (let i = 0; i < S * T; i++) scores[i] = softcap * Math.tanh(scores[i] / softcap);
        round(scores);
      }
      if (qk && mode === 1) qk.set(scores, qkOff);
      if (hasBias) {
        fillBias(bias, d, b, h, mask, causal, nonpad);
        for (let i = 0; i < S; i++) {
          let best = -Infinity;
          for (let j = 0; j < T; j++) if (bias[i * T + j] > best) best = bias[i * T + j];
          masked[i] = best === -Infinity ? 1 : 0;
        }
        for (let i = 0; i < S * T; i++) scores[i] += bias[i];
        round(scores);
      }
      if (qk && mode === 2) qk.set(scores, qkOff);
      softmaxRows(scores, S, T, masked);
      round(scores);
      if (qk && mode === 3) qk.set(scores, qkOff);
      const yOff = d.is3d ? b * S * qHeads * Dv + h * Dv : (b * qHeads + h) * S * Dv;
      const yRs = d.is3d ? qHeads * Dv : Dv;
      (mm as typeof matmulGenericStrided)(scores, 0, T, vData, vOff, Dv, 1, y, yOff, yRs, S, T, Dv);
    }
  }
  round(y);
  const out = [new Tensor(dtype, yShape, y), presentK, presentV];
  if (qk) out.push(new Tensor(dtype, [d.batch, qHeads, S, T], qk));
  return out.slice(0, Math.max(1, info.numOutputs));
}

/** Row softmax in place; rows flagged in `masked` (all keys masked out) become zeros. */
function softmaxRows(x: Float32Array | Float64Array, rows: number, cols: number, masked: Uint8Array): void {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    if (masked[i]) {
      x.fill(0, o, o + cols);
      continue;
    }
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j] - max);
      x[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) x[o + j] *= inv;
  }
}

const attention: OpDef = {
  infer(inputs, attrs, info) {
    const types = inputs.map((x) => x?.type);
    const d = attentionDims(types, attrs);
    return outputTypes(d, need(types, 0, 'input Q').dtype, info.numOutputs);
  },
  evaluate: evaluateAttention,
};

export const attentionOps: Record<string, OpDef> = { Attention: attention, ...rotaryOps };
