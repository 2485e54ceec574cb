/**
 * The corpus LLaMA layer's seeded inputs and onnxruntime-node's outputs for them, and the comparison
 * both LLaMA tests use: outputs computed through float16 arithmetic (the layer casts to f16 for its
 * matmuls) within 4 f16 ulps of the tensor's largest magnitude — a one-ulp difference in one f16
 * rounding (summation order inside a matmul) legitimately propagates — and everything computed in
 * float32 alone within the float32 tolerance.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { compareTensors } from '../../cli/compare.js';
import { float16BitsToNumber, type DType } from '../../ir/dtype.js';
import type { Graph } from '../../ir/graph.js';
import { mulberry32 } from '../../ir/random.js';
import { Tensor } from '../../ir/tensor.js';
import { importOnnx } from '../../compiler/frontend/onnx/index.js';
import { nodeHost } from '../../compiler/host.js';

export const MODELS = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../../shared/corpus/models');
export const LLAMA = 'ut_xoptim__noopt-llama-custom__0';
export const LLAMA_PATH = join(MODELS, LLAMA, 'model.onnx');

/** Seeded inputs: token ids, a padding mask, RMSNorm weights near 1, small weights. */
export function llamaInputs(): { name: string; tensor: Tensor }[] {
  const bytes = readFileSync(LLAMA_PATH);
  const imported = importOnnx(bytes, { modelPath: LLAMA_PATH, host: nodeHost });
  const r = mulberry32(7);
  return imported.inputs.map((name) => {
    const t = imported.types.get(name)!;
    const shape = t.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    // input13: token ids (rows 0..1023 of the embedding input3); input14: attention mask, 1 = keep,
    // with the last 24 positions of the second sequence padded; input0..2: RMSNorm weights near 1
    const last = shape[shape.length - 1];
    const values = name === 'input13'
      ? Array.from({ length: n }, (_, i) => (i * 7919) % last)
      : name === 'input14'
        ? Array.from({ length: n }, (_, i) => (i >= last && i % last >= last - 24 ? 0 : 1))
        : shape.length === 1
          ? Array.from({ length: n }, () => 1 + 0.1 * (r() * 2 - 1))
          : Array.from({ length: n }, () => (r() * 2 - 1) * 0.05);
    return { name, tensor: Tensor.from(t.dtype as DType, shape, values) };
  });
}

/** onnxruntime-node's outputs for the inputs. */
export async function llamaOrt(inputs: { name: string; tensor: Tensor }[]): Promise<Map<string, Tensor>> {
  const session = await ort.InferenceSession.create(readFileSync(LLAMA_PATH));
  const feeds: Record<string, ort.Tensor> = {};
  for (const { name, tensor } of inputs) {
    feeds[name] = tensor.dtype === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from(tensor.toArray().map(BigInt)), [...tensor.shape])
      : new ort.Tensor('float32', tensor.data as Float32Array, [...tensor.shape]);
  }
  const theirs = await session.run(feeds);
  const out = new Map<string, Tensor>();
  for (const [name, o] of Object.entries(theirs)) {
    const dtype: DType = o.type === 'float16' ? 'float16' : o.type === 'int64' ? 'int64' : 'float32';
    const data = o.type === 'float16'
      ? Array.from(o.data as Uint16Array, float16BitsToNumber)
      : o.type === 'int64' ? Array.from(o.data as BigInt64Array, Number) : Array.from(o.data as Float32Array);
    out.set(name, Tensor.from(dtype, [...o.dims], data));
  }
  return out;
}

/** The graph's outputs computed through float16 arithmetic. */
export function viaFloat16(graph: Graph): Set<string> {
  const via = new Set<string>();
  for (const n of graph.nodes) {
    if (n.inputs.some((v) => via.has(v)) || n.outputs.some((o) => graph.types.get(o)?.dtype === 'float16')) n.outputs.forEach((o) => via.add(o));
  }
  return via;
}

/** Compares one output with onnxruntime's: '' when within the tolerance its arithmetic allows. */
export function compareWithOrt(name: string, ours: Tensor, expected: Tensor, via: ReadonlySet<string>): string {
  let tol = { rtol: 1e-3, atol: 1e-4 };
  if (via.has(name)) {
    let top = 0;
    for (const v of expected.data) top = Math.max(top, Math.abs(Number(v)));
    tol = { rtol: 0, atol: 4 * 2 ** (Math.floor(Math.log2(top)) - 10) };
  }
  return compareTensors(ours, expected, tol).reason ?? '';
}
