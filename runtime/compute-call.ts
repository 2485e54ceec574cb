/**
 * Functional mode of `call` (docs/runtime-model.md, "call"): reads the input tensors from a core's
 * SRAM image as graph tensors of their declared dtype and shape (each value cast to the dtype, as
 * Tensor.from does), evaluates the op with its reference semantics (ir/ops), checks the results
 * against the declared outputs (W6008), and writes them back under the storage rules: floats rounded
 * to the buffer's type (float64 narrowed to float32), integers and booleans into i32 buffers only
 * when the value is an int32 that the emulator's i32 storage holds exactly (W6007 otherwise).
 * Every input is read before any output is written, so outputs may overwrite inputs.
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import { isFloat, type DType } from '../ir/dtype.js';
import { Tensor } from '../ir/tensor.js';
import { ROUND_F16, roundTo } from './compute.js';
import { roundF16, storeF16 } from './compute-f16.js';
import { errorText, type CompiledCall } from './loader-call.js';

/** Where the call runs, for diagnostics: "core (x,y), instruction #id (loc)". */
export interface CallSite {
  location: string;
  loc: string;
  opset: number;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * An input tensor read from SRAM: Tensor.from (each value cast to the dtype), with the two common
 * float dtypes done in bulk — float32 values of the image are float32 already (a copy), float16 ones
 * go through roundF16, which is roundFloat16 bit for bit.
 */
function readTensor(dtype: DType, shape: readonly number[], mem: Float32Array, b: number, n: number): Tensor {
  if (dtype === 'float32') return new Tensor(dtype, [...shape], mem.slice(b, b + n));
  if (dtype === 'float16') {
    const data = new Float32Array(n);
    storeF16(mem, b, data, 0, n);
    return new Tensor(dtype, [...shape], data);
  }
  return Tensor.from(dtype, shape, mem.subarray(b, b + n));
}

/**
 * Runs a call on one core. `mem` is the region's SRAM image; `base[i]` the absolute index of the
 * first element of the call's operand i (CompiledCall.operands order); `round[i]` its buffer's
 * rounding mode (compute.ts).
 */
export function executeCall(cc: CompiledCall, mem: Float32Array, base: ArrayLike<number>, round: ArrayLike<number>, site: CallSite): void {
  const w6008 = (msg: string) => new DiagnosticError({
    code: 'W6008', message: `call ${cc.opType}: ${msg}`, location: site.location,
    hint: 'The declared output types must be the ones the op gives for these inputs (a compiler bug when it comes from `wafer compile`).',
  });
  const inputs: (Tensor | undefined)[] = cc.inputs.map(() => undefined);
  cc.operands.forEach((o, i) => {
    if (!o.isOutput) inputs[o.index] = readTensor(o.dtype, o.shape, mem, base[i], o.n);
  });
  const info = { name: site.loc, opset: site.opset, numOutputs: cc.outputs.length };
  if (cc.inferAtRun) {
    // The loader could not infer the output types without values; do it now, before evaluating
    // (a shape taken from SRAM data could otherwise make the op allocate a huge tensor).
    let types;
    try {
      types = cc.def.infer(inputs.map((t) => (t ? { type: { dtype: t.dtype, shape: [...t.shape] }, value: t } : undefined)), cc.attrs, info);
    } catch (e) {
      throw w6008(`the op failed: ${errorText(e)}`);
    }
    for (const o of cc.operands) {
      const r = o.isOutput ? types[o.index] : undefined;
      if (o.isOutput && (!r || r.dtype !== o.dtype || r.shape.length !== o.shape.length || r.shape.some((d, i) => d !== o.shape[i]))) {
        throw w6008(`${o.name} is declared ${o.dtype}[${o.shape.join(',')}] but the op gives ${r ? `${r.dtype}[${r.shape.join(',')}]` : 'no such output'}`);
      }
    }
  }
  let results: Tensor[];
  try {
    results = cc.def.evaluate(inputs, cc.attrs, info);
  } catch (e) {
    throw w6008(`the op failed: ${errorText(e)}`);
  }
  // Check every output before writing any.
  for (const o of cc.operands) {
    if (!o.isOutput) continue;
    const r = results[o.index];
    if (!r) throw w6008(`${o.name} is declared but the op gave ${results.length} result(s)`);
    if (r.dtype !== o.dtype || r.shape.length !== o.shape.length || r.shape.some((d, i) => d !== o.shape[i])) {
      throw w6008(`${o.name} is declared ${o.dtype}[${o.shape.join(',')}] but the op gave ${r.dtype}[${r.shape.join(',')}]`);
    }
  }
  cc.operands.forEach((o, i) => {
    if (!o.isOutput) return;
    const data = results[o.index].data;
    const b = base[i];
    if (isFloat(o.dtype)) {
      const mode = round[i];
      if (mode === ROUND_F16) for (let j = 0; j < o.n; j++) mem[b + j] = roundF16(data[j]);
      else for (let j = 0; j < o.n; j++) mem[b + j] = roundTo(mode, data[j]);
      return;
    }
    for (let j = 0; j < o.n; j++) {
      const v = data[j];
      if (v < INT32_MIN || v > INT32_MAX || Math.fround(v) !== v) {
        const why = v < INT32_MIN || v > INT32_MAX ? 'outside the int32 range' : 'not held exactly by the emulator\'s i32 storage (float32: exact up to 2^24)';
        throw new DiagnosticError({
          code: 'W6007',
          message: `call ${cc.opType}: ${o.name} (${o.dtype}[${o.shape.join(',')}]) element ${j} is ${v}, ${why}`,
          location: site.location,
          hint: 'i32 buffers hold int32 values (int64 indices and shapes must fit); keep such values small, or keep this op off the wafer.',
        });
      }
      mem[b + j] = v;
    }
  });
}
