import { convOps } from './ir/ops/conv.js';
import { poolOps } from './ir/ops/pool.js';
import { Tensor } from './ir/tensor.js';
const info = { name: 'n', opset: 22, numOutputs: 1 };
const r = (shape: number[]) => { const n = shape.reduce((a, b) => a * b, 1); const d = new Float32Array(n); for (let i = 0; i < n; i++) d[i] = Math.sin(i); return new Tensor('float32', shape, d); };
for (const [x, w, attrs] of [
  [r([1, 64, 56, 56]), r([64, 64, 3, 3]), { pads: { kind: 'ints', value: [1, 1, 1, 1] } }],
  [r([1, 3, 224, 224]), r([64, 3, 7, 7]), { pads: { kind: 'ints', value: [3, 3, 3, 3] }, strides: { kind: 'ints', value: [2, 2] } }],
  [r([1, 256, 56, 56]), r([64, 256, 1, 1]), {}],
] as const) {
  const t0 = performance.now();
  convOps.Conv.evaluate([x, w], attrs as any, info);
  console.log('conv', x.shape, w.shape, (performance.now() - t0).toFixed(0), 'ms');
}
{
  const x = r([1, 64, 112, 112]);
  const t0 = performance.now();
  poolOps.MaxPool.evaluate([x], { kernel_shape: { kind: 'ints', value: [3, 3] }, strides: { kind: 'ints', value: [2, 2] }, pads: { kind: 'ints', value: [1, 1, 1, 1] } }, info);
  console.log('maxpool', (performance.now() - t0).toFixed(0), 'ms');
  const t1 = performance.now();
  convOps.ConvTranspose.evaluate([r([1, 64, 32, 32]), r([64, 32, 4, 4])], { strides: { kind: 'ints', value: [2, 2] }, pads: { kind: 'ints', value: [1, 1, 1, 1] } }, info);
  console.log('convT', (performance.now() - t1).toFixed(0), 'ms');
}
