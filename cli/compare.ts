/**
 * Comparison of computed tensors with expected ones: floats within atol + rtol·|expected| (NaN matches
 * NaN, infinities must be equal), integers and bool exactly. Reports the worst absolute and relative
 * errors so a failure says how far off it is.
 */
import { isFloat } from '../ir/dtype.js';
import type { Tensor } from '../ir/tensor.js';

export interface Tolerance {
  rtol: number;
  atol: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { rtol: 1e-3, atol: 1e-5 };

export interface Comparison {
  ok: boolean;
  /** Why it failed, when it failed. */
  reason?: string;
  maxAbsError: number;
  maxRelError: number;
  mismatches: number;
}

export function compareTensors(actual: Tensor, expected: Tensor, tol: Tolerance = DEFAULT_TOLERANCE): Comparison {
  const base = { maxAbsError: 0, maxRelError: 0, mismatches: 0 };
  if (actual.dtype !== expected.dtype) {
    return { ...base, ok: false, reason: `dtype ${actual.dtype}, expected ${expected.dtype}` };
  }
  const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
  if (!sameShape) {
    return { ...base, ok: false, reason: `shape [${actual.shape.join(',')}], expected [${expected.shape.join(',')}]` };
  }
  const float = isFloat(expected.dtype);
  let maxAbs = 0;
  let maxRel = 0;
  let bad = 0;
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    if (a === e) continue;
    if (float) {
      if (Number.isNaN(a) && Number.isNaN(e)) continue;
      const err = Math.abs(a - e);
      const rel = e !== 0 ? err / Math.abs(e) : err;
      if (!(err <= tol.atol + tol.rtol * Math.abs(e))) {
        bad++;
        if (!(err <= maxAbs)) maxAbs = err; // NaN-safe: NaN errors propagate
        if (!(rel <= maxRel)) maxRel = rel;
      } else {
        maxAbs = Math.max(maxAbs, err);
        maxRel = Math.max(maxRel, rel);
      }
    } else {
      bad++;
      maxAbs = Math.max(maxAbs, Math.abs(a - e));
      maxRel = Math.max(maxRel, e !== 0 ? Math.abs(a - e) / Math.abs(e) : Math.abs(a - e));
    }
  }
  return {
    ok: bad === 0,
    reason: bad ? `${bad} of ${expected.size} elements differ` : undefined,
    maxAbsError: maxAbs,
    maxRelError: maxRel,
    mismatches: bad,
  };
}
