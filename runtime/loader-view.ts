/**
 * Tiling views (Tiling.view, docs/program-format.md): the host tensor's row-major data reshaped to
 * `dims` and permuted by `perm` is the [rows, cols] matrix the tiles cut. Inputs and constants are
 * permuted into matrix order before their tiles are placed; outputs are gathered as the matrix and
 * permuted back into the tensor's row-major order.
 *
 * compileView simplifies the permutation once — dims of extent 1 dropped, runs of permuted dims
 * that stay adjacent in the source merged — so a view that moves no data compiles to null (no copy),
 * and the copy loop walks the matrix row by row of the innermost merged dim with precomputed source
 * strides: no allocation per element, whatever the rank.
 */
import type { TilingView } from '../ir/program.js';

/** A simplified permutation: matrix dim i has extent shape[i] and source (tensor) stride stride[i]. */
export interface CompiledView {
  shape: number[];
  stride: number[];
  size: number;
}

/** The compiled form of a (valid) view; null when the matrix is the tensor's data as is. */
export function compileView(v: TilingView | undefined): CompiledView | null {
  if (v === undefined) return null;
  const n = v.dims.length;
  const srcStride = new Array<number>(n);
  let s = 1;
  for (let d = n - 1; d >= 0; d--) { srcStride[d] = s; s *= v.dims[d]; }
  const shape: number[] = [], stride: number[] = [];
  for (const d of v.perm) {
    const e = v.dims[d];
    if (e === 1) continue;
    const k = shape.length - 1;
    // Merge with the previous matrix dim when the two are contiguous in the source.
    if (k >= 0 && stride[k] === srcStride[d] * e) { shape[k] *= e; stride[k] = srcStride[d]; }
    else { shape.push(e); stride.push(srcStride[d]); }
  }
  if (shape.length <= 1) return null;
  return { shape, stride, size: s };
}

/**
 * Copies between tensor order and matrix order: toMatrix writes matrix[m] = tensor[src(m)], otherwise
 * tensor[src(m)] = matrix[m]. `from` and `to` have `v.size` elements and do not overlap.
 */
function permuteCopy(v: CompiledView, from: Float32Array, to: Float32Array, toMatrix: boolean): void {
  const { shape, stride } = v;
  const n = shape.length;
  const inner = shape[n - 1], is = stride[n - 1];
  const idx = new Int32Array(n);
  let src = 0;
  for (let m = 0; m < v.size; m += inner) {
    if (toMatrix) for (let j = 0, q = src; j < inner; j++, q += is) to[m + j] = from[q];
    else for (let j = 0, q = src; j < inner; j++, q += is) to[q] = from[m + j];
    // Advance the odometer over the outer matrix dims.
    for (let d = n - 2; d >= 0; d--) {
      src += stride[d];
      if (++idx[d] < shape[d]) break;
      src -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** The matrix (row-major rows × cols) of a tensor's row-major values; the values themselves when the view is null. */
export function tensorToMatrix(v: CompiledView | null, tensor: Float32Array): Float32Array {
  if (v === null) return tensor;
  const out = new Float32Array(v.size);
  permuteCopy(v, tensor, out, true);
  return out;
}

/** The tensor's row-major values of a matrix; the matrix itself when the view is null. */
export function matrixToTensor(v: CompiledView | null, matrix: Float32Array): Float32Array {
  if (v === null) return matrix;
  const out = new Float32Array(v.size);
  permuteCopy(v, matrix, out, false);
  return out;
}
