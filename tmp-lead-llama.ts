import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { evaluateGraph } from './ir/evaluate.js';
import { float16BitsToNumber, type DType } from './ir/dtype.js';
import { Tensor } from './ir/tensor.js';
import { importOnnx } from './compiler/frontend/onnx/index.js';
import { nodeHost } from './compiler/host.js';
import { compareTensors } from './cli/compare.js';
import { prepareGraph } from './cli/conformance.js';
function rng(seed: number) { let a = seed >>> 0; return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const dir = '/work/shared/corpus/models/ut_xoptim__noopt-llama-custom__0';
const bytes = readFileSync(join(dir, 'model.onnx'));
const imported = importOnnx(bytes, { modelPath: join(dir, 'model.onnx'), host: nodeHost });
const r = rng(7);
const inputs = imported.inputs.map((name) => {
  const t = imported.types.get(name)!; const shape = t.shape as number[]; const n = shape.reduce((a, b) => a * b, 1);
  const last = shape[shape.length - 1];
  const values = name === 'input13' ? Array.from({ length: n }, (_, i) => (i * 7919) % last)
    : name === 'input14' ? Array.from({ length: n }, (_, i) => (i >= last && i % last >= last - 24 ? 0 : 1))
    : shape.length === 1 ? Array.from({ length: n }, () => 1 + 0.1 * (r() * 2 - 1)) : Array.from({ length: n }, () => (r() * 2 - 1) * 0.05);
  return { name, tensor: Tensor.from(t.dtype as DType, shape, values) };
});
const t0 = performance.now();
const { graph, inputs: named } = prepareGraph(bytes, join(dir, 'model.onnx'), inputs);
const ours = evaluateGraph(graph, named);
console.log('wafer ms', performance.now() - t0);
const session = await ort.InferenceSession.create(bytes);
const feeds: Record<string, ort.Tensor> = {};
for (const { name, tensor } of inputs) feeds[name] = tensor.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(tensor.toArray().map(BigInt)), [...tensor.shape]) : new ort.Tensor('float32', tensor.data as Float32Array, [...tensor.shape]);
const theirs = await session.run(feeds);
for (const name of graph.outputs) {
  const o = theirs[name];
  const dtype: DType = o.type === 'float16' ? 'float16' : o.type === 'int64' ? 'int64' : 'float32';
  const data = o.type === 'float16' ? Array.from(o.data as Uint16Array, float16BitsToNumber) : o.type === 'int64' ? Array.from(o.data as BigInt64Array, Number) : Array.from(o.data as Float32Array);
  const expected = Tensor.from(dtype, [...o.dims], data);
  const c = compareTensors(ours.get(name)!, expected, { rtol: 1e-3, atol: 1e-4 });
  let maxAbsE = 0; for (const v of expected.data) maxAbsE = Math.max(maxAbsE, Math.abs(v));
  console.log(name, dtype, o.dims.join('x'), c.ok ? 'ok' : c.reason, 'maxabs', c.maxAbsError.toExponential(2), 'maxrel', c.maxRelError.toExponential(2), 'scale', maxAbsE.toExponential(2));
}
