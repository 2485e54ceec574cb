/**
 * Builders shared by the ONNX frontend tests: small ModelProtos written with onnx-proto, and helpers
 * to catch diagnostics and read constants.
 */
import onnxPkg from 'onnx-proto';
import { importOnnx, type ImportOptions } from '../compiler/frontend/onnx/index.js';
import { DiagnosticError, type Diagnostic } from '../ir/diagnostics.js';
import type { Graph, Node } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';

export const { onnx } = onnxPkg;
export type INode = onnxPkg.onnx.INodeProto;
export type IValueInfo = onnxPkg.onnx.IValueInfoProto;
export type ITensor = onnxPkg.onnx.ITensorProto;
export type IAttr = onnxPkg.onnx.IAttributeProto;
export type IFunction = onnxPkg.onnx.IFunctionProto;

// ---- builders -----------------------------------------------------------------------------------

export const AT = onnx.AttributeProto.AttributeType;
export const a = {
  i: (name: string, i: number): IAttr => ({ name, type: AT.INT, i }),
  f: (name: string, f: number): IAttr => ({ name, type: AT.FLOAT, f }),
  s: (name: string, s: string): IAttr => ({ name, type: AT.STRING, s: new TextEncoder().encode(s) }),
  ints: (name: string, ints: number[]): IAttr => ({ name, type: AT.INTS, ints }),
  floats: (name: string, floats: number[]): IAttr => ({ name, type: AT.FLOATS, floats }),
  t: (name: string, t: ITensor): IAttr => ({ name, type: AT.TENSOR, t }),
};

/** A tensor value_info; string dims are symbols, '' an anonymous unknown dim. */
export function vi(name: string, dims: (number | string)[] = [2, 3], elemType = 1): IValueInfo {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d === '' ? {} : { dimParam: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

export function node(opType: string, input: string[], output: string[], attribute: IAttr[] = [], name = '', domain = ''): INode {
  return { opType, input, output, attribute, name, domain };
}

export function f32(name: string, dims: number[], values: number[]): ITensor {
  return { name, dims, dataType: 1, floatData: values };
}

export function raw(name: string, dataType: number, dims: number[], bytes: ArrayBufferView): ITensor {
  return { name, dims, dataType, rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

export interface ModelSpec {
  opset?: number;
  nodes: INode[];
  inputs?: IValueInfo[];
  outputs?: IValueInfo[];
  initializers?: ITensor[];
  valueInfo?: IValueInfo[];
  functions?: IFunction[];
  extraOpsets?: { domain: string; version: number }[];
}

export function encode(spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }, ...(spec.extraOpsets ?? [])],
    graph: {
      name: 'g',
      node: spec.nodes,
      input: spec.inputs ?? [vi('x')],
      output: spec.outputs ?? [vi('y', [])],
      initializer: spec.initializers ?? [],
      valueInfo: spec.valueInfo ?? [],
    },
    functions: spec.functions ?? [],
  }).finish();
}

export const load = (spec: ModelSpec, options?: ImportOptions): Graph => importOnnx(encode(spec), options);

/** The diagnostics thrown by fn; fails when fn returns or throws anything else. */
export function diagsOf(fn: () => unknown): Diagnostic[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics;
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}
export const codeOf = (fn: () => unknown): string => diagsOf(fn)[0].code;

/** One node `op(x, ...)` → y at `opset`; returns that node and the graph. */
export function single(op: string, attrs: IAttr[], opset: number, inputs = ['x'], x: IValueInfo = vi('x')): { n: Node; g: Graph } {
  const g = load({ opset, nodes: [node(op, inputs, ['y'], attrs, 'n')], inputs: [x] });
  return { n: g.nodes[0], g };
}

export const constOf = (g: Graph, name: string): Tensor => {
  const t = g.constants.get(name);
  if (!t) throw new Error(`no constant ${name}`);
  return t;
};
export const values = (t: Tensor): number[] => t.toArray();
