/**
 * The corpus LLaMA layer (hidden 1024, 2 heads × 512, batch 2 × 1024 tokens, 40 outputs, ~40 MB of
 * f32 weights as inputs) compiled for the smallest square mesh whose SRAM holds it and run there in
 * the emulator: every output matches onnxruntime-node on seeded inputs, the measured cycles equal
 * the prediction, and compiling twice gives the same bytes. One size smaller is refused with the SRAM diagnostic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.js';
import { nodeHost } from '../compiler/host.js';
import type { DiagnosticError } from '../ir/diagnostics.js';
import { encodeProgram } from '../ir/program-codec.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { emulate } from '../runtime/emulate.js';
import { LLAMA_PATH, compareWithOrt, llamaInputs, llamaOrt, viaFloat16 } from './helpers/llama.js';

describe.skipIf(!existsSync(LLAMA_PATH))('the LLaMA layer, distributed', () => {
  it('is refused on mesh:63x63 (the largest side its dims split over is 32: SRAM overflows)', () => {
    try {
      compile(readFileSync(LLAMA_PATH), { target: resolveTarget('mesh:63x63'), modelPath: LLAMA_PATH, host: nodeHost });
      expect.unreachable();
    } catch (e) {
      const codes = (e as DiagnosticError).diagnostics.map((d) => d.code);
      expect(codes[0]).toBe('W3002');
      expect(codes).toContain('W3005');
    }
  }, 120_000);

  it('compiles for mesh:64x64 and matches onnxruntime-node with measured == predicted cycles', async () => {
    const res = compile(readFileSync(LLAMA_PATH), { target: resolveTarget('mesh:64x64'), modelPath: LLAMA_PATH, host: nodeHost });
    const kernels = new Set(res.mesh.ops.map((o) => o.kernel));
    for (const k of ['dist.gather', 'gemm.transposed', 'dist.softmax', 'dist.slice', 'dist.concat']) expect(kernels).toContain(k);
    // Compiling twice gives the same bytes.
    const again = compile(readFileSync(LLAMA_PATH), { target: resolveTarget('mesh:64x64'), modelPath: LLAMA_PATH, host: nodeHost });
    expect(Buffer.compare(Buffer.from(encodeProgram(again.program)), Buffer.from(encodeProgram(res.program)))).toBe(0);
    const qk = res.mesh.ops.find((o) => o.name === 'bmm')!;
    expect(qk.params).toMatchObject({ M: 1024, K: 512, N: 1024, sub: 32 });
    const inputs = llamaInputs();
    const run = emulate(res.program, { mode: 'functional', inputs: new Map(inputs.map(({ name, tensor }) => [name, Float32Array.from(tensor.data as ArrayLike<number>)])) });
    expect(run.prediction.matched).toBe(true);
    expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
    const theirs = await llamaOrt(inputs);
    const via = viaFloat16(res.graph);
    expect(run.outputs!.length).toBe(40);
    for (const o of run.outputs!) {
      const want = theirs.get(o.name)!;
      const got = Tensor.from(want.dtype, o.shape, Array.from(o.data));
      expect(compareWithOrt(o.name, got, want, via), `output ${o.name}`).toBe('');
    }
  }, 900_000);
});
