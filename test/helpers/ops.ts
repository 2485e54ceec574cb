/**
 * Helpers shared by the op tests (test/ops-*.test.ts):
 *
 * - tensors: `t(dtype, shape, values)`, `f32`, `f64`, `i64`, `iota`, `seq`, and `vals` to read one back;
 * - attribute values: `int`, `ints`, `float`, `str`, used under their names (`{ axis: int(1) }`);
 * - `opHarness(defaults)`: runners bound to a test file's opset (and other `OpOptions`) that put an
 *   op through its registered definition: `run`/`runAll` (infer, then evaluate, and expect evaluate's
 *   output types to equal infer's), `evaluate` and `infer` alone, and `opErrorOfBoth`;
 * - `opError`, `errCode` and `expectOpError`: catch the OpError a call throws.
 */
import { expect } from 'vitest';
import type { DType } from '../../ir/dtype.js';
import type { Attr, Attrs, StaticType } from '../../ir/graph.js';
import { getOp, OpError, type InferInput, type OpDef, type OpInfo } from '../../ir/ops/index.js';
import { Tensor } from '../../ir/tensor.js';

// ---- tensors ------------------------------------------------------------------------------------

export const t = (dtype: DType, shape: number[], values: ArrayLike<number>): Tensor => Tensor.from(dtype, shape, values);
export const f32 = (shape: number[], values: ArrayLike<number>): Tensor => t('float32', shape, values);
export const f64 = (shape: number[], values: ArrayLike<number>): Tensor => t('float64', shape, values);
/** An int64 tensor, 1-D unless a shape is given. */
export const i64 = (values: number[], shape = [values.length]): Tensor => t('int64', shape, values);
/** 0, 1, 2, … in row-major order. */
export const iota = (shape: number[], dtype: DType = 'float32'): Tensor =>
  t(dtype, shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i));
/** `[f(0), …, f(n-1)]`; by default 1, 2, …, n. */
export const seq = (n: number, f = (i: number) => i + 1): number[] => Array.from({ length: n }, (_, i) => f(i));
export const vals = (x: Tensor): number[] => x.toArray();

// ---- attribute values ---------------------------------------------------------------------------

export const int = (value: number): Extract<Attr, { kind: 'int' }> => ({ kind: 'int', value });
export const ints = (...value: number[]): Extract<Attr, { kind: 'ints' }> => ({ kind: 'ints', value });
export const float = (value: number): Extract<Attr, { kind: 'float' }> => ({ kind: 'float', value });
export const str = (value: string): Extract<Attr, { kind: 'string' }> => ({ kind: 'string', value });

// ---- running ops --------------------------------------------------------------------------------

export interface OpOptions {
  /** ai.onnx opset of the node (default 21). */
  opset?: number;
  /** Number of outputs the node declares (default 1). */
  numOutputs?: number;
  /**
   * Inputs `infer` also receives the value of, as it would for compile-time constants: `true` for
   * every input, or the input indices. Default: none, infer sees types only.
   */
  consts?: boolean | number[];
  /** Look ops up in this family table instead of the registry (for a test of one family). */
  ops?: Record<string, OpDef>;
}

/** An input to `infer`: a tensor (its type, and its value when `consts` says so), a bare type, or omitted. */
export type InferArg = Tensor | StaticType | undefined;

export interface OpHarness {
  /** The op's output types from `infer`. */
  infer(op: string, inputs: InferArg[], attrs?: Attrs, options?: OpOptions): StaticType[];
  /** The op's outputs from `evaluate` alone. */
  evaluate(op: string, inputs: (Tensor | undefined)[], attrs?: Attrs, options?: OpOptions): Tensor[];
  /**
   * Runs `infer` then `evaluate`, expects `numOutputs` outputs whose dtypes and shapes equal the
   * inferred types, and returns them.
   */
  runAll(op: string, inputs: (Tensor | undefined)[], attrs?: Attrs, options?: OpOptions): Tensor[];
  /** `runAll`'s first output. */
  run(op: string, inputs: (Tensor | undefined)[], attrs?: Attrs, options?: OpOptions): Tensor;
  /**
   * The OpError that both `infer` and `evaluate` throw (they must agree on rejecting bad input):
   * expects code W2002 and the same message from both.
   */
  opErrorOfBoth(op: string, inputs: (Tensor | undefined)[], attrs?: Attrs, options?: OpOptions): OpError;
}

/** Op runners whose options default to `defaults` (per call, `options` override them). */
export function opHarness(defaults: OpOptions = {}): OpHarness {
  const resolve = (op: string, options: OpOptions): { def: OpDef; info: OpInfo; consts: boolean | number[] } => {
    const o = { ...defaults, ...options };
    const def = o.ops ? o.ops[op] : getOp(op);
    if (!def) throw new Error(`op ${op} not registered`);
    return { def, info: { name: 'n', opset: o.opset ?? 21, numOutputs: o.numOutputs ?? 1 }, consts: o.consts ?? false };
  };
  const inferInputs = (inputs: InferArg[], consts: boolean | number[]): (InferInput | undefined)[] =>
    inputs.map((x, i) => {
      if (!(x instanceof Tensor)) return x && { type: x };
      const type = { dtype: x.dtype, shape: [...x.shape] };
      return consts === true || (Array.isArray(consts) && consts.includes(i)) ? { type, value: x } : { type };
    });

  const h: OpHarness = {
    infer(op, inputs, attrs = {}, options = {}) {
      const { def, info, consts } = resolve(op, options);
      return def.infer(inferInputs(inputs, consts), attrs, info);
    },
    evaluate(op, inputs, attrs = {}, options = {}) {
      const { def, info } = resolve(op, options);
      return def.evaluate(inputs, attrs, info);
    },
    runAll(op, inputs, attrs = {}, options = {}) {
      const { def, info, consts } = resolve(op, options);
      const types = def.infer(inferInputs(inputs, consts), attrs, info);
      const outs = def.evaluate(inputs, attrs, info);
      expect(outs).toHaveLength(info.numOutputs);
      expect(outs.map((o) => ({ dtype: o.dtype, shape: [...o.shape] }))).toEqual(types);
      return outs;
    },
    run: (op, inputs, attrs = {}, options = {}) => h.runAll(op, inputs, attrs, options)[0],
    opErrorOfBoth(op, inputs, attrs = {}, options = {}) {
      const { def, info, consts } = resolve(op, options);
      const errs = [
        opError(() => def.infer(inferInputs(inputs, consts), attrs, info)),
        opError(() => def.evaluate(inputs, attrs, info)),
      ];
      expect(errs[0].code).toBe('W2002');
      expect(errs[1].message).toBe(errs[0].message);
      return errs[0];
    },
  };
  return h;
}

// ---- catching OpErrors --------------------------------------------------------------------------

/** The OpError `f` throws; fails the test if it throws something else or nothing. */
export function opError(f: () => unknown): OpError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OpError);
    return e as OpError;
  }
  throw new Error('expected an OpError');
}

/** `code: message` of the OpError `f` throws, or 'no error'; other exceptions propagate. */
export function errCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof OpError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'no error';
}

/** Expects `f` to throw an OpError with this code and a message matching `message`. */
export function expectOpError(f: () => unknown, code: string, message: RegExp): void {
  const e = opError(f);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
}
