/**
 * Graph IR: whole-tensor ops with ONNX semantics over SSA values.
 *
 * A value is named once (by a graph input, a constant or one node output) and has a tensor type once
 * shapes are inferred. Nodes are kept in a topological order. Attribute names and op types are the
 * ONNX ones; the frontend has already moved attributes that later opsets turned into inputs (Reshape
 * shape, Split sizes, Slice starts/ends, Squeeze axes, Reduce axes, Clip bounds, Pad pads ...) into
 * constant inputs, so each op has one canonical form whatever the source opset.
 */
import type { DType } from './dtype.js';
import type { Tensor } from './tensor.js';

/** A dimension: a size, or a symbol (e.g. `batch`) that must be bound before shapes are inferred. */
export type Dim = number | string;

export interface TensorType {
  dtype: DType;
  shape: Dim[];
}

/** A tensor type whose dims are all known. */
export interface StaticType {
  dtype: DType;
  shape: number[];
}

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: Tensor };

export type Attrs = Record<string, Attr>;

export interface Node {
  /** ONNX op type, e.g. `MatMul`. */
  op: string;
  /** ONNX domain; '' is the default ai.onnx domain. */
  domain: string;
  /** The source node's name, used as the location in diagnostics. Unique within a graph. */
  name: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
}

export interface Graph {
  name: string;
  /** Version of the default ONNX domain the graph was written against. */
  opset: number;
  inputs: string[];
  outputs: string[];
  /** Type of every value; undefined while not yet inferred. Insertion order is definition order. */
  types: Map<string, TensorType | undefined>;
  /** Values known at compile time (initializers, folded results). Also listed in `types`. */
  constants: Map<string, Tensor>;
  nodes: Node[];
}

export function isStatic(t: TensorType | undefined): t is StaticType {
  return t !== undefined && t.shape.every((d) => typeof d === 'number');
}

export function emptyGraph(name: string, opset: number): Graph {
  return { name, opset, inputs: [], outputs: [], types: new Map(), constants: new Map(), nodes: [] };
}

export function typeToString(t: TensorType | undefined): string {
  if (!t) return '?';
  return `${t.dtype}[${t.shape.join(',')}]`;
}

/** A deep copy of the graph structure (tensors are shared: they are treated as immutable). */
export function cloneGraph(g: Graph): Graph {
  return {
    name: g.name,
    opset: g.opset,
    inputs: [...g.inputs],
    outputs: [...g.outputs],
    types: new Map([...g.types].map(([k, t]) => [k, t && { dtype: t.dtype, shape: [...t.shape] }])),
    constants: new Map(g.constants),
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
  };
}

/** Map from value name to the node producing it. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/** Map from value name to the nodes that read it (in node order). */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      let l = m.get(i);
      if (!l) m.set(i, (l = []));
      if (!l.includes(n)) l.push(n);
    }
  }
  return m;
}
