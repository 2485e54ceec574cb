/**
 * The LLM planner (compiler/llm/plan.ts, docs/llm-plan.md): its steps' cycles are the kernel cost
 * functions', the monotonicities the model must have, the published WaferLLM setting for LLaMA3-8B
 * on WSE-2, the W3009 diagnostics, determinism, and the tiny configs on a small mesh.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import { binaryCost, unaryCost } from '../ir/program-cost.js';
import { resolveTarget } from '../ir/target-presets.js';
import { parseLlmConfig, type LlmConfig } from '../compiler/frontend/llm/config.js';
import { allreduceCost } from '../compiler/kernels/allreduce.js';
import { gemvCost } from '../compiler/kernels/gemv.js';
import { ringCost } from '../compiler/kernels/gemm-ring-cost.js';
import { transposedCost } from '../compiler/kernels/gemm-transposed-cost.js';
import { decodeLayerSteps, formatPlan, planFigures, planLlm, prefillLayerSteps, type LayerStep } from '../compiler/llm/plan.js';
import { localOpCycles } from '../compiler/llm/plan-steps.js';

const load = (name: string): LlmConfig => parseLlmConfig(readFileSync(new URL(`../examples/llm/${name}.json`, import.meta.url), 'utf8'), `${name}.json`);
const llama3 = load('llama3-8b');
const wse2 = resolveTarget('wse2');
const sum = (steps: LayerStep[]) => steps.reduce((s, x) => s + x.cycles, 0);
const step = (steps: LayerStep[], name: string) => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
};

function expectW3009(f: () => unknown): DiagnosticError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DiagnosticError);
    expect((e as DiagnosticError).diagnostics[0].code).toBe('W3009');
    return e as DiagnosticError;
  }
  throw new Error('expected W3009');
}

describe('decode layer steps', () => {
  const steps = decodeLayerSteps(llama3, wse2, 360, 4160, 'f16');

  it('every step is split into compute and communication', () => {
    for (const s of steps) expect(s.computeCycles + s.commCycles).toBe(s.cycles);
    expect(JSON.parse(JSON.stringify(steps))).toEqual(steps);
  });

  it('GEMV steps are gemvCost of the shapes they name', () => {
    const q = step(steps, 'q');
    expect(q.kernel).toBe('gemv');
    // LLaMA3-8B at P = 360: 8 kv heads of 45 columns, head-dim slices of 4 (whole pairs), 4 query heads per kv head.
    expect(q.shape).toMatchObject({ K: 4096, N: 360 * 16, P: 360, type: 'f16', reduceAxis: 'y', acc: 'f32' });
    const c = gemvCost(wse2, 'ktree', { K: 4096, N: 360 * 16, P: 360, type: 'f16', reduceAxis: 'y', acc: 'f32' });
    expect(q.cycles).toBe(c.cycles);
    expect(q.computeCycles).toBe(c.matmulCycles);
    const down = step(steps, 'down');
    expect(down.cycles).toBe(gemvCost(wse2, 'ktree', { K: 14336, N: 4096, P: 360, type: 'f16', reduceAxis: 'x', acc: 'f32' }).cycles);
  });

  it('allreduce and local steps are the cost functions they name', () => {
    const ar = step(steps, 'scores.allreduce');
    expect(ar.shape).toMatchObject({ line: 45, axis: 'x', fn: 'sum' });
    const tT = Math.ceil(4160 / 360);
    expect(ar.cycles).toBe(allreduceCost(wse2, 45, { algorithm: 'ktree', axis: 'x', fn: 'sum', n: 4 * tT, type: 'f32' }).cycles);
    const norm = step(steps, 'norm1.sumsq.allreduce');
    expect(norm.cycles).toBe(allreduceCost(wse2, 360, { algorithm: 'ktree', axis: 'y', fn: 'sum', n: 1, type: 'f32' }).cycles);
    const res = step(steps, 'residual1');
    expect(res.cycles).toBe(binaryCost(wse2, 1, Math.ceil(4096 / 360), 'none', 'f16', 'f16', 'f16'));
    const silu = step(steps, 'silu.mul');
    const it = Math.ceil(14336 / 360);
    expect(silu.cycles).toBe(unaryCost(wse2, 'silu', it, 'f16', 'f16') + binaryCost(wse2, 1, it, 'none', 'f16', 'f16', 'f16'));
    for (const s of steps.filter((x) => x.kernel === 'local')) {
      const ops = (s.shape as { ops: Parameters<typeof localOpCycles>[1][] }).ops;
      expect(ops.reduce((a, o) => a + localOpCycles(wse2, o), 0)).toBe(s.cycles);
    }
  });

  it('grows with the context T', () => {
    const at = (T: number) => sum(decodeLayerSteps(llama3, wse2, 360, T, 'f16'));
    expect(at(1000)).toBeLessThan(at(5000));
    expect(at(5000)).toBeLessThan(at(20000));
    expect(at(361)).toBeGreaterThanOrEqual(at(360));
  });

  it('concat piles the generated entries on one row and costs more than shift', () => {
    const shift = sum(decodeLayerSteps(llama3, wse2, 360, 4096 + 2000, 'f16', { kv: 'shift', prompt: 4096 }));
    const concat = sum(decodeLayerSteps(llama3, wse2, 360, 4096 + 2000, 'f16', { kv: 'concat', prompt: 4096 }));
    expect(concat).toBeGreaterThan(shift);
  });
});

describe('prefill layer steps', () => {
  it('projections are MeshGEMMs on sizes padded to multiples of P; scores the transposed GEMM', () => {
    const steps = prefillLayerSteps(llama3, wse2, 360, 4096, 'f16');
    const gate = step(steps, 'gate');
    expect(gate.shape).toMatchObject({ M: 4320, K: 4320, N: 14400, P: 360 });
    expect(gate.cycles).toBe(ringCost('meshgemm', { M: 4320, K: 4320, N: 14400, P: 360, type: 'f16', acc: 'f32' }, wse2, { skew: 'data' }).cycles);
    const scores = step(steps, 'scores');
    // 32 heads on a 6 × 6 grid of 60-core sub-squares.
    expect(scores.shape).toMatchObject({ M: 4140, K: 180, N: 4140, P: 60 });
    expect(scores.cycles).toBe(transposedCost({ M: 4140, K: 180, N: 4140, P: 60, type: 'f16', acc: 'f32' }, wse2).cycles);
    for (const s of steps) expect(s.computeCycles + s.commCycles).toBe(s.cycles);
  });
});

describe('planLlm', () => {
  it('plans LLaMA3-8B on wse2 at 660² prefill and 360² decode with finite positive figures', () => {
    const plan = planLlm(llama3, wse2, { prompt: 4096, generate: 128, prefillCores: 660, decodeCores: 360 });
    const f = planFigures(plan);
    expect(f.prefillCores).toBe(660);
    expect(f.decodeCores).toBe(360);
    for (const k of ['prefillTokensPerSecond', 'decodeTokensPerSecond', 'endToEndTokensPerSecond', 'maxGenerationShift', 'maxGenerationConcat', 'joulesPerToken', 'prefillSeconds', 'transitionSeconds', 'decodeSecondsPerToken']) {
      expect(Number.isFinite(f[k]), k).toBe(true);
      expect(f[k], k).toBeGreaterThan(0);
    }
    // Shift balances the cache over the 360 rows; concat fills one row.
    expect(f.maxGenerationShift).toBeGreaterThanOrEqual(100 * f.maxGenerationConcat);
    for (const p of [plan.prefill, plan.decode]) {
      expect(p.layersPerStage.length).toBe(p.stages);
      expect(p.layersPerStage.reduce((a, b) => a + b, 0)).toBe(llama3.layers);
      for (const s of p.sram) expect(s.total).toBeLessThanOrEqual(s.capacity);
    }
    expect(plan.decode.stages).toBeGreaterThan(1);
    // The end-to-end rate counts prefill and the transition too.
    expect(f.endToEndTokensPerSecond).toBeLessThan(f.decodeMeanTokensPerSecond);
    expect(formatPlan(plan)).toContain('fullest core');
    // The plan's layers are the lists an emitter walks.
    expect(plan.decode.layerSteps).toEqual(decodeLayerSteps(llama3, wse2, 360, plan.decodeReferenceContext, 'f16', { kv: 'shift', prompt: 4096 }));
    expect(plan.prefill.layerSteps).toEqual(prefillLayerSteps(llama3, wse2, 660, 4096, 'f16', plan.prefill.attentionChunks));
  });

  it('is deterministic', () => {
    const a = formatPlan(planLlm(llama3, wse2, { prompt: 1024, generate: 64, decodeCores: 360 }));
    const b = formatPlan(planLlm(llama3, wse2, { prompt: 1024, generate: 64, decodeCores: 360 }));
    expect(a).toBe(b);
  });

  it('needs more stages or more SRAM for more layers', () => {
    const tiny = load('tiny-llama');
    const t = resolveTarget('mesh:16x16');
    const few = planLlm(tiny, t, { prompt: 16, generate: 8, decodeCores: 8, prefillCores: 8 });
    const many = planLlm({ ...tiny, layers: 24 }, t, { prompt: 16, generate: 8, decodeCores: 8, prefillCores: 8 });
    const more = (a: typeof few.decode, b: typeof few.decode) => b.stages > a.stages || b.sram[b.fullest].total > a.sram[a.fullest].total;
    expect(more(few.decode, many.decode)).toBe(true);
    expect(more(few.prefill, many.prefill)).toBe(true);
  });

  it('plans the tiny configs on mesh:16x16', () => {
    const t = resolveTarget('mesh:16x16');
    for (const name of ['tiny-llama', 'tiny-gpt2']) {
      const f = planFigures(planLlm(load(name), t, { prompt: 16, generate: 8 }));
      expect(f.decodeTokensPerSecond).toBeGreaterThan(0);
      expect(f.maxGenerationConcat).toBeLessThan(f.maxGenerationShift);
    }
  });

  it('keeps one table for tied embeddings and sends the hidden vector back to the first stage', () => {
    const plan = planLlm(load('gpt2'), wse2, { prompt: 512, generate: 64, decodeCores: 60 });
    expect(plan.decode.stages).toBeGreaterThan(1);
    expect(plan.decode.loopTransfer?.name).toBe('loop.hidden');
    const last = plan.decode.sram[plan.decode.stages - 1], first = plan.decode.sram[0];
    expect(first.embedding).toBeGreaterThan(0);
    // No second copy of the table: the head's share is only the final norm's gains.
    expect(first.lmHead + last.lmHead).toBeLessThan(first.embedding / 10);
  });

  it('gives W3009 when the model cannot fit, with the fullest core breakdown', () => {
    const e = expectW3009(() => planLlm(llama3, resolveTarget('mesh:8x8'), { prompt: 128, generate: 16 }));
    expect(e.message).toMatch(/weights \d+, KV cache \d+/);
  });

  it('gives W3009 for a forced side larger than the mesh', () => {
    expectW3009(() => planLlm(llama3, wse2, { prompt: 128, generate: 16, decodeCores: 800 }));
  });

  it('gives W3009 for Qwen2-72B in f16 on wse2 (145 GB of weights, 37 GB of SRAM)', () => {
    expectW3009(() => planLlm(load('qwen2-72b'), wse2, { prompt: 4096, generate: 128 }));
  });
});
