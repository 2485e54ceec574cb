/**
 * The tiny LLaMA (grouped-query attention) and GPT-2 configs of examples/llm with seeded f16
 * weights, compiled for mesh:16x16: prefill logits and 16 greedy decode steps on the emulator agree
 * with the reference evaluation of the same graphs (each on its own KV cache), every step's measured
 * cycles equal the prediction; the same weights written to .safetensors and read back by
 * `wafer llm --generate-text --weights` give the same tokens and logits.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureCli } from './helpers/cli-capture.js';
import { generateGreedy, type GenerateResult } from '../cli/llm-generate.js';
import { parseLlmConfig, type LlmConfig } from '../compiler/frontend/llm/config.js';
import { encodeSafetensors } from '../compiler/frontend/llm/safetensors.js';
import { resolveWeights, weightSpecs } from '../compiler/frontend/llm/weights.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';

const EXAMPLES = new URL('../examples/llm/', import.meta.url).pathname;
const config = (name: string): LlmConfig => parseLlmConfig(readFileSync(join(EXAMPLES, `${name}.json`), 'utf8'), `${name}.json`);
const PROMPT = Array.from({ length: 16 }, (_, i) => (i * 37 + 5) % 256);
/** f16 logits: the emulator and the reference round the same ops; allow 4 f16 units of the largest logit. */
const f16Tolerance = (maxLogit: number) => 4 * 2 ** (Math.floor(Math.log2(Math.max(maxLogit, 2 ** -14))) - 10);

function checkRun(r: GenerateResult): void {
  expect(r.steps).toHaveLength(17);
  expect(r.tokens).toEqual(r.referenceTokens);
  for (const s of r.steps) {
    expect(s.cycles).toBe(s.predictedCycles);
    expect(s.maxLogit).toBeGreaterThan(0.1);
    expect(s.maxLogitDiff).toBeLessThanOrEqual(f16Tolerance(s.maxLogit));
  }
  // the decode steps' cost grows with the cache
  const decode = r.steps.slice(1).map((s) => s.cycles);
  expect(decode[decode.length - 1]).toBeGreaterThan(decode[0]);
  expect(r.steps.map((s) => s.past)).toEqual([0, ...Array.from({ length: 16 }, (_, i) => 16 + i)]);
}

describe('greedy generation on the emulator (mesh:16x16, f16 seeded weights)', () => {
  for (const name of ['tiny-llama', 'tiny-gpt2']) {
    it(`${name}: prefill + 16 decode steps match the reference, measured == predicted`, () => {
      const cfg = config(name);
      const weights = resolveWeights(cfg, { kind: 'seeded', seed: 3 }, 'float16')!;
      const r = generateGreedy(cfg, { target: resolveTarget('mesh:16x16'), prompt: PROMPT, generate: 16, weights });
      checkRun(r);
    }, 120_000);
  }
});

const io = captureCli();
const { wafer } = io;

describe('wafer llm --generate-text with safetensors weights', () => {
  it('reads the seeded weights back from a .safetensors file and generates the same tokens', async () => {
    const cfg = config('tiny-llama');
    const dir = mkdtempSync(join(tmpdir(), 'wafer-llm-'));
    const weights = resolveWeights(cfg, { kind: 'seeded', seed: 5 }, 'float16')!;
    writeFileSync(join(dir, 'config.json'), readFileSync(join(EXAMPLES, 'tiny-llama.json')));
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(weights, { format: 'pt' }));
    const args = ['--target', 'mesh:16x16', '--prompt', '8', '--generate', '4', '--seed', '5'];
    expect(await wafer('llm', join(dir, 'config.json'), '--generate-text', ...args, '--json', join(dir, 'seeded.json'))).toBe(0);
    const seeded = JSON.parse(readFileSync(join(dir, 'seeded.json'), 'utf8'));
    expect(await wafer('llm', join(dir, 'config.json'), '--generate-text', ...args, '--weights', dir, '--json', join(dir, 'files.json'))).toBe(0);
    const files = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8'));
    expect(io.out()).toContain(`weights from ${dir}`);
    expect(files.tokens).toHaveLength(4); // --generate 4: the prefill's token and 3 decode steps
    expect(files.tokens).toEqual(seeded.tokens);
    expect(files.steps.map((s: { maxLogit: number }) => s.maxLogit)).toEqual(seeded.steps.map((s: { maxLogit: number }) => s.maxLogit));
  }, 120_000);

  it('refuses weights that do not match the config (W1104), naming the tensors', async () => {
    const cfg = config('tiny-llama');
    const dir = mkdtempSync(join(tmpdir(), 'wafer-llm-'));
    const weights = resolveWeights(cfg, { kind: 'seeded', seed: 5 }, 'float16')!;
    weights.delete('model.norm.weight');
    weights.set('model.layers.0.mlp.up_proj.weight', Tensor.zeros('float16', [64, 64]));
    weights.set('extra.weight', Tensor.zeros('float32', [2]));
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(weights));
    expect(await wafer('llm', join(EXAMPLES, 'tiny-llama.json'), '--generate-text', '--target', 'mesh:16x16', '--prompt', '4', '--generate', '1', '--weights', dir)).toBe(1);
    expect(io.err()).toContain('W1104');
    expect(io.err()).toContain('missing model.norm.weight');
    expect(io.err()).toContain('model.layers.0.mlp.up_proj.weight is [64, 64], the config needs [128, 64]');
    expect(io.err()).toContain('unused by the config: extra.weight');
  });

  it('every weight spec of the config is produced by the seeded path with its shape', () => {
    for (const name of ['tiny-llama', 'tiny-gpt2']) {
      const cfg = config(name);
      const w = resolveWeights(cfg, { kind: 'seeded', seed: 1 }, 'float32')!;
      for (const s of weightSpecs(cfg)) expect(w.get(s.name)?.shape).toEqual(s.shape);
      expect(w.size).toBe(weightSpecs(cfg).length);
    }
  });

  it('refuses seeded weights for a full-size config before allocating them', () => {
    expect(() => resolveWeights(config('llama3-8b'), { kind: 'seeded', seed: 1 }, 'float16')).toThrow(DiagnosticError);
  });
});
