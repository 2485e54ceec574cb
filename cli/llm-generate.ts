/**
 * Greedy generation on the emulator: the prefill graph of the prompt is compiled and run
 * functionally, then one decode graph per generated token (its KV cache the previous step's
 * `present_*` outputs). Every step is also evaluated by the reference semantics (ir/evaluate.ts) on
 * its own cache, so the emulator's token ids and logits can be held against an independent run, and
 * every step's measured cycles against the compiler's prediction.
 *
 * This is the functional check of small configs (`wafer llm --generate-text`); full-size models are
 * planned (compiler/llm/plan.ts), not run. Lives in cli/ because it drives both compiler/ and runtime/.
 */
import { buildLlmGraph } from '../compiler/frontend/llm/graph.js';
import type { LlmConfig } from '../compiler/frontend/llm/config.js';
import { compile } from '../compiler/compile.js';
import { evaluateGraph } from '../ir/evaluate.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';
import { emulate } from '../runtime/emulate.js';

export interface GenerateOptions {
  target: Target;
  /** Prompt token ids (each below the vocabulary size). */
  prompt: number[];
  /** Tokens to generate after the prompt's first prediction (decode steps). */
  generate: number;
  dtype?: 'f32' | 'f16';
  /** Weight values by HF name (resolveWeights with seeded values or safetensors). */
  weights: Map<string, Tensor>;
}

export interface GenerateStep {
  phase: 'prefill' | 'decode';
  /** Positions before this step (0 for prefill, the cache length for decode). */
  past: number;
  /** The greedy token the emulator's logits give, and the reference's. */
  token: number;
  referenceToken: number;
  /** Largest |emulator − reference| over this step's last-position logits (both on their own caches). */
  maxLogitDiff: number;
  /** Largest |logit| of the reference, to put the difference in scale. */
  maxLogit: number;
  cycles: number;
  predictedCycles: number;
  cores: number;
}

export interface GenerateResult {
  /** The emulator's generated token ids: the prefill's prediction, then one per decode step. */
  tokens: number[];
  referenceTokens: number[];
  steps: GenerateStep[];
}

function argmaxLast(data: ArrayLike<number>, vocab: number): number {
  const off = data.length - vocab;
  let best = 0;
  for (let i = 1; i < vocab; i++) if (data[off + i] > data[off + best]) best = i;
  return best;
}

/** Greedy decoding of `generate` tokens after the prompt, on the emulator and the reference. */
export function generateGreedy(cfg: LlmConfig, opts: GenerateOptions): GenerateResult {
  const dtype = opts.dtype ?? 'f16';
  const store = dtype === 'f16' ? 'float16' : 'float32';
  const tokens: number[] = [], referenceTokens: number[] = [], steps: GenerateStep[] = [];
  let cache = new Map<string, Tensor>(), refCache = new Map<string, Tensor>();
  let next = -1, refNext = -1;
  for (let s = 0; s <= opts.generate; s++) {
    const decode = s > 0;
    const past = decode ? opts.prompt.length + s - 1 : 0;
    const graph = buildLlmGraph(cfg, { phase: decode ? 'decode' : 'prefill', length: decode ? past : opts.prompt.length, dtype, weights: opts.weights });
    const ids = decode ? [next] : opts.prompt, refIds = decode ? [refNext] : opts.prompt;
    const feeds = (tokenIds: number[], kv: Map<string, Tensor>) => {
      const m = new Map<string, Tensor>([['input_ids', Tensor.from('int64', [1, tokenIds.length], tokenIds)]]);
      if (decode) for (let i = 0; i < cfg.layers; i++) for (const kind of ['key', 'value']) m.set(`past_${kind}.${i}`, kv.get(`present_${kind}.${i}`)!);
      return m;
    };
    const res = compile(graph, { target: opts.target });
    const inputs = new Map<string, Float32Array>();
    for (const [name, t] of feeds(ids, cache)) inputs.set(name, Float32Array.from(t.data as ArrayLike<number>));
    const run = emulate(res.program, { mode: 'functional', inputs });
    const out = new Map((run.outputs ?? []).map((o) => [o.name, o]));
    const ref = evaluateGraph(graph, feeds(refIds, refCache));
    const logits = out.get('logits')!.data, refLogits = ref.get('logits')!.data as Float32Array;
    next = argmaxLast(logits, cfg.vocab);
    refNext = argmaxLast(refLogits, cfg.vocab);
    let maxLogitDiff = 0, maxLogit = 0;
    for (let i = refLogits.length - cfg.vocab; i < refLogits.length; i++) {
      maxLogitDiff = Math.max(maxLogitDiff, Math.abs(logits[i] - refLogits[i]));
      maxLogit = Math.max(maxLogit, Math.abs(refLogits[i]));
    }
    cache = new Map();
    for (const [name, o] of out) if (name.startsWith('present_')) cache.set(name, Tensor.from(store, o.shape, o.data));
    refCache = ref;
    tokens.push(next);
    referenceTokens.push(refNext);
    steps.push({
      phase: decode ? 'decode' : 'prefill', past, token: next, referenceToken: refNext, maxLogitDiff, maxLogit,
      cycles: run.totalCycles, predictedCycles: res.program.predicted?.totalCycles ?? -1, cores: run.regions.reduce((a, r) => a + r.cores, 0),
    });
  }
  return { tokens, referenceTokens, steps };
}
