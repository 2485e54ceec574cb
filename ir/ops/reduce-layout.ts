/**
 * Data-layout helpers shared by the reduction and normalization ops.
 *
 * Every reduction here is computed on contiguous rows: the reduced axes are moved to the end (one
 * strided gather, skipped when they already are trailing), so that each output element reads one
 * contiguous segment of `len` values. The gather merges adjacent dims and runs a tight innermost loop,
 * which keeps it fast on the 1024x1024 tensors of real models.
 */
import type { TensorData } from '../dtype.js';
import { stridesOf } from '../tensor.js';
import { fail } from './util.js';

/** Normalizes a list of possibly negative axes; sorted ascending. Fails on out-of-range or repeated axes. */
export function normAxes(axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out: number[] = [];
  for (const a of axes) {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) fail(`${what} value ${a} is out of range for rank ${rank}`);
    if (out.includes(n)) fail(`${what} [${axes.join(',')}] repeat axis ${n}`);
    out.push(n);
  }
  return out.sort((x, y) => x - y);
}

/**
 * Copies `src` (row-major, shape `shape`) into `dst` transposed by `perm` (dst dim i = src dim perm[i]).
 * Size-1 dims are dropped and dims that stay adjacent in memory are merged before the loop.
 */
export function transposeInto(src: TensorData, shape: readonly number[], perm: readonly number[], dst: TensorData): void {
  const n = dst.length;
  if (n === 0) return;
  const st = stridesOf(shape);
  const dims: number[] = [];
  const strides: number[] = [];
  for (const p of perm) {
    if (shape[p] === 1) continue;
    const r = dims.length;
    // merge with the previous dim when the two are contiguous in the source
    if (r > 0 && strides[r - 1] === st[p] * shape[p]) {
      dims[r - 1] *= shape[p];
      strides[r - 1] = st[p];
    } else {
      dims.push(shape[p]);
      strides.push(st[p]);
    }
  }
  const r = dims.length;
  if (r === 0) {
    dst[0] = src[0];
    return;
  }
  const innerN = dims[r - 1];
  const innerS = strides[r - 1];
  const cnt = new Array<number>(r).fill(0);
  let off = 0;
  for (let o = 0; o < n; o += innerN) {
    for (let j = 0, p = off; j < innerN; j++, p += innerS) dst[o + j] = src[p];
    for (let d = r - 2; d >= 0; d--) {
      off += strides[d];
      if (++cnt[d] < dims[d]) break;
      off -= strides[d] * dims[d];
      cnt[d] = 0;
    }
  }
}

/** A tensor's data seen as `outer` contiguous rows of `len` values each (the reduced axes last). */
export interface Rows {
  data: TensorData;
  outer: number;
  len: number;
}

/**
 * Views `data` (shape `shape`) as rows over the reduced `axes` (normalized, sorted): the result's row
 * `o` holds every element that reduces into output element `o` (outputs in row-major order of the
 * kept dims). Copies only when a kept dim of size > 1 follows a reduced one.
 */
export function rowsOver(data: TensorData, shape: readonly number[], axes: readonly number[]): Rows {
  const reduced = new Array<boolean>(shape.length).fill(false);
  for (const a of axes) reduced[a] = true;
  let outer = 1;
  let len = 1;
  let trailing = true;
  let seenReduced = false;
  for (let i = 0; i < shape.length; i++) {
    if (reduced[i]) {
      len *= shape[i];
      if (shape[i] !== 1) seenReduced = true;
    } else {
      outer *= shape[i];
      if (shape[i] !== 1 && seenReduced) trailing = false;
    }
  }
  if (trailing) return { data, outer, len };
  const perm: number[] = [];
  for (let i = 0; i < shape.length; i++) if (!reduced[i]) perm.push(i);
  for (let i = 0; i < shape.length; i++) if (reduced[i]) perm.push(i);
  const dst = new (data.constructor as new (n: number) => TensorData)(data.length);
  transposeInto(data, shape, perm, dst);
  return { data: dst, outer, len };
}

/** Shape of a reduction's result: reduced axes become 1 (keepdims) or disappear. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (!axes.includes(i)) out.push(shape[i]);
    else if (keepdims) out.push(1);
  }
  return out;
}

/** Splits a shape around one axis: sizes of the dims before it, the axis itself, and after it. */
export function splitAt(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return { outer, n: shape[axis], inner };
}
