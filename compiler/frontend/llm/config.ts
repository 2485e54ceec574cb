/**
 * Hugging Face style `config.json` → `LlmConfig`: the decoder's dimensions and the choices that
 * shape its graph (norm, activation, positions, biases, tied embeddings, RoPE and its scaling).
 *
 * Supported architectures: LlamaForCausalLM (multi-head and grouped-query attention), MistralForCausalLM,
 * Qwen2ForCausalLM (bias on the q/k/v projections) and GPT2LMHeadModel (LayerNorm, learned positions,
 * GELU, Conv1D weights stored [in, out]). Every field is validated before anything is sized from it;
 * a bad config is a W1101 diagnostic naming the field, an unsupported architecture or option W1102.
 */
import { DiagnosticError } from '../../../ir/diagnostics.js';

export type LlmFamily = 'llama' | 'mistral' | 'qwen2' | 'gpt2';

/** RoPE frequency scaling (HF `rope_scaling`). */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number };

export interface LlmConfig {
  /** A name for reports: `_name_or_path` when given, else the caller's (usually the file name). */
  name: string;
  family: LlmFamily;
  /** The HF class named in `architectures` (or implied by `model_type`). */
  architecture: string;
  hidden: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention when < heads). */
  kvHeads: number;
  headDim: number;
  /** Width of the MLP's hidden layer. */
  intermediate: number;
  vocab: number;
  /** Longest sequence (prompt + generation) the positions support. */
  maxPositions: number;
  norm: 'rms' | 'layer';
  normEps: number;
  /** silu (gated MLP: down(silu(gate(x)) · up(x))); gelu_tanh / gelu (plain MLP: proj(gelu(fc(x)))). */
  activation: 'silu' | 'gelu_tanh' | 'gelu';
  mlp: 'gated' | 'plain';
  positions: 'rope' | 'learned';
  /** RoPE (positions 'rope'): base and scaling; rotate-half pairs (i, i + headDim/2). */
  rope?: { theta: number; scaling?: RopeScaling };
  /** Bias on the q, k and v projections (Qwen2; LLaMA's attention_bias; GPT-2). */
  qkvBias: boolean;
  /** Bias on the attention output projection and the MLP projections (GPT-2; LLaMA's attention_bias / mlp_bias). */
  outBias: boolean;
  mlpBias: boolean;
  /** The LM head shares the token embedding. */
  tiedEmbeddings: boolean;
  /** Sliding-window attention width (Mistral v0.1, Qwen2 with use_sliding_window), when it applies. */
  slidingWindow?: number;
  /** The checkpoint's dtype (`torch_dtype`), informational. */
  torchDtype?: string;
}

const ARCH: Record<string, LlmFamily> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  GPT2LMHeadModel: 'gpt2',
};
const MODEL_TYPE: Record<string, string> = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM', gpt2: 'GPT2LMHeadModel' };

/** Largest dimension accepted from a config (sizes are products of these; 2^24 keeps them exact). */
const MAX_DIM = 1 << 24;

function bad(where: string, message: string, hint: string, code = 'W1101'): DiagnosticError {
  return new DiagnosticError({ code, message, location: where, hint });
}

/** Parses and validates a config.json text. `where`: its path, for diagnostics and the default name. */
export function parseLlmConfig(text: string, where = 'config.json'): LlmConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(where, `config is not valid JSON: ${(e as Error).message}`, 'give a Hugging Face config.json');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(where, 'config is not a JSON object', 'give a Hugging Face config.json');
  return llmConfigFromJson(raw as Record<string, unknown>, where);
}

/** Validates an already parsed config object (see parseLlmConfig). */
export function llmConfigFromJson(j: Record<string, unknown>, where = 'config.json'): LlmConfig {
  const archs = j.architectures;
  let architecture: string | undefined;
  if (archs !== undefined) {
    if (!Array.isArray(archs) || archs.length === 0 || !archs.every((a) => typeof a === 'string')) {
      throw bad(`${where}: architectures`, 'architectures is not a non-empty list of class names', 'e.g. "architectures": ["LlamaForCausalLM"]');
    }
    architecture = (archs as string[]).find((a) => a in ARCH);
    if (!architecture) {
      throw bad(`${where}: architectures`, `unsupported architecture ${(archs as string[]).join(', ')}`, `wafer builds ${Object.keys(ARCH).join(', ')}`, 'W1102');
    }
  } else if (typeof j.model_type === 'string' && MODEL_TYPE[j.model_type]) {
    architecture = MODEL_TYPE[j.model_type];
  } else {
    throw bad(where, 'config names no architecture (neither "architectures" nor a known "model_type")', `give "architectures": one of ${Object.keys(ARCH).join(', ')}`);
  }
  const family = ARCH[architecture];
  const int = (key: string, dflt?: number, min = 1): number => {
    const v = j[key] ?? dflt;
    if (v === undefined || v === null) throw bad(`${where}: ${key}`, `${key} is missing`, `${architecture} configs give ${key}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_DIM) {
      throw bad(`${where}: ${key}`, `${key} = ${JSON.stringify(v)} is not an integer from ${min} to ${MAX_DIM}`, 'fix the config');
    }
    return v;
  };
  const num = (key: string, dflt: number, positive = true): number => {
    const v = j[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
      throw bad(`${where}: ${key}`, `${key} = ${JSON.stringify(v)} is not a ${positive ? 'positive ' : ''}number`, 'fix the config');
    }
    return v;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = j[key] ?? dflt;
    if (typeof v !== 'boolean') throw bad(`${where}: ${key}`, `${key} = ${JSON.stringify(v)} is not true or false`, 'fix the config');
    return v;
  };
  const name = typeof j._name_or_path === 'string' && j._name_or_path ? j._name_or_path : where.replace(/^.*[\\/]/, '').replace(/\.json$/, '');
  const torchDtype = typeof j.torch_dtype === 'string' ? j.torch_dtype : undefined;

  let cfg: LlmConfig;
  if (family === 'gpt2') {
    const hidden = int('n_embd'), heads = int('n_head');
    const act = j.activation_function ?? 'gelu_new';
    const activation = act === 'gelu_new' || act === 'gelu_pytorch_tanh' || act === 'gelu_fast' ? 'gelu_tanh' : act === 'gelu' ? 'gelu' : undefined;
    if (!activation) throw bad(`${where}: activation_function`, `activation_function ${JSON.stringify(act)} is not supported`, 'wafer builds gelu_new (tanh approximation) and gelu', 'W1102');
    const inner = j.n_inner === null || j.n_inner === undefined ? 4 * hidden : int('n_inner');
    cfg = {
      name, family, architecture, hidden, layers: int('n_layer'), heads, kvHeads: heads, headDim: hidden / heads,
      intermediate: inner, vocab: int('vocab_size'), maxPositions: int('n_positions', j.n_ctx as number | undefined),
      norm: 'layer', normEps: num('layer_norm_epsilon', 1e-5), activation, mlp: 'plain', positions: 'learned',
      qkvBias: true, outBias: true, mlpBias: true, tiedEmbeddings: bool('tie_word_embeddings', true), torchDtype,
    };
    if (hidden % heads !== 0) throw bad(`${where}: n_head`, `n_embd = ${hidden} is not a multiple of n_head = ${heads}`, 'fix the config');
  } else {
    const hidden = int('hidden_size'), heads = int('num_attention_heads');
    const kvHeads = int('num_key_value_heads', heads);
    if (heads % kvHeads !== 0) throw bad(`${where}: num_key_value_heads`, `num_attention_heads = ${heads} is not a multiple of num_key_value_heads = ${kvHeads}`, 'grouped-query attention shares each key/value head among a whole number of query heads');
    const headDim = j.head_dim === undefined || j.head_dim === null ? hidden / heads : int('head_dim');
    if (!Number.isInteger(headDim)) throw bad(`${where}: num_attention_heads`, `hidden_size = ${hidden} is not a multiple of num_attention_heads = ${heads}`, 'give head_dim, or fix the config');
    if (headDim % 2 !== 0) throw bad(`${where}: head_dim`, `head_dim = ${headDim} is odd; rotary embeddings rotate pairs`, 'fix the config');
    const act = j.hidden_act ?? 'silu';
    if (act !== 'silu') throw bad(`${where}: hidden_act`, `hidden_act ${JSON.stringify(act)} is not supported for ${architecture}`, 'wafer builds the gated SiLU MLP', 'W1102');
    const attentionBias = bool('attention_bias', false);
    const useSliding = family === 'qwen2' ? bool('use_sliding_window', false) : true;
    const sw = j.sliding_window;
    let slidingWindow: number | undefined;
    if (useSliding && sw !== undefined && sw !== null) slidingWindow = int('sliding_window');
    cfg = {
      name, family, architecture, hidden, layers: int('num_hidden_layers'), heads, kvHeads, headDim,
      intermediate: int('intermediate_size'), vocab: int('vocab_size'), maxPositions: int('max_position_embeddings', 2048),
      norm: 'rms', normEps: num('rms_norm_eps', 1e-6), activation: 'silu', mlp: 'gated', positions: 'rope',
      rope: { theta: num('rope_theta', 10000), scaling: ropeScaling(j.rope_scaling, where) },
      qkvBias: family === 'qwen2' || attentionBias, outBias: attentionBias, mlpBias: bool('mlp_bias', false),
      tiedEmbeddings: bool('tie_word_embeddings', false), slidingWindow, torchDtype,
    };
  }
  return cfg;
}

function ropeScaling(v: unknown, where: string): RopeScaling | undefined {
  if (v === undefined || v === null) return undefined;
  const at = `${where}: rope_scaling`;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(at, 'rope_scaling is not an object', 'e.g. {"rope_type": "llama3", "factor": 8, ...}');
  const o = v as Record<string, unknown>;
  const type = o.rope_type ?? o.type;
  const pos = (key: string): number => {
    const x = o[key];
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw bad(`${at}.${key}`, `${key} = ${JSON.stringify(x)} is not a positive number`, 'fix the config');
    return x;
  };
  if (type === 'default') return undefined;
  if (type === 'linear') return { type: 'linear', factor: pos('factor') };
  if (type === 'llama3') {
    const s: RopeScaling = { type: 'llama3', factor: pos('factor'), lowFreqFactor: pos('low_freq_factor'), highFreqFactor: pos('high_freq_factor'), originalMaxPositions: pos('original_max_position_embeddings') };
    if (s.highFreqFactor <= s.lowFreqFactor) throw bad(`${at}.high_freq_factor`, 'high_freq_factor must exceed low_freq_factor', 'fix the config');
    return s;
  }
  throw bad(at, `rope scaling ${JSON.stringify(type)} is not supported`, 'wafer builds "linear" and "llama3" rope scaling', 'W1102');
}

/**
 * The RoPE inverse frequencies (headDim/2 of them) with the config's scaling applied, as HF's
 * `_compute_default_rope_parameters` / `_compute_llama3_parameters` / linear scaling compute them
 * (linear scaling divides positions by the factor, the same as dividing the frequencies).
 */
export function ropeInverseFrequencies(cfg: LlmConfig): Float64Array {
  if (!cfg.rope) throw new Error('internal: ropeInverseFrequencies on a config without RoPE');
  const half = cfg.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(cfg.rope.theta, (2 * i) / cfg.headDim);
  const s = cfg.rope.scaling;
  if (s?.type === 'linear') for (let i = 0; i < half; i++) inv[i] /= s.factor;
  if (s?.type === 'llama3') {
    const lowWave = s.originalMaxPositions / s.lowFreqFactor, highWave = s.originalMaxPositions / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wave = (2 * Math.PI) / inv[i];
      if (wave > lowWave) inv[i] /= s.factor;
      else if (wave >= highWave) {
        const smooth = (s.originalMaxPositions / wave - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}

/** Parameter count (weights and biases, the LM head counted once when tied). */
export function parameterCount(cfg: LlmConfig): number {
  const { hidden: D, intermediate: I, vocab: V, heads, kvHeads, headDim, layers } = cfg;
  const q = heads * headDim, kv = kvHeads * headDim;
  const attn = D * q + 2 * D * kv + q * D + (cfg.qkvBias ? q + 2 * kv : 0) + (cfg.outBias ? D : 0);
  const mlp = (cfg.mlp === 'gated' ? 3 * D * I : 2 * D * I) + (cfg.mlpBias ? (cfg.mlp === 'gated' ? 2 * I + D : I + D) : 0);
  const norms = (cfg.norm === 'layer' ? 2 : 1) * 2 * D;
  const perLayer = attn + mlp + norms;
  const embed = V * D + (cfg.positions === 'learned' ? cfg.maxPositions * D : 0);
  const head = cfg.tiedEmbeddings ? 0 : V * D;
  const finalNorm = (cfg.norm === 'layer' ? 2 : 1) * D;
  return layers * perLayer + embed + head + finalNorm;
}
