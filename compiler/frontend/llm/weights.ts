/**
 * The weights a decoder config needs, by their Hugging Face names and shapes, and the three ways
 * wafer gets their values: none (shapes only, for planning and timing at full size), seeded
 * deterministic values (functional checks of small configs), or tensors read from safetensors.
 *
 * LLaMA-family names are `model.embed_tokens.weight`, `model.layers.{i}.self_attn.q_proj.weight`
 * [out, in] ... `lm_head.weight`; GPT-2's are `wte.weight`, `h.{i}.attn.c_attn.weight` [in, out]
 * (Conv1D) ... `ln_f.bias`, read with or without the `transformer.` prefix.
 */
import { DiagnosticError } from '../../../ir/diagnostics.js';
import { castScalar, type DType } from '../../../ir/dtype.js';
import { mulberry32 } from '../../../ir/random.js';
import { Tensor, sizeOf } from '../../../ir/tensor.js';
import type { LlmConfig } from './config.js';

export interface WeightSpec {
  name: string;
  shape: number[];
  /** How seeded values are drawn: around 1 (norm scales), small (biases), uniform ±1/√fanIn (matrices; ±1 for embeddings). */
  init: 'one' | 'zero-ish' | 'fan-in';
  fanIn?: number;
}

/** Every weight of the config, in a fixed order (embedding, layers, final norm, head). */
export function weightSpecs(cfg: LlmConfig): WeightSpec[] {
  const { hidden: D, intermediate: I, vocab: V, heads, kvHeads, headDim } = cfg;
  const q = heads * headDim, kv = kvHeads * headDim;
  const out: WeightSpec[] = [];
  // Linear weights are [out, in]; GPT-2's Conv1D weights [in, out]; embeddings draw ±1.
  const w = (name: string, shape: number[], fanIn = cfg.family === 'gpt2' ? shape[0] : shape[1]) => out.push({ name, shape, init: 'fan-in', fanIn });
  const e = (name: string, shape: number[]) => w(name, shape, 1);
  const b = (name: string, n: number) => out.push({ name, shape: [n], init: 'zero-ish' });
  const g = (name: string, n: number) => out.push({ name, shape: [n], init: 'one' });
  if (cfg.family === 'gpt2') {
    e('wte.weight', [V, D]);
    e('wpe.weight', [cfg.maxPositions, D]);
    for (let i = 0; i < cfg.layers; i++) {
      const p = `h.${i}.`;
      g(`${p}ln_1.weight`, D); b(`${p}ln_1.bias`, D);
      w(`${p}attn.c_attn.weight`, [D, 3 * D]); b(`${p}attn.c_attn.bias`, 3 * D);
      w(`${p}attn.c_proj.weight`, [D, D]); b(`${p}attn.c_proj.bias`, D);
      g(`${p}ln_2.weight`, D); b(`${p}ln_2.bias`, D);
      w(`${p}mlp.c_fc.weight`, [D, I]); b(`${p}mlp.c_fc.bias`, I);
      w(`${p}mlp.c_proj.weight`, [I, D]); b(`${p}mlp.c_proj.bias`, D);
    }
    g('ln_f.weight', D); b('ln_f.bias', D);
    if (!cfg.tiedEmbeddings) w('lm_head.weight', [V, D], D);
    return out;
  }
  e('model.embed_tokens.weight', [V, D]);
  for (let i = 0; i < cfg.layers; i++) {
    const p = `model.layers.${i}.`;
    g(`${p}input_layernorm.weight`, D);
    w(`${p}self_attn.q_proj.weight`, [q, D]);
    if (cfg.qkvBias) b(`${p}self_attn.q_proj.bias`, q);
    w(`${p}self_attn.k_proj.weight`, [kv, D]);
    if (cfg.qkvBias) b(`${p}self_attn.k_proj.bias`, kv);
    w(`${p}self_attn.v_proj.weight`, [kv, D]);
    if (cfg.qkvBias) b(`${p}self_attn.v_proj.bias`, kv);
    w(`${p}self_attn.o_proj.weight`, [D, q]);
    if (cfg.outBias) b(`${p}self_attn.o_proj.bias`, D);
    g(`${p}post_attention_layernorm.weight`, D);
    w(`${p}mlp.gate_proj.weight`, [I, D]);
    w(`${p}mlp.up_proj.weight`, [I, D]);
    w(`${p}mlp.down_proj.weight`, [D, I]);
    if (cfg.mlpBias) { b(`${p}mlp.gate_proj.bias`, I); b(`${p}mlp.up_proj.bias`, I); b(`${p}mlp.down_proj.bias`, D); }
  }
  g('model.norm.weight', D);
  if (!cfg.tiedEmbeddings) w('lm_head.weight', [V, D], D);
  return out;
}

/** Where weight values come from. */
export type WeightSource =
  | { kind: 'shapes' }
  | { kind: 'seeded'; seed: number }
  | { kind: 'tensors'; /** Reads a tensor by name; undefined when absent. */ get(name: string): Tensor | undefined; names: Iterable<string>; where: string };

/** Largest weight the seeded path builds (guards tests and examples against full-size configs). */
const MAX_SEEDED = 1 << 26;

/**
 * The weights' values in `dtype` (f32 or f16), by name; undefined for a shapes-only source. Tensors
 * from files are checked against the specs (W1104 lists every missing, mis-shaped and unused name)
 * and converted to `dtype`.
 */
export function resolveWeights(cfg: LlmConfig, source: WeightSource, dtype: DType): Map<string, Tensor> | undefined {
  const specs = weightSpecs(cfg);
  if (source.kind === 'shapes') return undefined;
  const out = new Map<string, Tensor>();
  if (source.kind === 'seeded') {
    const total = specs.reduce((a, s) => a + sizeOf(s.shape), 0);
    if (total > MAX_SEEDED) {
      throw new DiagnosticError({ code: 'W1104', message: `seeded weights for ${cfg.name} would hold ${total} values (limit ${MAX_SEEDED})`, location: cfg.name, hint: 'plan full-size models with shapes-only weights; seed only small configs' });
    }
    const next = mulberry32(source.seed);
    for (const s of specs) {
      const n = sizeOf(s.shape);
      const scale = s.init === 'fan-in' ? 1 / Math.sqrt(s.fanIn ?? 1) : 0.1;
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const u = next() * 2 - 1;
        data[i] = castScalar(s.init === 'one' ? 1 + 0.1 * u : u * scale, dtype);
      }
      out.set(s.name, new Tensor(dtype, s.shape, data));
    }
    return out;
  }
  const problems: string[] = [];
  const prefixed = (name: string) => (cfg.family === 'gpt2' ? [name, `transformer.${name}`] : [name]);
  const used = new Set<string>();
  for (const s of specs) {
    let t: Tensor | undefined, found = '';
    for (const n of prefixed(s.name)) {
      t = source.get(n);
      if (t) { found = n; break; }
    }
    if (!t) { problems.push(`missing ${s.name} [${s.shape.join(', ')}]`); continue; }
    used.add(found);
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      problems.push(`${found} is [${t.shape.join(', ')}], the config needs [${s.shape.join(', ')}]`);
      continue;
    }
    out.set(s.name, convert(t, dtype));
  }
  // GPT-2 checkpoints carry causal-mask buffers (h.N.attn.bias / masked_bias) and tied lm_head copies.
  const ignorable = (n: string) => /(^|\.)attn\.(masked_)?bias$/.test(n) || (cfg.tiedEmbeddings && n === 'lm_head.weight');
  const unused = [...source.names].filter((n) => !used.has(n) && !ignorable(n));
  if (unused.length) problems.push(`unused by the config: ${unused.slice(0, 8).join(', ')}${unused.length > 8 ? ` and ${unused.length - 8} more` : ''}`);
  if (problems.length) {
    throw new DiagnosticError({
      code: 'W1104',
      message: `weights in ${source.where} disagree with ${cfg.name}: ${problems.slice(0, 12).join('; ')}${problems.length > 12 ? `; and ${problems.length - 12} more` : ''}`,
      location: source.where,
      hint: 'check that the weights belong to this config.json',
    });
  }
  return out;
}

// f32, f16 and bf16 tensors all store (pre-rounded) values in a Float32Array (ir/dtype.ts).
function convert(t: Tensor, dtype: DType): Tensor {
  if (t.dtype === dtype) return t;
  return Tensor.from(dtype, t.shape, t.data as ArrayLike<number>);
}
