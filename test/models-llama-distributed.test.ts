/**
 * The corpus LLaMA layer (hidden 1024, 2 heads × 512, batch 2 × 1024 tokens, 40 outputs, ~40 MB of
 * f32 weights as inputs) compiled for the smallest square mesh whose SRAM holds it and run there in
 * the emulator (the search of compiler/fit.ts finds the side): every output matches onnxruntime-node on seeded inputs, the measured cycles equal
 * the prediction, and compiling twice gives the same bytes. Every smaller side is refused with the
 * SRAM diagnostic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.js';
import { smallestSquareMesh } from '../compiler/fit.js';
import { nodeHost } from '../compiler/host.js';
import { encodeProgram } from '../ir/program-codec.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { emulate } from '../runtime/emulate.js';
import { LLAMA_PATH, compareWithOrt, llamaInputs, llamaOrt, viaFloat16 } from './helpers/llama.js';

describe.skipIf(!existsSync(LLAMA_PATH))('the LLaMA layer, distributed', () => {
  it('compiles for mesh:64x64, the smallest square mesh that holds it, and matches onnxruntime-node with measured == predicted cycles', async () => {
    // The search from the outputs' bytes up: every smaller side is refused on SRAM (its region's side
    // must divide the dims, so below 64 the region is 32×32 and needs four times the SRAM per core).
    const fit = smallestSquareMesh(readFileSync(LLAMA_PATH), { modelPath: LLAMA_PATH, host: nodeHost });
    expect(fit.side).toBe(64);
    expect(fit.lowerBound).toBeLessThan(64);
    expect(fit.refused.map((r) => r.side)).toEqual(Array.from({ length: 64 - fit.lowerBound }, (_, i) => fit.lowerBound + i));
    expect(new Set(fit.refused.map((r) => r.code))).toEqual(new Set(['W3005']));
    const res = fit.result;
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
