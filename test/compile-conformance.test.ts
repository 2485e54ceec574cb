/**
 * The emulator backend of `wafer conformance`: ONNX 1.23 node tests and the corpus models compiled
 * and emulated; a case passes only with outputs within rtol 1e-3 / atol 1e-4 AND measured cycles
 * equal to the prediction. Figures (mesh:4x4): 1227 of the suite's node tests pass; every MatMul,
 * Gemm, Softmax, LayerNormalization, RMSNormalization and Attention test the reference backend
 * passes, passes here too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCases, runCase, summarize } from '../cli/conformance.js';
import { runEmulatorCase } from '../cli/conformance-backend.js';
import { resolveTarget } from '../ir/target-presets.js';

const SHARED = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../shared/corpus');
const NODE = join(SHARED, 'onnx-backend-1.23/node');
const MODELS = join(SHARED, 'models');

describe.skipIf(!existsSync(NODE))('ONNX 1.23 node tests on mesh:4x4', () => {
  const target = resolveTarget('mesh:4x4');
  const cases = findCases([NODE]);
  const results = cases.map((d) => runEmulatorCase(d, { target }));

  it('passes at least 1200 cases, none crashing', () => {
    const s = summarize(results);
    expect(s.crashed).toBe(0);
    expect(s.passed).toBeGreaterThanOrEqual(1200);
  }, 120_000);

  it.each(['test_matmul', 'test_gemm', 'test_softmax', 'test_layer_normalization', 'test_rms_normalization', 'test_attention'])(
    'passes every %s case the reference backend passes', (prefix) => {
      const mine = results.filter((r) => r.name.startsWith(prefix));
      expect(mine.length).toBeGreaterThan(5);
      const refPassing = mine.filter((r) => runCase(r.dir).status === 'pass');
      const failing = refPassing.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.status} ${r.message ?? ''}`);
      expect(failing).toEqual([]);
    }, 120_000);
});

describe.skipIf(!existsSync(MODELS))('corpus models', () => {
  const FITTING = ['bert_toy_optimized', 'layernorm', 'pyT_gpt2_megatron', 'tf_fusion__attention_symbolic_batch', 'tf_fusion__gelu_opset20'];
  it.each(['mesh:8x8', 'mesh:32x32'])('the models whose ops each fit one core match on %s, with exact timing', (spec) => {
    const target = resolveTarget(spec);
    for (const m of FITTING) {
      const r = runEmulatorCase(join(MODELS, m), { target });
      expect(`${m}: ${r.status} ${r.message ?? ''}`).toBe(`${m}: pass `);
    }
  }, 120_000);

  it('an op whose tensors exceed a core is refused with W3002, and why distributed mode cannot take it', () => {
    // The 60 KB input is tiled by dim-0 slices (kernels/tiled.ts) and each core has its own memory
    // map, so the 20 KB Reshape/Transpose chain fits; the batched MatMul's 66.5 KB do not, and its
    // 10-wide dims split over no square region (W3008).
    const target = resolveTarget('mesh:8x8');
    const r = runEmulatorCase(join(MODELS, 'ut_xoptim__bug_2of3_s'), { target });
    expect(r.status).toBe('rejected');
    expect(r.code).toBe('W3002');
    expect(r.message).toMatch(/op 'bmm' \(MatMul\) needs 66560 B/);
    expect(r.message).toMatch(/W3008 distributed mode/);
  });
});
