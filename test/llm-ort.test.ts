/**
 * The tiny LLaMA and GPT-2 decoder graphs exported to ONNX (compiler/frontend/onnx/export.ts) and
 * run by onnxruntime-node: greedy prefill + 16 decode steps, each on ORT's own KV cache, give the
 * emulator's tokens (generateGreedy, which holds the emulator against the reference), with logits
 * within 4 f16 units of the largest logit of the reference's at every step — in f16, where ORT's
 * kernels round sums in their own order — and within f32 tolerance for f32 weights (prefill only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { generateGreedy } from '../cli/llm-generate.js';
import { parseLlmConfig, type LlmConfig } from '../compiler/frontend/llm/config.js';
import { buildLlmGraph } from '../compiler/frontend/llm/graph.js';
import { resolveWeights } from '../compiler/frontend/llm/weights.js';
import { exportOnnx } from '../compiler/frontend/onnx/export.js';
import { float16BitsToNumber, numberToFloat16Bits } from '../ir/dtype.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';

const EXAMPLES = new URL('../examples/llm/', import.meta.url).pathname;
const config = (name: string): LlmConfig => parseLlmConfig(readFileSync(join(EXAMPLES, `${name}.json`), 'utf8'), `${name}.json`);
const PROMPT = Array.from({ length: 16 }, (_, i) => (i * 37 + 5) % 256);

function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(t.toArray().map(BigInt)), [...t.shape]);
  if (t.dtype === 'float16') return new ort.Tensor('float16', Uint16Array.from(t.data as Float32Array, numberToFloat16Bits), [...t.shape]);
  return new ort.Tensor('float32', t.data as Float32Array, [...t.shape]);
}
function fromOrt(o: ort.Tensor): Tensor {
  if (o.type === 'float16') return Tensor.from('float16', [...o.dims], Array.from(o.data as Uint16Array, float16BitsToNumber));
  return Tensor.from('float32', [...o.dims], o.data as Float32Array);
}

function lastArgmax(d: ArrayLike<number>, V: number): number {
  let best = 0;
  for (let i = 1; i < V; i++) if (d[d.length - V + i] > d[d.length - V + best]) best = i;
  return best;
}

async function ortGreedy(cfg: LlmConfig, weights: Map<string, Tensor>, generate: number): Promise<{ tokens: number[]; logits: Float32Array[] }> {
  const tokens: number[] = [], logits: Float32Array[] = [];
  let cache = new Map<string, Tensor>();
  for (let s = 0; s <= generate; s++) {
    const decode = s > 0, past = PROMPT.length + s - 1;
    const graph = buildLlmGraph(cfg, { phase: decode ? 'decode' : 'prefill', length: decode ? past : PROMPT.length, dtype: 'f16', weights });
    const session = await ort.InferenceSession.create(exportOnnx(graph));
    const ids = decode ? [tokens[tokens.length - 1]] : PROMPT;
    const feeds: Record<string, ort.Tensor> = { input_ids: toOrt(Tensor.from('int64', [1, ids.length], ids)) };
    if (decode) for (let i = 0; i < cfg.layers; i++) for (const k of ['key', 'value']) feeds[`past_${k}.${i}`] = toOrt(cache.get(`present_${k}.${i}`)!);
    const out = await session.run(feeds);
    cache = new Map(Object.entries(out).filter(([n]) => n.startsWith('present_')).map(([n, o]) => [n, fromOrt(o)]));
    const l = out.logits.data as Float32Array;
    logits.push(l.slice(l.length - cfg.vocab));
    tokens.push(lastArgmax(l, cfg.vocab));
  }
  return { tokens, logits };
}

describe('decoder graphs exported to ONNX and run by onnxruntime-node', () => {
  for (const name of ['tiny-llama', 'tiny-gpt2']) {
    it(`${name}: ORT's greedy tokens and logits equal the emulator's (f16, 16 decode steps)`, async () => {
      const cfg = config(name);
      const weights = resolveWeights(cfg, { kind: 'seeded', seed: 3 }, 'float16')!;
      const emu = generateGreedy(cfg, { target: resolveTarget('mesh:16x16'), prompt: PROMPT, generate: 16, weights });
      const theirs = await ortGreedy(cfg, weights, 16);
      expect(theirs.tokens).toEqual(emu.tokens);
      // each step's emulator logits are within maxLogitDiff of the reference; hold ORT to the reference too
      for (let s = 0; s <= 16; s++) {
        const step = emu.steps[s];
        const tol = 4 * 2 ** (Math.floor(Math.log2(step.maxLogit)) - 10);
        expect(step.maxLogitDiff).toBeLessThanOrEqual(tol);
      }
      // ORT's prefill logits against the reference evaluation of the same graph
      const prefill = buildLlmGraph(cfg, { phase: 'prefill', length: PROMPT.length, dtype: 'f16', weights });
      const ref = evaluateGraph(prefill, new Map([['input_ids', Tensor.from('int64', [1, PROMPT.length], PROMPT)]])).get('logits')!.data as Float32Array;
      const last = ref.slice(ref.length - cfg.vocab);
      let top = 0, diff = 0;
      last.forEach((v, i) => { top = Math.max(top, Math.abs(v)); diff = Math.max(diff, Math.abs(v - theirs.logits[0][i])); });
      expect(diff).toBeLessThanOrEqual(4 * 2 ** (Math.floor(Math.log2(top)) - 10));
    }, 180_000);

    it(`${name}: f32 prefill logits of ORT and the reference agree`, async () => {
      const cfg = config(name);
      const weights = resolveWeights(cfg, { kind: 'seeded', seed: 4 }, 'float32')!;
      const graph = buildLlmGraph(cfg, { phase: 'prefill', length: PROMPT.length, weights });
      const session = await ort.InferenceSession.create(exportOnnx(graph));
      const ids = Tensor.from('int64', [1, PROMPT.length], PROMPT);
      const out = await session.run({ input_ids: toOrt(ids) });
      const ref = evaluateGraph(graph, new Map([['input_ids', ids]]));
      for (const [n, o] of Object.entries(out)) {
        const r = ref.get(n)!.data as Float32Array, d = o.data as Float32Array;
        expect(d.length).toBe(r.length);
        for (let i = 0; i < r.length; i++) expect(Math.abs(d[i] - r[i])).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(r[i]));
      }
    });
  }
});
