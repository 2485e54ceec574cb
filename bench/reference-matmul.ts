/**
 * Speed of the reference MatMul on float32 square matrices: times the registered op's `evaluate`
 * (the blocked kernel of ir/ops/matmul-kernel.ts plus tensor overhead) on seeded data, best of a
 * few runs, and reports GFLOP/s as 2·N³ / seconds.
 */
import { getOp } from '../ir/ops/index.js';
import { seededFloats } from '../ir/random.js';
import { Tensor } from '../ir/tensor.js';

export function benchReferenceMatmul(sizes: number[]): { size: number; seconds: number; gflops: number }[] {
  const op = getOp('MatMul');
  if (!op) throw new Error('internal: MatMul is not registered');
  const info = { name: 'bench', opset: 21, numOutputs: 1 };
  return sizes.map((n) => {
    const a = new Tensor('float32', [n, n], seededFloats(1, n * n, 0.5));
    const b = new Tensor('float32', [n, n], seededFloats(2, n * n, 0.5));
    // enough repetitions for ~0.3 s of work per size, at least 3
    const runs = Math.max(3, Math.min(50, Math.ceil(3e8 / (2 * n * n * n))));
    let best = Infinity;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      op.evaluate([a, b], {}, info);
      best = Math.min(best, performance.now() - t0);
    }
    const seconds = best / 1000;
    return { size: n, seconds, gflops: (2 * n * n * n) / seconds / 1e9 };
  });
}
