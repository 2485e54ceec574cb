/**
 * RotaryEmbedding (opset 23): rotates the first `rotary_embedding_dim` features of every head
 * (all of them by default) by position-dependent angles given as cos/sin caches.
 *
 * Input X is [batch, heads, seq, head_size] or [batch, seq, heads * head_size] (3-D needs the
 * num_heads attribute). With position_ids [batch, seq] the caches are tables [max_pos, >= rd/2]
 * indexed by position; without, they are already [batch, seq, >= rd/2]. For a feature pair
 * (x1, x2) — halves of the rotated part, or even/odd features when `interleaved` — the output is
 * (x1·cos − x2·sin, x1·sin + x2·cos); features past the rotary dim are copied.
 */
import { type DType, allocData, castScalar } from '../dtype.js';
import type { Attrs, StaticType } from '../graph.js';
import { Tensor } from '../tensor.js';
import type { OpDef } from './registry.js';
import { attrInt, fail, need } from './util.js';

interface Shaped {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

interface RotaryDims {
  is3d: boolean;
  batch: number;
  heads: number;
  seq: number;
  headSize: number;
  rotaryDim: number;
}

const FLOATS: ReadonlySet<DType> = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64']);

function rotaryDims(inputs: (Shaped | undefined)[], attrs: Attrs): RotaryDims {
  const x = need(inputs, 0, 'input X');
  const cos = need(inputs, 1, 'cos_cache');
  const sin = need(inputs, 2, 'sin_cache');
  const pos = inputs[3];
  if (!FLOATS.has(x.dtype)) fail(`RotaryEmbedding expects a floating-point input, got ${x.dtype}`);
  if (cos.dtype !== x.dtype || sin.dtype !== x.dtype) fail(`RotaryEmbedding caches must be ${x.dtype}, got ${cos.dtype} and ${sin.dtype}`);
  const s = x.shape;
  let d: RotaryDims;
  if (s.length === 4) {
    d = { is3d: false, batch: s[0], heads: s[1], seq: s[2], headSize: s[3], rotaryDim: 0 };
  } else if (s.length === 3) {
    const heads = attrInt(attrs, 'num_heads', 0);
    if (heads <= 0) fail('RotaryEmbedding with a 3-D input needs a positive num_heads attribute');
    if (s[2] % heads) fail(`RotaryEmbedding hidden size ${s[2]} does not divide by num_heads ${heads}`);
    d = { is3d: true, batch: s[0], heads, seq: s[1], headSize: s[2] / heads, rotaryDim: 0 };
  } else {
    return fail(`RotaryEmbedding input must be 3-D or 4-D, got [${s.join(',')}]`);
  }
  d.rotaryDim = attrInt(attrs, 'rotary_embedding_dim', 0) || d.headSize;
  if (d.rotaryDim % 2 || d.rotaryDim > d.headSize) {
    fail(`RotaryEmbedding rotary_embedding_dim ${d.rotaryDim} must be even and at most the head size ${d.headSize}`);
  }
  const half = d.rotaryDim / 2;
  if (cos.shape.length !== sin.shape.length || cos.shape.some((v, i) => v !== sin.shape[i])) {
    fail(`RotaryEmbedding cos_cache [${cos.shape.join(',')}] and sin_cache [${sin.shape.join(',')}] differ`);
  }
  if (pos) {
    if (pos.shape.length !== 2 || pos.shape[0] !== d.batch || pos.shape[1] !== d.seq) {
      fail(`RotaryEmbedding position_ids must be [${d.batch},${d.seq}], got [${pos.shape.join(',')}]`);
    }
    if (cos.shape.length !== 2 || cos.shape[1] < half) fail(`RotaryEmbedding cos_cache must be [max_position, >=${half}] with position_ids, got [${cos.shape.join(',')}]`);
  } else if (cos.shape.length !== 3 || cos.shape[0] !== d.batch || cos.shape[1] !== d.seq || cos.shape[2] < half) {
    fail(`RotaryEmbedding cos_cache must be [${d.batch},${d.seq},>=${half}] without position_ids, got [${cos.shape.join(',')}]`);
  }
  return d;
}

function evaluateRotary(inputs: (Tensor | undefined)[], attrs: Attrs): Tensor[] {
  const d = rotaryDims(inputs, attrs);
  const x = inputs[0] as Tensor;
  const cos = (inputs[1] as Tensor);
  const sin = (inputs[2] as Tensor);
  const pos = inputs[3];
  const interleaved = attrInt(attrs, 'interleaved', 0) !== 0;
  const { batch, heads, seq, headSize: D, rotaryDim: R } = d;
  const half = R / 2;
  const width = cos.shape[cos.shape.length - 1];
  const src = x.data;
  const out = allocData(x.dtype, x.size);
  out.set(src);
  const narrow = x.dtype === 'float16' || x.dtype === 'bfloat16';
  for (let b = 0; b < batch; b++) {
    for (let s = 0; s < seq; s++) {
      const p = pos ? pos.data[b * seq + s] : b * seq + s;
      if (pos && (p < 0 || p >= cos.shape[0])) fail(`RotaryEmbedding position id ${p} is outside the cache of ${cos.shape[0]} positions`);
      const c0 = p * width;
      for (let h = 0; h < heads; h++) {
        const base = d.is3d ? (b * seq + s) * heads * D + h * D : ((b * heads + h) * seq + s) * D;
        for (let i = 0; i < half; i++) {
          const i1 = base + (interleaved ? 2 * i : i);
          const i2 = base + (interleaved ? 2 * i + 1 : i + half);
          const c = cos.data[c0 + i];
          const sn = sin.data[c0 + i];
          const x1 = src[i1];
          const x2 = src[i2];
          const r = x1 * c - x2 * sn;
          const im = x1 * sn + x2 * c;
          out[i1] = narrow ? castScalar(r, x.dtype) : r;
          out[i2] = narrow ? castScalar(im, x.dtype) : im;
        }
      }
    }
  }
  return [new Tensor(x.dtype, [...x.shape], out)];
}

const rotary: OpDef = {
  infer(inputs, attrs): StaticType[] {
    const x = need(inputs, 0, 'input X').type;
    rotaryDims(inputs.map((i) => i?.type), attrs);
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  evaluate: evaluateRotary,
};

export const rotaryOps: Record<string, OpDef> = { RotaryEmbedding: rotary };
