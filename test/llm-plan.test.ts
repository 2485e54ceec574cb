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
import { transferTiming } from '../compiler/kernels/transfer.js';
import { transposedCost } from '../compiler/kernels/gemm-transposed-cost.js';
import { decodeLayerSteps, formatPlan, planFigures, planLlm, prefillLayerSteps, type LayerStep } from '../compiler/llm/plan.js';
import { gemvStep, kvShiftTiming, localOpCycles, meshgemmStep, transposedStep } from '../compiler/llm/plan-steps.js';
import { decodeStepCycles, phaseCycles, referenceContext, regionCount } from '../compiler/llm/plan-phase.js';
import { prefillLayout } from '../compiler/llm/plan-prefill.js';
import { layerProgram, layerRouting } from '../compiler/llm/layer-program.js';
import { MEM_TYPE_BYTES } from '../ir/program.js';

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

  it('grows with the context T, by whole rows of positions', () => {
    const at = (T: number) => sum(decodeLayerSteps(llama3, wse2, 360, T, 'f16'));
    expect(at(1000)).toBeLessThan(at(5000));
    expect(at(5000)).toBeLessThan(at(20000));
    // Only ⌈T/P⌉ matters: 361 is the first context with a second position on a row.
    expect(at(360)).toBe(at(1));
    expect(at(361)).toBeGreaterThan(at(360));
    expect(at(720)).toBe(at(361));
  });

  it('the KV shift is charged what the emitted shift takes (kvShiftTiming)', () => {
    const kv = step(steps, 'kv.shift');
    expect(kv.shape).toMatchObject({ n: 8, hops: 1, flows: 360 * 360 });
    expect(kv.cycles).toBe(kvShiftTiming(wse2, 'f16', 8, 360).cycles);
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

describe('SRAM accounting by hand (LLaMA3-8B, wse2, decode at 360²)', () => {
  const plan = planLlm(llama3, wse2, { prompt: 4096, generate: 128, prefillCores: 720, decodeCores: 360 });
  const f = plan.decode.footprint;

  it('weights per layer per core: q 384, k + v 192, o 384, MLP 2,880, norms 48 bytes', () => {
    // dt = ⌈4096/360⌉ = 12; c = ⌊360/8⌋ = 45 columns per kv head, hdt = 2·⌈64/45⌉ = 4, kvt 4, qt 16; it = ⌈14336/360⌉ = 40.
    expect(f.layerWeights).toBe(12 * 16 * 2 + 2 * 12 * 4 * 2 + 16 * 12 * 2 + 3 * 12 * 40 * 2 + 2 * 12 * 2);
    expect(f.layerWeights).toBe(3888);
    // Embedding share: ⌈128256/360⌉ = 357 rows × 12 f16; the untied head the same plus the final norm's gains.
    expect(f.embedding).toBe(8568);
    expect(f.lmHead).toBe(8592);
    expect(f.kvPerSlot).toBe(2 * 4 * 2);
  });

  it('regions: 4 of 360² and 6 of 270² on the 750 × 994 mesh; the plan\'s stages fit them', () => {
    expect(regionCount(wse2, 360)).toBe(4);
    expect(regionCount(wse2, 270)).toBe(6);
    expect(plan.decode.stages).toBeLessThanOrEqual(4);
    expect(plan.decode.layersPerStage.reduce((a, b) => a + b, 0)).toBe(32);
    const s = plan.decode.sram;
    expect(s[0].embedding).toBe(8568);
    expect(s[0].lmHead).toBe(0);
    expect(s[s.length - 1].lmHead).toBe(8592);
    for (const [i, x] of s.entries()) {
      expect(x.weights).toBe(plan.decode.layersPerStage[i] * 3888);
      expect(x.total).toBe(x.weights + x.kvCache + x.embedding + x.lmHead + x.activations + x.scratch);
    }
  });

  it('the head stage carries the LM head\'s logits tile (⌈V/P⌉ f32) as scratch; the other stages do not', () => {
    const s = plan.decode.sram;
    const lm = plan.decode.headSteps.find((x) => x.name === 'lm_head')!;
    const shape = lm.shape as { K: number; N: number; P: number; type: 'f16'; reduceAxis: 'y'; acc: 'f32' };
    const c = gemvCost(wse2, 'ktree', shape);
    // gemvCost's SRAM = x + W + partial + y + allreduce scratch; x and W are the activations and the head's share.
    expect(lm.scratchBytes).toBe(c.sramBytes - Math.ceil(c.tiles.kt * 2 / 4) * 4 - Math.ceil(c.tiles.kt * c.tiles.nt * 2 / 4) * 4);
    expect(s[s.length - 1].scratch).toBeGreaterThan(s[1].scratch);
  });

  it('longest generation: shift P·s − L + 1, concat s − ⌈L/P⌉ + 1, and s is the most that fits', () => {
    const mg = plan.maxGeneration;
    expect(mg.shift).toBe(360 * mg.slots - 4096 + 1);
    expect(mg.concat).toBe(mg.slots - Math.ceil(4096 / 360) + 1);
    expect(mg.shift).toBeGreaterThanOrEqual(100 * mg.concat);
    // Generating exactly that many fits (the layers over all 4 regions); one more does not.
    const at = (G: number, kv: 'shift' | 'concat') => () => planLlm(llama3, wse2, { prompt: 4096, generate: G, prefillCores: 720, decodeCores: 360, kv });
    expect(at(mg.shift, 'shift')().decode.stages).toBe(4);
    expectW3009(at(mg.shift + 1, 'shift'));
    expect(at(mg.concat, 'concat')().decode.stages).toBe(4);
    expectW3009(at(mg.concat + 1, 'concat'));
  });
});

describe('kernel scratch agrees with the emitters', () => {
  const t = resolveTarget('mesh:16x16');
  const a4 = (n: number) => Math.ceil(n / 4) * 4;

  it('the transposed GEMM: B2, T (2·m·n) and Tw (m·n) beyond its operands', () => {
    const s = transposedStep(t, 'scores', { M: 64, K: 32, N: 96, P: 8, type: 'f16', acc: 'f32' });
    const m = 8, k = 4, n = 12;
    expect(s.scratchBytes).toBe(a4(n * k * 2) + a4(2 * m * n * 4) + a4(m * n * 4));
    // The emitted step: A, B, C operand tiles (activations for the planner) plus the kernel's scratch.
    const lp = layerProgram('t', t, 8, [s]);
    expect(lp.sramBytes).toBe(a4(m * k * 2) + a4(k * n * 2) + a4(m * n * 4) + s.scratchBytes);
  });

  it('MeshGEMM: the incoming A and B tiles beyond its operands', () => {
    const s = meshgemmStep(t, 'pv', { M: 64, K: 96, N: 32, P: 8, type: 'f16', acc: 'f32' }, 2);
    const m = 8, k = 12, n = 4;
    expect(s.scratchBytes).toBe(a4(m * k * 2) + a4(k * n * 2));
    const lp = layerProgram('t', t, 16, [s]);
    expect(lp.sramBytes).toBe(a4(m * k * 2) + a4(k * n * 2) + a4(m * n * 4) + s.scratchBytes);
  });

  it('a GEMV: its partial and the allreduce scratch beyond x, W and y', () => {
    const shape = { K: 256, N: 640, P: 16, type: 'f16' as const, reduceAxis: 'y' as const, acc: 'f32' as const };
    const s = gemvStep(t, 'up', shape);
    const c = gemvCost(t, 'ktree', shape);
    expect(s.scratchBytes).toBe(c.sramBytes - a4(c.tiles.kt * 2) - a4(c.tiles.kt * c.tiles.nt * 2) - a4(c.tiles.nt * MEM_TYPE_BYTES.f32));
    expect(layerProgram('t', t, 16, [s]).sramBytes).toBe(c.sramBytes);
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
    expect(formatPlan(plan)).toMatch(/routing: (the layer's kernels share|NOT ROUTABLE)/);
    // The plan's layers are the lists an emitter walks.
    expect(plan.decodeReferenceContext).toBe(4096 + 64);
    expect(plan.decode.layerSteps).toEqual(decodeLayerSteps(llama3, wse2, 360, plan.decodeReferenceContext, 'f16', { kv: 'shift', prompt: 4096 }));
    expect(plan.prefill.layerSteps).toEqual(prefillLayerSteps(llama3, wse2, 660, 4096, 'f16', plan.prefill.attentionChunks));
    // The chunk count reported is the layout's own (a request the query rows do not divide into is rounded).
    expect(plan.prefill.attentionChunks).toBeGreaterThan(1);
    expect(prefillLayout(llama3, 660, 4096, plan.prefill.attentionChunks).chunks).toBe(plan.prefill.attentionChunks);
    expect(step(plan.prefill.layerSteps, 'scores').shape.copies).toBe(plan.prefill.attentionChunks);
  });

  it('its figures are the documented formulas of its cycles', () => {
    const tiny = load('tiny-llama');
    const t = resolveTarget('mesh:16x16');
    const L = 16, G = 9;
    const plan = planLlm(tiny, t, { prompt: L, generate: G, prefillCores: 8, decodeCores: 8 });
    const f = planFigures(plan);
    const hz = t.clockHz;
    expect(f.prefillSeconds).toBe(plan.prefillCycles.total / hz);
    expect(f.prefillTokensPerSecond).toBeCloseTo(L / f.prefillSeconds, 6);
    expect(plan.decodeReferenceContext).toBe(referenceContext(L, G));
    expect(plan.decodeReferenceContext).toBe(L + 4);
    expect(f.decodeTokensPerSecond).toBeCloseTo(hz / plan.decodeCycles.total, 6);
    // G tokens: the prefill yields the first, G − 1 decode steps at T = L + 1 … L + G − 1 the rest.
    const q = { cfg: tiny, target: t, dtype: 'f16' as const, prompt: L, generate: G, kv: 'shift' as const };
    let total = 0;
    for (let T = L + 1; T <= L + G - 1; T++) total += phaseCycles(plan.decode, decodeLayerSteps(tiny, t, 8, T, 'f16', { kv: 'shift', prompt: L })).total;
    expect(plan.decodeTotalCycles).toBe(total);
    expect(decodeStepCycles(q, plan.decode, L + 1, new Map()).total).toBeLessThanOrEqual(decodeStepCycles(q, plan.decode, L + G - 1, new Map()).total);
    expect(f.decodeMeanTokensPerSecond).toBeCloseTo((G - 1) / (total / hz), 6);
    expect(f.endToEndTokensPerSecond).toBeCloseTo(G / (f.prefillSeconds + plan.transition.seconds + total / hz), 6);
    // The cache reserves L + G − 1 positions: ⌈24/8⌉ = 3 per core.
    expect(plan.decode.slots).toBe(3);
  });

  it('generate 1: no decode step, no transition, finite figures', () => {
    const tiny = load('tiny-llama');
    const plan = planLlm(tiny, resolveTarget('mesh:16x16'), { prompt: 16, generate: 1, prefillCores: 8, decodeCores: 8 });
    const f = planFigures(plan);
    expect(plan.decodeTotalCycles).toBe(0);
    for (const [k, v] of Object.entries(f)) expect(Number.isFinite(v), k).toBe(true);
    expect(f.endToEndTokensPerSecond).toBeCloseTo(1 / f.prefillSeconds, 6);
    expect(f.decodeMeanTokensPerSecond).toBe(f.decodeTokensPerSecond);
    expect(plan.decodeReferenceContext).toBe(17);
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
    // Over the Manhattan distance between the last region and the first.
    const end = plan.decode.regions[plan.decode.regions.length - 1];
    expect(end.y).toBe(0);
    expect(plan.decode.loopTransfer?.shape.hops).toBe(end.x);
    expect(plan.decode.stageTransfers.map((x) => x.shape.hops)).toEqual([60]);
    // GPT-2's learned positions: prefill moves the position rows to the prompt's tiling unless they agree.
    expect(plan.prefill.embedSteps.map((x) => x.name)).toContain('embed.position.move');
    const last = plan.decode.sram[plan.decode.stages - 1], first = plan.decode.sram[0];
    expect(first.embedding).toBeGreaterThan(0);
    // No second copy of the table: the head's share is only the final norm's gains.
    expect(first.lmHead + last.lmHead).toBeLessThan(first.embedding / 10);
  });

  it('a tied model split into prefill stages sends the last token\'s row back to the head on the first stage', () => {
    const gpt2 = load('gpt2');
    const plan = planLlm({ ...gpt2, layers: 48 }, wse2, { prompt: 1024, generate: 8, prefillCores: 120, decodeCores: 120 });
    expect(plan.prefill.stages).toBeGreaterThan(1);
    expect(plan.prefill.loopTransfer?.name).toBe('loop.hidden');
    expect(plan.prefill.stageTransfers).toHaveLength(plan.prefill.stages - 1);
    expect(plan.prefillCycles.pipeline).toBe(plan.prefill.stageTransfers.reduce((a, x) => a + x.cycles, 0) + plan.prefill.loopTransfer!.cycles);
  });

  it('takes the fastest prefill side whose layer routes on the router\'s colours (LLaMA3-8B, wse2, 2048/128)', () => {
    const unchecked = planLlm(llama3, wse2, { prompt: 2048, generate: 128, checkRouting: false });
    expect(unchecked.routing.prefill).toBe('unchecked');
    expect(planFigures(unchecked).prefillRoutable).toBe(-1);
    // 690² is the fastest side that fits, but its sub-square kernels (side 115) find no shared colours.
    expect(unchecked.prefill.P).toBe(690);
    expect(layerRouting(wse2, 690, unchecked.prefill.layerSteps)).toMatch(/^W3009 layer program: the kernels of transposed\|115 need 5 colours/);
    const plan = planLlm(llama3, wse2, { prompt: 2048, generate: 128 });
    expect(plan.prefill.P).toBe(720);
    expect(plan.routing).toEqual({ prefill: 'ok', decode: 'ok' });
    expect(plan.prefillCycles.total).toBeGreaterThan(unchecked.prefillCycles.total);
    expect(planFigures(plan).prefillRoutable).toBe(1);
    expect(formatPlan(plan)).toContain('routing: the layer\'s kernels share the router\'s colours at 720²');
    // A forced side that does not route is planned, and said so.
    const forced = planLlm(llama3, wse2, { prompt: 2048, generate: 128, prefillCores: 480 });
    expect(forced.routing.prefill).toMatch(/^W3009 .*transposed\|80/);
    expect(planFigures(forced).prefillRoutable).toBe(0);
    expect(formatPlan(forced)).toContain('routing: NOT ROUTABLE at 480²');
  });

  it('charges each decode stage transfer by where the next region lies (LLaMA3-8B, wse2, 360²)', () => {
    const plan = planLlm(llama3, wse2, { prompt: 4096, generate: 128, decodeCores: 360 });
    // Serpentine over 2 × 2 regions: across, down, across; then straight up back to the first.
    expect(plan.decode.regions).toEqual([{ x: 0, y: 0 }, { x: 360, y: 0 }, { x: 360, y: 360 }, { x: 0, y: 360 }]);
    // Across: each row's tile runs along its own row (P hops). Down: row y goes down its own column
    // y, then along row y (P + P − 1). The token id goes back up to every row of the first region.
    expect(plan.decode.stageTransfers.map((x) => x.shape.hops)).toEqual([360, 719, 360]);
    expect(plan.decode.loopTransfer?.shape).toEqual({ type: 'f32', n: 1, hops: 719, flows: 360 });
    const across = transferTiming(wse2, 'f16', Math.ceil(4096 / 360), [360]).cycles, down = transferTiming(wse2, 'f16', Math.ceil(4096 / 360), [719]).cycles;
    expect(plan.decodeCycles.pipeline).toBe(2 * across + down + transferTiming(wse2, 'f32', 1, [719]).cycles);
  });

  it('gives W3009 when the model cannot fit, with the fullest core breakdown and the sides tried', () => {
    const e = expectW3009(() => planLlm(llama3, resolveTarget('mesh:8x8'), { prompt: 128, generate: 16 }));
    expect(e.message).toMatch(/weights \d+, KV cache \d+/);
    expect(e.message).toMatch(/any of 8 square side/);
    const forced = expectW3009(() => planLlm(llama3, resolveTarget('mesh:8x8'), { prompt: 128, generate: 16, prefillCores: 8 }));
    expect(forced.message).toMatch(/any of 1 square side/);
  });

  it('gives W3009 for a forced side larger than the mesh', () => {
    expectW3009(() => planLlm(llama3, wse2, { prompt: 128, generate: 16, decodeCores: 800 }));
  });

  it('gives W3009 for Qwen2-72B in f16 on wse2 (145 GB of weights, 37 GB of SRAM)', () => {
    expectW3009(() => planLlm(load('qwen2-72b'), wse2, { prompt: 4096, generate: 128 }));
  });
});
