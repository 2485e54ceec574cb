/**
 * The emulator backend of `wafer conformance`: ONNX 1.23 node tests and the corpus models compiled
 * and emulated; a case passes only with outputs within rtol 1e-3 / atol 1e-4 AND measured cycles
 * equal to the prediction. Figures (mesh:4x4): 1230 of the suite's node tests pass; every MatMul,
 * Gemm, Softmax, LayerNormalization, RMSNormalization and Attention test the reference backend
 * passes, passes here too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCases, runCase, summarize } from '../cli/conformance.js';
import { runEmulatorCase } from '../cli/conformance-backend.js';
import { compile } from '../compiler/compile.js';
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

  it.each(['mesh:8x8', 'mesh:32x32'])('a model whose batched MatMuls exceed a core runs them as dim-0 pieces on %s, and matches', (spec) => {
    // ut_xoptim__bug_2of3_s: the 60 KB input is tiled by dim-0 slices (kernels/tiled.ts); the
    // batched MatMul `bmm` ([64,10,8] × [64,8,10], 66.5 KB whole) and the Softmax and MatMul after it
    // run as two pinned pieces of 32 batches (kernels/batch-split.ts), gathered by a Concat before
    // the Transpose that mixes dim 0.
    const target = resolveTarget(spec);
    const dir = join(MODELS, 'ut_xoptim__bug_2of3_s');
    const r = runEmulatorCase(dir, { target });
    expect(`${r.status} ${r.message ?? ''}`).toBe('pass ');
    const res = compile(new Uint8Array(readFileSync(join(dir, 'model.onnx'))), { target });
    const names = res.mesh.ops.map((o) => o.name);
    for (const n of ['bmm#tile0', 'bmm#tile1', '_softmax#tile1', 'bmm2#tile1', 'view_9#split', 'view_14#concat']) expect(names).toContain(n);
    expect(names).not.toContain('bmm');
  });
});
