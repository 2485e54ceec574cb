/**
 * Dense tensors: a dtype, a static shape and a typed array in row-major order.
 * Values always obey the storage rule of dtype.ts (narrow floats pre-rounded, 64-bit ints in f64).
 */
import { allocData, castScalar, type DType, type TensorData } from './dtype.js';

export class Tensor {
  constructor(
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly data: TensorData,
  ) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`internal: tensor data length ${data.length} != product of shape [${shape.join(',')}]`);
    }
  }

  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.shape.length;
  }

  /** A tensor of zeros. */
  static zeros(dtype: DType, shape: readonly number[]): Tensor {
    return new Tensor(dtype, [...shape], allocData(dtype, sizeOf(shape)));
  }

  /** Builds a tensor from plain numbers, casting each to the dtype. */
  static from(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
    const data = allocData(dtype, values.length);
    for (let i = 0; i < values.length; i++) data[i] = castScalar(values[i], dtype);
    return new Tensor(dtype, [...shape], data);
  }

  static scalar(dtype: DType, value: number): Tensor {
    return Tensor.from(dtype, [], [value]);
  }

  /** Same data viewed with another shape of equal size (no copy). */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.dtype, [...shape], this.data);
  }

  /** Values as plain numbers (for small tensors: shapes, axes, indices). */
  toArray(): number[] {
    return Array.from(this.data as ArrayLike<number>);
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Bytewise-equal data and identical dtype and shape. */
export function tensorsIdentical(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  for (let i = 0; i < a.shape.length; i++) if (a.shape[i] !== b.shape[i]) return false;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i];
    const y = b.data[i];
    if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) return false;
  }
  return true;
}
