/**
 * The real transformer models of ../shared/corpus/models: each imports; the six with expected outputs
 * (written by onnxruntime) match them through import → passes → reference evaluation; the LLaMA layer
 * (weights as graph inputs) imports, binds and evaluates, and matches onnxruntime-node on seeded inputs;
 * compiling it for mesh:8x8 is refused with the SRAM diagnostic and its per-core breakdown; the six
 * run in the emulator on a sub-region of mesh:64x64.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateGraph } from '../ir/evaluate.js';
import { importOnnx } from '../compiler/frontend/onnx/index.js';
import { nodeHost } from '../compiler/host.js';
import { prepareGraph, readDataSet, runCase } from '../cli/conformance.js';
import { runEmulatorCase } from '../cli/conformance-backend.js';
import { compile } from '../compiler/compile.js';
import type { DiagnosticError } from '../ir/diagnostics.js';
import { resolveTarget } from '../ir/target-presets.js';
import { LLAMA, MODELS, compareWithOrt, llamaInputs, llamaOrt, viaFloat16 } from './helpers/llama.js';

const WITH_OUTPUTS = [
  'bert_toy_optimized',
  'layernorm',
  'pyT_gpt2_megatron',
  'tf_fusion__attention_symbolic_batch',
  'tf_fusion__gelu_opset20',
  'ut_xoptim__bug_2of3_s',
];

describe.skipIf(!existsSync(MODELS))('corpus models', () => {
  it.each(WITH_OUTPUTS)('%s matches the expected outputs', (name) => {
    const r = runCase(join(MODELS, name));
    expect(r.message ?? '').toBe('');
    expect(r.status).toBe('pass');
  });

  it.each(WITH_OUTPUTS)('%s runs on a sub-region of mesh:64x64 (too small to spread over the whole mesh) and matches', (name) => {
    const dir = join(MODELS, name);
    const target = resolveTarget('mesh:64x64');
    const r = runEmulatorCase(dir, { target });
    expect(r.message ?? '').toBe('');
    expect(r.status).toBe('pass');
    const path = join(dir, 'model.onnx');
    const { graph } = prepareGraph(readFileSync(path), path, readDataSet(join(dir, 'test_data_set_0'), 'input'));
    const rect = compile(graph, { target }).program.regions[0].rect;
    expect(rect.width * rect.height).toBeLessThan(64 * 64);
  });

  it('the LLaMA layer imports, binds, evaluates and matches onnxruntime on seeded inputs', async () => {
    const dir = join(MODELS, LLAMA);
    const bytes = readFileSync(join(dir, 'model.onnx'));
    const imported = importOnnx(bytes, { modelPath: join(dir, 'model.onnx'), host: nodeHost });
    expect(imported.inputs).toHaveLength(15);
    const inputs = llamaInputs();
    const { graph, inputs: named } = prepareGraph(bytes, join(dir, 'model.onnx'), inputs);
    const ours = evaluateGraph(graph, named);
    const theirs = await llamaOrt(inputs);
    const via = viaFloat16(graph);
    let compared = 0;
    for (const name of graph.outputs) {
      expect(compareWithOrt(name, ours.get(name)!, theirs.get(name)!, via), `output ${name}`).toBe('');
      compared++;
    }
    expect(graph.outputs.filter((n) => !via.has(n))).toHaveLength(7); // output_3..9: norm weights, ids, embedding, RMSNorm statistics in f32
    expect(compared).toBe(40);
  }, 300_000);

  it('the LLaMA layer is refused for mesh:8x8 with the SRAM diagnostics and their per-core breakdowns, single-core and distributed', () => {
    const path = join(MODELS, LLAMA, 'model.onnx');
    try {
      compile(readFileSync(path), { target: resolveTarget('mesh:8x8'), modelPath: path, host: nodeHost });
      expect.unreachable();
    } catch (e) {
      const [single, dist] = (e as DiagnosticError).diagnostics;
      expect(single.code).toBe('W3002');
      expect(single.message).toBe("op 'embedding' (Gather) needs 12591104 B of SRAM for its inputs and outputs; a core has 49152 B");
      expect(single.location).toBe("op 'embedding', core (0,0): %output_7 8388608 B (io), %input3 4194304 B (io), %input13 8192 B (io); total 12591104 B of 49152 B");
      // Distributed, it fits nowhere near 64 cores: the memory map per core, with the fullest step's tensors.
      expect(dist.code).toBe('W3005');
      expect(dist.message).toMatch(/^distributed mode: the distributed program's memory map needs \d+ B per core on 8×8 cores, but a core has 49152 B$/);
      expect(dist.location).toMatch(/^every core of \(0,0 8x8\), at step \d+ \(op '\w+'\): .*%output_20 262144 B \(io\)/);
    }
  }, 120_000);
});

