/**
 * The distributed tests' check of a compiled program: functional emulation on seeded feeds, every
 * output against the reference evaluation of the compiled graph by dtype, and measured == predicted.
 */
import { expect } from 'vitest';
import { compareTensors } from '../../cli/compare.js';
import type { compile } from '../../compiler/compile.js';
import { evaluateGraph } from '../../ir/evaluate.js';
import { seededFloats } from '../../ir/random.js';
import { Tensor } from '../../ir/tensor.js';
import { emulate } from '../../runtime/emulate.js';

/** Tolerances by dtype: float32 as the conformance runs, float16 within one unit in the last place of the once-rounded reference. */
export const TOL: Record<string, { rtol: number; atol: number }> = { float32: { rtol: 1e-3, atol: 1e-4 }, float16: { rtol: 2 ** -10, atol: 2 ** -14 } };

/**
 * Emulates a compiled program on `feeds` (functional), requires every output to match the reference
 * evaluation of the compiled graph (floats within TOL, integers exactly) and measured == predicted
 * cycles; returns the run. Outputs in `skip` are left to the caller (a bound of its own).
 */
export function expectRun(res: ReturnType<typeof compile>, feeds: ReadonlyMap<string, Tensor>, skip: ReadonlySet<string> = new Set()): ReturnType<typeof emulate> {
  const data = [...feeds].filter(([, v]) => v.data.length > 0).map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)] as const);
  const out = emulate(res.program, { mode: 'functional', inputs: new Map(data) });
  const ref = evaluateGraph(res.graph, new Map(feeds));
  for (const o of out.outputs!) {
    if (skip.has(o.name)) continue;
    const want = ref.get(o.name)!;
    const got = Tensor.from(want.dtype, o.shape, Array.from(o.data));
    const cmp = compareTensors(got, want, TOL[want.dtype] ?? { rtol: 0, atol: 0 });
    expect(cmp.ok, `${o.name}: ${JSON.stringify(cmp)}`).toBe(true);
  }
  expect(out.prediction.matched).toBe(true);
  expect(out.totalCycles).toBe(res.program.predicted!.totalCycles);
  return out;
}


/** Feeds of seeded values (ir/random.ts) for `shapes` in order, input k from seed `seed + k`. */
export function seededFeeds(shapes: Record<string, readonly number[]>, seed: number, scale?: number, dtype: 'float32' | 'float16' = 'float32'): Map<string, Tensor> {
  return new Map(Object.entries(shapes).map(([name, shape], k) => {
    const values = seededFloats(seed + k, shape.reduce((a, b) => a * b, 1), scale);
    return [name, dtype === 'float16' ? Tensor.from('float16', [...shape], Array.from(values)) : new Tensor('float32', [...shape], values)];
  }));
}
