/**
 * Attention and RotaryEmbedding: outputs against a naive softmax(Q·Kᵀ·scale + bias)·V computed here
 * head by head, for 4-D and 3-D layouts, GQA head sharing, additive/bool/short masks, causal masks
 * with and without a past, nonpad_kv_seqlen, softcap, the qk_matmul_output modes and the present
 * key/value outputs; rotary embeddings against hand-computed rotations; and the diagnostics.
 */
import { describe, expect, it } from 'vitest';
import { seededFloats } from '../ir/random.js';
import { Tensor } from '../ir/tensor.js';
import { expectOpError, f32, float, int, opHarness } from './helpers/ops.js';

const { runAll } = opHarness({ opset: 24 });
/** A float32 tensor of seeded values in [-1, 1). */
const t4 = (shape: number[], seed: number): Tensor => f32(shape, seededFloats(seed, shape.reduce((a, b) => a * b, 1)));

/** One head: q [S,D], k [T,D], v [T,Dv], bias [S,T] (entries may be -inf). Returns y [S,Dv] and probs. */
function naiveHead(q: number[][], k: number[][], v: number[][], scale: number, bias: number[][], softcap = 0): { y: number[][]; p: number[][] } {
  const p = q.map((qi, i) => {
    let s = k.map((kj) => qi.reduce((acc, x, d) => acc + x * kj[d], 0) * scale);
    if (softcap > 0) s = s.map((x) => softcap * Math.tanh(x / softcap));
    s = s.map((x, j) => x + bias[i][j]);
    const m = Math.max(...s);
    if (bias[i].every((b) => b === -Infinity)) return s.map(() => 0);
    const e = s.map((x) => Math.exp(x - m));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / z);
  });
  const y = p.map((pi) => v[0].map((_, c) => pi.reduce((acc, w, j) => acc + w * v[j][c], 0)));
  return { y, p };
}

/** Rows [S][D] of head h of batch b in a 4-D [B,H,S,D] tensor. */
function head(t: Tensor, b: number, h: number): number[][] {
  const [, H, S, D] = t.shape;
  return Array.from({ length: S }, (_, s) => Array.from({ length: D }, (_, d) => t.data[((b * H + h) * S + s) * D + d]));
}

function expectRowsClose(got: number[][], want: number[][], digits = 5): void {
  expect(got.length).toBe(want.length);
  got.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(want[i][j], digits)));
}

const zeros = (S: number, T: number): number[][] => Array.from({ length: S }, () => new Array<number>(T).fill(0));
const causalBias = (S: number, T: number, offset: number): number[][] =>
  Array.from({ length: S }, (_, i) => Array.from({ length: T }, (_, j) => (j > i + offset ? -Infinity : 0)));

const throwsOp = (f: () => unknown, text: RegExp): void => expectOpError(f, 'W2002', text);

describe('Attention', () => {
  const Q = t4([2, 2, 3, 4], 1);
  const K = t4([2, 2, 5, 4], 2);
  const V = t4([2, 2, 5, 6], 3);

  it('matches softmax(Q·Kᵀ/sqrt(D) + mask)·V with a broadcast additive mask', () => {
    const maskVals = Array.from(seededFloats(4, 15));
    const mask = Tensor.from('float32', [3, 5], maskVals);
    const [y] = runAll('Attention', [Q, K, V, mask]);
    expect(y.shape).toEqual([2, 2, 3, 6]);
    const bias = Array.from({ length: 3 }, (_, i) => maskVals.slice(i * 5, i * 5 + 5));
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 2; h++) expectRowsClose(head(y, b, h), naiveHead(head(Q, b, h), head(K, b, h), head(V, b, h), 0.5, bias).y);
    }
  });

  it('reads the 3-D layout [batch, seq, heads*size] like the 4-D one', () => {
    const to3d = (t: Tensor): Tensor => {
      const [B, H, S, D] = t.shape;
      const out = new Float32Array(t.size);
      for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let s = 0; s < S; s++) for (let d = 0; d < D; d++) {
        out[((b * S + s) * H + h) * D + d] = t.data[((b * H + h) * S + s) * D + d];
      }
      return new Tensor('float32', [B, S, H * D], out);
    };
    const heads = { q_num_heads: int(2), kv_num_heads: int(2) };
    const [y4] = runAll('Attention', [Q, K, V], { is_causal: int(1) });
    const [y3] = runAll('Attention', [to3d(Q), to3d(K), to3d(V)], { ...heads, is_causal: int(1) });
    expect(y3.shape).toEqual([2, 3, 12]);
    expect(Array.from(y3.data)).toEqual(Array.from(to3d(y4).data));
  });

  it('shares kv heads across query-head groups (GQA) and applies the causal mask', () => {
    const q = t4([2, 4, 3, 4], 5);
    const [y] = runAll('Attention', [q, K, V], { is_causal: int(1) });
    // q heads 0,1 use kv head 0 of batch 0; heads 2,3 use kv head 1
    for (let h = 0; h < 4; h++) {
      const kvh = Math.floor(h / 2);
      const want = naiveHead(head(q, 0, h), head(K, 0, kvh), head(V, 0, kvh), 0.5, causalBias(3, 5, 0)).y;
      expectRowsClose(head(y, 0, h), want);
    }
    // with no past, the first query sees only the first key: its output is V[0]
    expectRowsClose([head(y, 0, 3)[0]], [head(V, 0, 1)[0]]);
  });

  it('prepends past key/values, returns present, and offsets the causal mask by the past length', () => {
    const pastK = t4([2, 2, 2, 4], 6);
    const pastV = t4([2, 2, 2, 6], 7);
    const [y, pk, pv] = runAll('Attention', [Q, K, V, undefined, pastK, pastV], { is_causal: int(1) }, { numOutputs: 3 });
    expect(pk.shape).toEqual([2, 2, 7, 4]);
    expect(pv.shape).toEqual([2, 2, 7, 6]);
    expect(head(pk, 1, 1)).toEqual([...head(pastK, 1, 1), ...head(K, 1, 1)]);
    expect(head(pv, 0, 1)).toEqual([...head(pastV, 0, 1), ...head(V, 0, 1)]);
    const want = naiveHead(head(Q, 1, 0), head(pk, 1, 0), head(pv, 1, 0), 0.5, causalBias(3, 7, 2)).y;
    expectRowsClose(head(y, 1, 0), want);
  });

  it('treats a bool mask as keep/drop, pads a short mask with -inf and zeroes fully masked rows', () => {
    const mask = Tensor.from('bool', [3, 4], [1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]); // row 1 masks everything
    const [y, , , p] = runAll('Attention', [Q, K, V, mask], { qk_matmul_output_mode: int(3) }, { numOutputs: 4 });
    const bias = [[0, -Infinity, 0, 0, -Infinity], new Array(5).fill(-Infinity), [0, 0, 0, 0, -Infinity]];
    const want = naiveHead(head(Q, 0, 1), head(K, 0, 1), head(V, 0, 1), 0.5, bias);
    expectRowsClose(head(y, 0, 1), want.y);
    expectRowsClose(head(p, 0, 1), want.p);
    expect(head(y, 0, 1)[1]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('ignores keys past nonpad_kv_seqlen and offsets the causal mask by it', () => {
    const lens = Tensor.from('int64', [2], [5, 3]);
    const [y] = runAll('Attention', [Q, K, V, undefined, undefined, undefined, lens], { is_causal: int(1) });
    const b1 = naiveHead(head(Q, 1, 0), head(K, 1, 0).slice(0, 3), head(V, 1, 0).slice(0, 3), 0.5, causalBias(3, 3, 0)).y;
    expectRowsClose(head(y, 1, 0), b1);
    const b0 = naiveHead(head(Q, 0, 1), head(K, 0, 1), head(V, 0, 1), 0.5, causalBias(3, 5, 2)).y;
    expectRowsClose(head(y, 0, 1), b0);
  });

  it('applies scale and softcap, and reports each qk_matmul_output stage', () => {
    const mask = Tensor.from('float32', [1, 5], [0, -1, 0.5, 0, 2]);
    const attrs = { scale: float(0.3), softcap: float(1.5) };
    const q = head(Q, 0, 0), k = head(K, 0, 0);
    const raw = q.map((qi) => k.map((kj) => qi.reduce((a, x, d) => a + x * kj[d], 0) * 0.3));
    const capped = raw.map((r) => r.map((x) => 1.5 * Math.tanh(x / 1.5)));
    const biased = capped.map((r) => r.map((x, j) => x + mask.data[j]));
    const stages = [raw, capped, biased];
    for (let mode = 0; mode < 3; mode++) {
      const [, , , qk] = runAll('Attention', [Q, K, V, mask], { ...attrs, qk_matmul_output_mode: int(mode) }, { numOutputs: 4 });
      expect(qk.shape).toEqual([2, 2, 3, 5]);
      expectRowsClose(head(qk, 0, 0), stages[mode]);
    }
    const [y] = runAll('Attention', [Q, K, V, mask], attrs);
    const bias = zeros(3, 5).map((r) => r.map((_, j) => mask.data[j]));
    expectRowsClose(head(y, 0, 0), naiveHead(q, k, head(V, 0, 0), 0.3, bias, 1.5).y);
  });

  it('rounds float16 outputs to float16', () => {
    const h = (t: Tensor): Tensor => Tensor.from('float16', t.shape, t.toArray());
    const [y] = runAll('Attention', [h(Q), h(K), h(V)]);
    expect(y.dtype).toBe('float16');
    const widen = (t: Tensor): Tensor => Tensor.from('float32', t.shape, h(t).toArray());
    const [y32] = runAll('Attention', [widen(Q), widen(K), widen(V)]);
    for (let i = 0; i < y.size; i++) {
      expect(Tensor.from('float16', [1], [y.data[i]]).data[0]).toBe(y.data[i]);
      expect(Math.abs(y.data[i] - y32.data[i])).toBeLessThan(2e-3);
    }
  });

  it('diagnoses inconsistent inputs', () => {
    throwsOp(() => runAll('Attention', [t4([1, 3, 8], 1), t4([1, 3, 8], 2), t4([1, 3, 8], 3)]), /needs positive q_num_heads and kv_num_heads/);
    throwsOp(() => runAll('Attention', [t4([1, 3, 2, 4], 1), K, V]), /batch sizes differ/);
    throwsOp(() => runAll('Attention', [t4([2, 3, 2, 4], 1), K, V]), /multiple of kv heads/);
    throwsOp(() => runAll('Attention', [Q, K, V, Tensor.from('float32', [4, 5], new Array(20).fill(0))]), /does not broadcast to \[2,2,3,5\]/);
    throwsOp(() => runAll('Attention', [Q, K, t4([2, 2, 4, 6], 3)]), /sequence lengths differ/);
    throwsOp(() => runAll('Attention', [Q, K, V, undefined, t4([2, 2, 1, 4], 1)]), /both past_key and past_value/);
  });
});

describe('RotaryEmbedding', () => {
  const c = Math.cos(0.5), s = Math.sin(0.5);
  it('rotates halves by the cached angles of each position', () => {
    // one batch, one head, two positions, head size 4; cache rows: position 0 -> angle 0, 1 -> 0.5
    const x = Tensor.from('float64', [1, 1, 2, 4], [1, 2, 3, 4, 1, 2, 3, 4]);
    const cos = Tensor.from('float64', [2, 2], [1, 1, c, c]);
    const sin = Tensor.from('float64', [2, 2], [0, 0, s, s]);
    const pos = Tensor.from('int64', [1, 2], [1, 0]);
    const [y] = runAll('RotaryEmbedding', [x, cos, sin, pos], {}, { opset: 23 });
    // position 1: pairs (x0,x2) = (1,3) and (x1,x3) = (2,4) rotate by 0.5; position 0 is unchanged
    const want = [1 * c - 3 * s, 2 * c - 4 * s, 1 * s + 3 * c, 2 * s + 4 * c, 1, 2, 3, 4];
    y.toArray().forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
  });

  it('pairs even/odd features when interleaved and leaves features past rotary_embedding_dim alone', () => {
    const x = Tensor.from('float64', [1, 1, 6], [1, 2, 3, 4, 5, 6]); // 3-D: num_heads=1
    const cos = Tensor.from('float64', [1, 1, 2], [c, 1]);
    const sin = Tensor.from('float64', [1, 1, 2], [s, 0]);
    const attrs = { interleaved: int(1), num_heads: int(1), rotary_embedding_dim: int(4) };
    const [y] = runAll('RotaryEmbedding', [x, cos, sin], attrs, { opset: 23 });
    const want = [1 * c - 2 * s, 1 * s + 2 * c, 3, 4, 5, 6];
    y.toArray().forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
  });

  it('diagnoses bad caches and missing num_heads', () => {
    const x = Tensor.from('float32', [1, 2, 4], new Array(8).fill(1));
    const cache = Tensor.from('float32', [1, 2, 2], [1, 1, 1, 1]);
    throwsOp(() => runAll('RotaryEmbedding', [x, cache, cache], {}, { opset: 23 }), /needs a positive num_heads/);
    throwsOp(() => runAll('RotaryEmbedding', [x, Tensor.from('float32', [1, 2, 1], [1, 1]), Tensor.from('float32', [1, 2, 1], [0, 0])], { num_heads: int(1) }, { opset: 23 }), /must be \[1,2,>=2\]/);
    const pos = Tensor.from('int64', [1, 2], [0, 9]);
    throwsOp(() => runAll('RotaryEmbedding', [x, Tensor.from('float32', [3, 2], new Array(6).fill(1)), Tensor.from('float32', [3, 2], new Array(6).fill(0)), pos], { num_heads: int(1) }, { opset: 23 }), /position id 9 is outside the cache of 3/);
  });
});
