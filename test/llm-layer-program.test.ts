/**
 * One LLM layer as a wafer program (compiler/llm/layer-program.ts): the planner's decode and prefill
 * steps emitted as real kernels on the P×P region, run timing-only in the emulator. The emulator
 * must measure exactly the program's prediction, which is Σ of the planner's step cycles,
 * with no step mismatched (the KV shift included: the planner charges kvShiftTiming) — and the
 * prediction of every step boundary must hold on every core.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import { encodeProgram } from '../ir/program-codec.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { llmConfigFromJson, parseLlmConfig, type LlmConfig } from '../compiler/frontend/llm/config.js';
import { decodeLayerProgram, prefillLayerProgram, type LayerProgram } from '../compiler/llm/layer-program.js';
import { kvShiftTiming } from '../compiler/llm/plan-steps.js';
import { decodeLayout } from '../compiler/llm/plan-decode.js';
import { transferTiming } from '../compiler/kernels/transfer.js';
import { emulate } from '../runtime/emulate.js';

const load = (name: string): LlmConfig => parseLlmConfig(readFileSync(new URL(`../examples/llm/${name}.json`, import.meta.url), 'utf8'), name);
const tinyLlama = load('tiny-llama'), tinyGpt2 = load('tiny-gpt2');
const configs: Record<string, LlmConfig> = { 'tiny-llama': tinyLlama, 'tiny-gpt2': tinyGpt2 };
/** A mid-size LLaMA: llama3-8b's fields scaled down (hidden 512, 8 heads, 2 kv heads, intermediate 1024). */
const mid = (() => {
  const j = JSON.parse(readFileSync(new URL('../examples/llm/llama3-8b.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  return llmConfigFromJson({ ...j, _name_or_path: 'wafer/mid-llama', hidden_size: 512, intermediate_size: 1024, num_attention_heads: 8, num_key_value_heads: 2, num_hidden_layers: 1, vocab_size: 1000 }, 'mid');
})();

function check(lp: LayerProgram, target: Target, P: number): number {
  const res = emulate(lp.program, { mode: 'timing' });
  const emitted = lp.emittedCycles.reduce((a, b) => a + b, 0);
  expect(res.totalCycles).toBe(lp.program.predicted!.totalCycles);
  expect(res.totalCycles).toBe(emitted);
  expect(res.prediction.matched).toBe(true);
  expect(lp.predictedCycles).toBe(lp.steps.reduce((a, s) => a + s.cycles, 0));
  // Every step takes exactly the planner's cycles: measured == predicted == Σ steps.
  expect(lp.mismatches).toEqual([]);
  expect(res.totalCycles).toBe(lp.predictedCycles);
  lp.steps.forEach((s, i) => expect(lp.emittedCycles[i], s.name).toBe(s.cycles));
  const kv = lp.steps.find((x) => x.name === 'kv.shift');
  if (kv && P >= 2) expect(kv.cycles).toBe(kvShiftTiming(target, kv.shape.type as 'f16', kv.shape.n as number, P).cycles);
  expect(res.sram.maxBytes).toBeLessThanOrEqual(lp.sramBytes);
  return res.totalCycles;
}

describe('decode layer program', () => {
  const cases: [string, number, number, 'f16' | 'f32', 'shift' | 'concat'][] = [
    ['tiny-llama', 4, 20, 'f16', 'shift'],
    ['tiny-llama', 8, 64, 'f32', 'concat'],
    ['tiny-llama', 5, 33, 'f16', 'shift'], // scoreLine 2 leaves column 4 out of every group
    ['tiny-gpt2', 4, 50, 'f32', 'shift'],
    ['tiny-gpt2', 8, 100, 'f16', 'concat'],
    ['tiny-gpt2', 8, 17, 'f16', 'shift'],
  ];
  it.each(cases)('%s at P = %i, T = %i, %s, kv %s: measured == predicted == Σ steps', (name, P, T, dtype, kv) => {
    const cfg = configs[name];
    const t = resolveTarget('mesh:8x8');
    const lp = decodeLayerProgram(cfg, t, P, T, dtype, { kv });
    check(lp, t, P);
    if (kv === 'concat') {
      expect(lp.mismatches).toEqual([]);
      expect(lp.steps.some((s) => s.name === 'kv.shift')).toBe(false);
    }
    expect(lp.placeholders).toEqual([]);
  });

  it('a mid-size LLaMA at P = 16, T = 300, both KV schemes', () => {
    const t = resolveTarget('mesh:16x16');
    const lay = decodeLayout(mid, 16);
    expect(lay.scoreLine).toBe(8);
    const shift = decodeLayerProgram(mid, t, 16, 300, 'f16');
    const concat = decodeLayerProgram(mid, t, 16, 300, 'f16', { kv: 'concat', prompt: 200 });
    const a = check(shift, t, 16), b = check(concat, t, 16);
    expect(concat.mismatches).toEqual([]);
    // Concat piles the 100 generated positions on one row: the scores and softmax steps grow.
    expect(b).toBeGreaterThan(a);
  });

  it('the mid-size LLaMA at P = 32, T = 400 (f32)', () => {
    const t = resolveTarget('mesh:32x32');
    const lp = decodeLayerProgram(mid, t, 32, 400, 'f32');
    check(lp, t, 32);
    expect(lp.steps.find((s) => s.name === 'scores.allreduce')!.shape.line).toBe(16);
  });

  it('the KV shift: the planner charges kvShiftTiming, one issue-and-post more than a plain transfer where rows both send and receive', () => {
    const t = resolveTarget('mesh:8x8');
    const two = kvShiftTiming(t, 'f16', 8, 2);
    expect(two.cycles).toBe(transferTiming(t, 'f16', 8, [1]).cycles);
    const lp = decodeLayerProgram(tinyLlama, t, 2, 10, 'f16');
    expect(lp.mismatches).toEqual([]);
    check(lp, t, 2);
    // Three rows and more: the middle rows post their receive after their send.
    expect(kvShiftTiming(t, 'f16', 8, 3).cycles).toBeGreaterThan(two.cycles);
    const lp3 = decodeLayerProgram(tinyLlama, t, 3, 10, 'f16');
    expect(lp3.steps.find((s) => s.name === 'kv.shift')!.cycles).toBe(kvShiftTiming(t, 'f16', lp3.steps.find((s) => s.name === 'kv.shift')!.shape.n as number, 3).cycles);
    check(lp3, t, 3);
  });

  it('is deterministic: the same bytes twice', () => {
    const t = resolveTarget('mesh:8x8');
    const a = encodeProgram(decodeLayerProgram(tinyLlama, t, 5, 40, 'f16').program);
    const b = encodeProgram(decodeLayerProgram(tinyLlama, t, 5, 40, 'f16').program);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('refuses a region off the mesh and a layer that does not fit SRAM (W3009)', () => {
    const t = resolveTarget('mesh:8x8');
    const code = (f: () => unknown) => {
      try { f(); } catch (e) { return e instanceof DiagnosticError ? e.diagnostics[0].code : String(e); }
      return 'none';
    };
    expect(code(() => decodeLayerProgram(tinyLlama, t, 9, 10, 'f16'))).toBe('W3009');
    expect(code(() => decodeLayerProgram(load('llama3-8b'), t, 4, 10, 'f16'))).toBe('W3009');
    // The prefill kernels' static routes need more than the 18 colours of a WSE-2 router at P = 16.
    expect(code(() => prefillLayerProgram(mid, resolveTarget('mesh:16x16'), 16, 128, 'f16'))).toBe('W3009');
  });
});

describe('prefill layer program', () => {
  it('shares colours between kernels when their sets exceed the router\'s (tiny-llama at P = 24): the compacted rules load and time exactly', () => {
    const t = resolveTarget('mesh:24x24');
    const lp = prefillLayerProgram(tinyLlama, t, 24, 96, 'f16');
    // Five rule sets (K-tree and MeshGEMM over 24 and over the sub-squares of 12, the transposed GEMM)
    // need more than 18 colours unshared: shared colours carry compacted rules on sub-rectangles.
    const colours = new Set(lp.program.routes.map((r) => r.colour));
    expect(colours.size).toBeLessThanOrEqual(t.router.colours);
    expect(lp.program.routes.some((r) => r.rect.width < 24 || r.rect.height < 24)).toBe(true);
    expect(check(lp, t, 24)).toBe(18244);
  });

  // (chunks > 1: every (head, query chunk) pair of a sub-square runs one after another — repeated kernels;
  // P = 7: sub-squares of side 3 leave a row and a column out.)
  it.each([['tiny-llama', 4, 16, 'f16', 1], ['tiny-gpt2', 8, 32, 'f32', 1], ['tiny-llama', 4, 16, 'f16', 2], ['tiny-llama', 7, 30, 'f16', 2]] as const)(
    '%s at P = %i, L = %i, %s, %i chunk(s): measured == predicted == Σ steps', (name, P, L, dtype, chunks) => {
    const cfg = configs[name];
    const t = resolveTarget('mesh:8x8');
    const lp = prefillLayerProgram(cfg, t, P, L, dtype, chunks);
    if (chunks > 1) expect(lp.steps.find((s) => s.name === 'scores')!.shape.copies).toBe(chunks);
    check(lp, t, P);
    expect(lp.mismatches).toEqual([]);
    expect(lp.placeholders).toEqual(['attn.scatter', 'attn.gather']);
    expect(lp.steps.some((s) => s.kernel === 'transposed') && lp.steps.some((s) => s.kernel === 'meshgemm')).toBe(true);
  });
});
