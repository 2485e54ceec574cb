/**
 * The LLM frontend: config.json parsing and its diagnostics, the example configs' parameter counts,
 * and the prefill / decode graphs — held against a plain-loop forward pass written from the HF
 * modelling code (test/helpers/llm-naive.ts) for every family and option (GQA, QKV bias, sliding
 * window, tied embeddings, llama3 and linear RoPE scaling, LayerNorm + GELU + learned positions), and
 * decode against prefill: one decode step on the prefill's cache gives the logits of a prefill one
 * token longer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { llmConfigFromJson, parameterCount, parseLlmConfig, type LlmConfig } from '../compiler/frontend/llm/config.js';
import { buildLlmGraph } from '../compiler/frontend/llm/graph.js';
import { resolveWeights } from '../compiler/frontend/llm/weights.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { Tensor } from '../ir/tensor.js';
import { verifyGraph } from '../ir/verify.js';
import { naiveLogits } from './helpers/llm-naive.js';

const EXAMPLES = new URL('../examples/llm/', import.meta.url).pathname;
const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(EXAMPLES, `${name}.json`), 'utf8'));
const IDS = [3, 250, 17, 17, 96, 1, 200, 45, 7, 128, 64, 31, 9];

const VARIANTS: Record<string, Record<string, unknown>> = {
  'tiny-llama (GQA)': example('tiny-llama'),
  'tiny-gpt2': example('tiny-gpt2'),
  'qwen2 (qkv bias, tied)': { ...example('tiny-llama'), architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', tie_word_embeddings: true },
  'mistral (sliding window 5)': { ...example('tiny-llama'), architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: 5 },
  'llama MHA + llama3 rope scaling': { ...example('tiny-llama'), num_key_value_heads: 4, rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 } },
  'llama linear rope scaling, biases': { ...example('tiny-llama'), rope_scaling: { type: 'linear', factor: 4 }, attention_bias: true, mlp_bias: true },
};

function logitsOf(cfg: LlmConfig, w: Map<string, Tensor>, ids: number[]): Float32Array {
  const g = buildLlmGraph(cfg, { phase: 'prefill', length: ids.length, weights: w });
  expect(verifyGraph(g)).toEqual([]);
  return evaluateGraph(g, new Map([['input_ids', Tensor.from('int64', [1, ids.length], ids)]])).get('logits')!.data as Float32Array;
}

describe('decoder graphs against the HF forward pass', () => {
  for (const [label, json] of Object.entries(VARIANTS)) {
    it(`${label}: prefill logits match, and decode on the prefill cache equals a longer prefill`, () => {
      const cfg = llmConfigFromJson(json, label);
      const w = resolveWeights(cfg, { kind: 'seeded', seed: 11 }, 'float32')!;
      const L = IDS.length - 1;
      const logits = logitsOf(cfg, w, IDS.slice(0, L));
      const naive = naiveLogits(cfg, w, IDS.slice(0, L));
      let maxDiff = 0, maxAbs = 0;
      naive.forEach((row, t) => row.forEach((v, i) => {
        maxDiff = Math.max(maxDiff, Math.abs(v - logits[t * cfg.vocab + i]));
        maxAbs = Math.max(maxAbs, Math.abs(v));
      }));
      expect(maxAbs).toBeGreaterThan(0.5);
      expect(maxDiff).toBeLessThan(2e-5 * Math.max(1, maxAbs));

      const prefill = buildLlmGraph(cfg, { phase: 'prefill', length: L, weights: w });
      const cache = evaluateGraph(prefill, new Map([['input_ids', Tensor.from('int64', [1, L], IDS.slice(0, L))]]));
      const decode = buildLlmGraph(cfg, { phase: 'decode', length: L, weights: w });
      expect(verifyGraph(decode)).toEqual([]);
      const feeds = new Map([['input_ids', Tensor.from('int64', [1, 1], [IDS[L]])]]);
      for (let i = 0; i < cfg.layers; i++) for (const kind of ['key', 'value']) feeds.set(`past_${kind}.${i}`, cache.get(`present_${kind}.${i}`)!);
      const step = evaluateGraph(decode, feeds);
      expect(step.get(`present_key.${cfg.layers - 1}`)!.shape).toEqual([1, cfg.kvHeads, L + 1, cfg.headDim]);
      const longer = logitsOf(cfg, w, IDS);
      const last = step.get('logits')!.data as Float32Array;
      for (let i = 0; i < cfg.vocab; i++) expect(Math.abs(last[i] - longer[L * cfg.vocab + i])).toBeLessThan(1e-5 * Math.max(1, maxAbs));
    });
  }

  it('shapes-only graphs take the weights as inputs with their HF shapes', () => {
    const cfg = parseLlmConfig(readFileSync(join(EXAMPLES, 'llama3-8b.json'), 'utf8'));
    const g = buildLlmGraph(cfg, { phase: 'decode', length: 4096, dtype: 'f16' });
    expect(g.constants.has('model.layers.0.self_attn.q_proj.weight')).toBe(false);
    expect(g.types.get('model.layers.31.self_attn.k_proj.weight')).toEqual({ dtype: 'float16', shape: [1024, 4096] });
    expect(g.types.get('past_key.0')).toEqual({ dtype: 'float16', shape: [1, 8, 4096, 128] });
    expect(g.inputs.filter((n) => n.startsWith('model.')).length).toBe(32 * 9 + 2);
    expect(verifyGraph(g)).toEqual([]);
  });

  it('refuses a prompt beyond the config positions (W1101)', () => {
    const cfg = llmConfigFromJson(example('tiny-gpt2'));
    expect(() => buildLlmGraph(cfg, { phase: 'prefill', length: 129 })).toThrow(/W1101/);
    expect(() => buildLlmGraph(cfg, { phase: 'decode', length: 128 })).toThrow(/W1101/);
  });
});

describe('config.json parsing', () => {
  it('reads the example configs with their published parameter counts', () => {
    const counts: Record<string, number> = { 'llama3-8b': 8.03e9, 'llama2-13b': 13.016e9, 'codellama-34b': 33.74e9, 'qwen2-72b': 72.71e9, 'mistral-7b': 7.24e9, gpt2: 124.4e6 };
    for (const [name, n] of Object.entries(counts)) {
      const cfg = parseLlmConfig(readFileSync(join(EXAMPLES, `${name}.json`), 'utf8'), `${name}.json`);
      expect(Math.abs(parameterCount(cfg) - n) / n).toBeLessThan(2e-3);
    }
    const l3 = parseLlmConfig(readFileSync(join(EXAMPLES, 'llama3-8b.json'), 'utf8'));
    expect([l3.family, l3.kvHeads, l3.headDim, l3.rope?.theta, l3.tiedEmbeddings]).toEqual(['llama', 8, 128, 500000, false]);
    const m = parseLlmConfig(readFileSync(join(EXAMPLES, 'mistral-7b.json'), 'utf8'));
    expect(m.slidingWindow).toBe(4096);
    const q = parseLlmConfig(readFileSync(join(EXAMPLES, 'qwen2-72b.json'), 'utf8'));
    expect([q.qkvBias, q.outBias, q.slidingWindow]).toEqual([true, false, undefined]);
  });

  const bad: [string, string, RegExp][] = [
    ['not json', '{', /W1101.*not valid JSON/],
    ['an array', '[1]', /W1101.*not a JSON object/],
    ['no architecture', '{"hidden_size": 8}', /W1101.*no architecture/],
    ['unknown architecture', '{"architectures": ["BertModel"]}', /W1102.*BertModel/],
    ['missing field', '{"architectures": ["LlamaForCausalLM"], "hidden_size": 64}', /W1101.*num_attention_heads is missing/],
    ['negative size', JSON.stringify({ ...example('tiny-llama'), hidden_size: -64 }), /W1101.*hidden_size = -64/],
    ['fractional size', JSON.stringify({ ...example('tiny-llama'), vocab_size: 2.5 }), /W1101.*vocab_size = 2.5/],
    ['kv heads not dividing', JSON.stringify({ ...example('tiny-llama'), num_key_value_heads: 3 }), /W1101.*not a multiple of num_key_value_heads = 3/],
    ['heads not dividing hidden', JSON.stringify({ ...example('tiny-llama'), num_attention_heads: 5, num_key_value_heads: 5 }), /W1101.*not a multiple of num_attention_heads = 5/],
    ['unsupported activation', JSON.stringify({ ...example('tiny-llama'), hidden_act: 'gelu' }), /W1102.*hidden_act/],
    ['unsupported rope scaling', JSON.stringify({ ...example('tiny-llama'), rope_scaling: { rope_type: 'yarn', factor: 4 } }), /W1102.*yarn/],
    ['bad llama3 scaling', JSON.stringify({ ...example('tiny-llama'), rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 4, high_freq_factor: 1, original_max_position_embeddings: 8192 } }), /W1101.*high_freq_factor/],
    ['gpt2 heads', JSON.stringify({ ...example('tiny-gpt2'), n_head: 3 }), /W1101.*n_head = 3/],
    ['huge dim', JSON.stringify({ ...example('tiny-llama'), intermediate_size: 2 ** 40 }), /W1101.*intermediate_size/],
  ];
  for (const [label, text, re] of bad) {
    it(`refuses ${label}`, () => {
      let err: unknown;
      try {
        parseLlmConfig(text, 'cfg.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DiagnosticError);
      expect(String((err as Error).message)).toMatch(re);
    });
  }
});
