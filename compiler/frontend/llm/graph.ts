/**
 * Decoder graphs from an `LlmConfig`: the prefill graph over L prompt tokens and the decode graph of
 * one token against a KV cache of T past positions, in graph IR with ONNX semantics (the op pattern
 * of a Hugging Face export: decomposed RMSNorm, x·Wᵀ through a Transpose of the [out, in] weight,
 * rotate-half RoPE by Slice/Neg/Concat, softmax in f32).
 *
 * Inputs: `input_ids` int64 [B, Lq] (Lq = L for prefill, 1 for decode) and, for decode,
 * `past_key.{i}` / `past_value.{i}` [B, kvHeads, T, headDim]. Outputs: `logits` f32 [B, Lq, vocab],
 * `present_key.{i}` / `present_value.{i}` [B, kvHeads, T + Lq, headDim] (the cache after this step).
 * Positions are static: prefill covers 0 … L−1, decode position T. The cache holds the kvHeads
 * key/value heads; grouped-query attention repeats them for the query heads as HF's repeat_kv does
 * (Unsqueeze, Expand, Reshape: query head h uses key/value head h / rep).
 *
 * Weights are constants when values are given (seeded or read from files), graph inputs with their
 * HF names when not (shapes only).
 */
import { DiagnosticError } from '../../../ir/diagnostics.js';
import type { DType } from '../../../ir/dtype.js';
import { emptyGraph, type Attrs, type Graph } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import { ropeInverseFrequencies, type LlmConfig } from './config.js';
import { weightSpecs } from './weights.js';

export interface LlmGraphOptions {
  phase: 'prefill' | 'decode';
  /** prefill: the prompt length L; decode: the past length T (the new token takes position T). */
  length: number;
  /** Weights and activations: f32 (default) or f16 (norms and softmax computed in f32, as HF does). */
  dtype?: 'f32' | 'f16';
  /** Weight values by HF name (resolveWeights); undefined: weights become graph inputs (shapes only). */
  weights?: Map<string, Tensor>;
  batch?: number;
}

/** The graph's opset: Gelu with `approximate` (20), LayerNormalization (17), Reduce axes as inputs (18). */
export const LLM_OPSET = 20;
/** Additive mask value for positions a query may not see (finite, so an all-visible row never meets −∞ − −∞). */
const MASKED = -1e9;

class Builder {
  readonly g: Graph;
  private count = 0;
  private readonly ints = new Map<string, string>();
  constructor(name: string) {
    this.g = emptyGraph(name, LLM_OPSET);
  }
  input(name: string, dtype: DType, shape: number[]): string {
    this.g.inputs.push(name);
    this.g.types.set(name, { dtype, shape });
    return name;
  }
  constant(name: string, t: Tensor): string {
    this.g.constants.set(name, t);
    this.g.types.set(name, { dtype: t.dtype, shape: [...t.shape] });
    return name;
  }
  /** An int64 vector constant, shared by value. */
  i64(values: number[]): string {
    const key = values.join('_');
    let name = this.ints.get(key);
    if (!name) {
      name = this.constant(`const.i64.${key.replace(/-/g, 'm')}`, Tensor.from('int64', [values.length], values));
      this.ints.set(key, name);
    }
    return name;
  }
  op(op: string, inputs: string[], attrs: Attrs = {}, out?: string, outputs = 1): string {
    const base = out ?? `${op.toLowerCase()}_${this.count}`;
    const names = outputs === 1 ? [base] : Array.from({ length: outputs }, (_, i) => `${base}.${i}`);
    this.g.nodes.push({ op, domain: '', name: `${base}#${this.count++}`, inputs, outputs: names, attrs });
    for (const n of names) this.g.types.set(n, undefined);
    return base;
  }
}

const intAttr = (value: number) => ({ kind: 'int' as const, value });

/** Builds the prefill or decode graph of a config. */
export function buildLlmGraph(cfg: LlmConfig, opts: LlmGraphOptions): Graph {
  const B = opts.batch ?? 1, dtype: DType = opts.dtype === 'f16' ? 'float16' : 'float32';
  const decode = opts.phase === 'decode';
  const Lq = decode ? 1 : opts.length, T = decode ? opts.length : 0;
  const where = decode ? '--context' : '--prompt';
  if (!Number.isInteger(opts.length) || opts.length < (decode ? 0 : 1) || T + Lq > cfg.maxPositions) {
    throw new DiagnosticError({ code: 'W1101', message: `${opts.phase} over ${decode ? `${T} past positions and one new token` : `${Lq} tokens`} exceeds the ${cfg.maxPositions} positions of ${cfg.name} (or is not a ${decode ? 'non-negative' : 'positive'} integer)`, location: where, hint: 'use a shorter prompt or generation' });
  }
  const b = new Builder(`${cfg.name.replace(/[^A-Za-z0-9_]/g, '_')}_${opts.phase}`);
  const bound = new Set<string>();
  const W = (name: string): string => {
    if (bound.has(name)) return name;
    bound.add(name);
    const spec = specs.get(name);
    if (!spec) throw new Error(`internal: no weight ${name}`);
    const t = opts.weights?.get(name);
    if (opts.weights && !t) throw new Error(`internal: weight ${name} has no value`);
    return t ? b.constant(name, t) : b.input(name, dtype, spec.shape);
  };
  const specs = new Map(weightSpecs(cfg).map((s) => [s.name, s]));
  const ids = b.input('input_ids', 'int64', [B, Lq]);
  const { heads, kvHeads, headDim: hd, hidden: D } = cfg;
  const rep = heads / kvHeads;
  const positions = Array.from({ length: Lq }, (_, i) => T + i);

  // x·Wᵀ for an HF Linear weight [out, in]; x·W for GPT-2's Conv1D [in, out].
  const linear = (x: string, w: string, bias?: string, conv1d = false) => {
    const m = b.op('MatMul', [x, conv1d ? W(w) : b.op('Transpose', [W(w)], { perm: { kind: 'ints', value: [1, 0] } })]);
    return bias ? b.op('Add', [m, W(bias)]) : m;
  };
  const toF32 = (x: string) => (dtype === 'float32' ? x : b.op('Cast', [x], { to: intAttr(1) }));
  const toDtype = (x: string) => (dtype === 'float32' ? x : b.op('Cast', [x], { to: intAttr(10) }));
  const norm = (x: string, weight: string, bias?: string) => {
    const xf = toF32(x);
    if (cfg.norm === 'layer') {
      const y = b.op('LayerNormalization', [xf, toF32(W(weight)), toF32(W(bias!))], { axis: intAttr(-1), epsilon: { kind: 'float', value: cfg.normEps } });
      return toDtype(y);
    }
    const sq = b.op('Mul', [xf, xf]);
    const mean = b.op('ReduceMean', [sq, b.i64([-1])], { keepdims: intAttr(1) });
    const eps = b.constant(`${weight}.eps`, Tensor.scalar('float32', cfg.normEps));
    const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [mean, eps])])]);
    return b.op('Mul', [W(weight), toDtype(b.op('Mul', [xf, inv]))]);
  };
  // [B, Lq, n·hd] → [B, n, Lq, hd]
  const splitHeads = (x: string, n: number) => b.op('Transpose', [b.op('Reshape', [x, b.i64([B, Lq, n, hd])])], { perm: { kind: 'ints', value: [0, 2, 1, 3] } });

  // RoPE tables for this graph's positions, [1, 1, Lq, hd] (HF: cat(freqs, freqs)).
  // One pair per use (queries, keys): the distributed compiler lays a constant out in its readers'
  // grid, and query and key heads tile differently under grouped-query attention.
  const tables = new Map<string, { cos: string; sin: string }>();
  if (cfg.positions === 'rope') {
    const inv = ropeInverseFrequencies(cfg);
    const c = new Float32Array(Lq * hd), s = new Float32Array(Lq * hd);
    for (let i = 0; i < Lq; i++) {
      for (let j = 0; j < hd; j++) {
        const angle = positions[i] * inv[j % (hd / 2)];
        c[i * hd + j] = Math.cos(angle);
        s[i * hd + j] = Math.sin(angle);
      }
    }
    for (const use of ['q', 'k']) {
      tables.set(use, { cos: b.constant(`rope.cos.${use}`, Tensor.from(dtype, [1, 1, Lq, hd], c)), sin: b.constant(`rope.sin.${use}`, Tensor.from(dtype, [1, 1, Lq, hd], s)) });
    }
  }
  const rope = (x: string, use: 'q' | 'k') => {
    const { cos, sin } = tables.get(use)!;
    const first = b.op('Slice', [x, b.i64([0]), b.i64([hd / 2]), b.i64([3])]);
    const second = b.op('Slice', [x, b.i64([hd / 2]), b.i64([hd]), b.i64([3])]);
    const rotated = b.op('Concat', [b.op('Neg', [second]), first], { axis: intAttr(-1) });
    return b.op('Add', [b.op('Mul', [x, cos]), b.op('Mul', [rotated, sin])]);
  };

  // Additive mask [1, 1, rep·Lq, T + Lq] for causality and a sliding window; undefined when all is visible.
  const Tk = T + Lq;
  const visible = (qi: number, k: number) => k <= positions[qi] && (cfg.slidingWindow === undefined || positions[qi] - k < cfg.slidingWindow);
  let mask: string | undefined;
  if (positions.some((_, qi) => Array.from({ length: Tk }, (_, k) => k).some((k) => !visible(qi, k)))) {
    const m = new Float32Array(Lq * Tk);
    for (let qi = 0; qi < Lq; qi++) for (let k = 0; k < Tk; k++) m[qi * Tk + k] = visible(qi, k) ? 0 : MASKED;
    mask = b.constant('attention.mask', new Tensor('float32', [1, 1, Lq, Tk], m));
  }
  const scale = b.constant('attention.scale', Tensor.scalar('float32', 1 / Math.sqrt(hd)));

  const attention = (i: number, q: string, k: string, v: string) => {
    let keys = k, values = v;
    if (decode) {
      keys = b.op('Concat', [b.input(`past_key.${i}`, dtype, [B, kvHeads, T, hd]), k], { axis: intAttr(2) }, `present_key.${i}`);
      values = b.op('Concat', [b.input(`past_value.${i}`, dtype, [B, kvHeads, T, hd]), v], { axis: intAttr(2) }, `present_value.${i}`);
    } else {
      keys = b.op('Identity', [k], {}, `present_key.${i}`);
      values = b.op('Identity', [v], {}, `present_value.${i}`);
    }
    b.g.outputs.push(keys, values);
    // HF's repeat_kv: [B, kvHeads, Tk, hd] → [B, kvHeads, rep, Tk, hd] → [B, heads, Tk, hd]
    const repeat = (x: string) => (rep === 1 ? x : b.op('Reshape', [b.op('Expand', [b.op('Unsqueeze', [x, b.i64([2])]), b.i64([B, kvHeads, rep, Tk, hd])]), b.i64([B, heads, Tk, hd])]));
    keys = repeat(keys); values = repeat(values);
    const kt = b.op('Transpose', [keys], { perm: { kind: 'ints', value: [0, 1, 3, 2] } });
    let scores = b.op('Mul', [toF32(b.op('MatMul', [q, kt])), scale]);
    if (mask) scores = b.op('Add', [scores, mask]);
    const probs = toDtype(b.op('Softmax', [scores], { axis: intAttr(-1) }));
    const o = b.op('MatMul', [probs, values]);
    const merged = b.op('Transpose', [o], { perm: { kind: 'ints', value: [0, 2, 1, 3] } });
    return b.op('Reshape', [merged, b.i64([B, Lq, heads * hd])]);
  };

  let x: string;
  if (cfg.family === 'gpt2') {
    const pos = b.constant('position_ids', Tensor.from('int64', [1, Lq], positions));
    x = b.op('Add', [b.op('Gather', [W('wte.weight'), ids]), b.op('Gather', [W('wpe.weight'), pos])]);
    for (let i = 0; i < cfg.layers; i++) {
      const p = `h.${i}.`;
      const h = norm(x, `${p}ln_1.weight`, `${p}ln_1.bias`);
      const qkv = linear(h, `${p}attn.c_attn.weight`, `${p}attn.c_attn.bias`, true);
      const parts = b.op('Split', [qkv, b.i64([D, D, D])], { axis: intAttr(-1) }, `${p}qkv`, 3);
      const a = attention(i, splitHeads(`${parts}.0`, heads), splitHeads(`${parts}.1`, heads), splitHeads(`${parts}.2`, heads));
      x = b.op('Add', [x, linear(a, `${p}attn.c_proj.weight`, `${p}attn.c_proj.bias`, true)]);
      const h2 = norm(x, `${p}ln_2.weight`, `${p}ln_2.bias`);
      const fc = linear(h2, `${p}mlp.c_fc.weight`, `${p}mlp.c_fc.bias`, true);
      const act = b.op('Gelu', [fc], cfg.activation === 'gelu_tanh' ? { approximate: { kind: 'string', value: 'tanh' } } : {});
      x = b.op('Add', [x, linear(act, `${p}mlp.c_proj.weight`, `${p}mlp.c_proj.bias`, true)]);
    }
    x = norm(x, 'ln_f.weight', 'ln_f.bias');
  } else {
    x = b.op('Gather', [W('model.embed_tokens.weight'), ids]);
    for (let i = 0; i < cfg.layers; i++) {
      const p = `model.layers.${i}.`, a = `${p}self_attn.`, m = `${p}mlp.`;
      const h = norm(x, `${p}input_layernorm.weight`);
      const q = rope(splitHeads(linear(h, `${a}q_proj.weight`, cfg.qkvBias ? `${a}q_proj.bias` : undefined), heads), 'q');
      const k = rope(splitHeads(linear(h, `${a}k_proj.weight`, cfg.qkvBias ? `${a}k_proj.bias` : undefined), kvHeads), 'k');
      const v = splitHeads(linear(h, `${a}v_proj.weight`, cfg.qkvBias ? `${a}v_proj.bias` : undefined), kvHeads);
      const o = linear(attention(i, q, k, v), `${a}o_proj.weight`, cfg.outBias ? `${a}o_proj.bias` : undefined);
      x = b.op('Add', [x, o]);
      const h2 = norm(x, `${p}post_attention_layernorm.weight`);
      const gate = linear(h2, `${m}gate_proj.weight`, cfg.mlpBias ? `${m}gate_proj.bias` : undefined);
      const up = linear(h2, `${m}up_proj.weight`, cfg.mlpBias ? `${m}up_proj.bias` : undefined);
      const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
      x = b.op('Add', [x, linear(act, `${m}down_proj.weight`, cfg.mlpBias ? `${m}down_proj.bias` : undefined)]);
    }
    x = norm(x, 'model.norm.weight');
  }
  const head = cfg.tiedEmbeddings ? (cfg.family === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight') : 'lm_head.weight';
  b.op('Identity', [toF32(linear(x, head))], {}, 'logits');
  b.g.outputs.unshift('logits');
  return b.g;
}
