/**
 * AttributeProto → IR Attr. Scalars, lists, strings and tensors convert; subgraph attributes (If,
 * Loop, Scan ...) mark the node as unsupported instead; anything malformed is W1011 at the node.
 * Old files may omit the attribute `type`: it is then inferred from the field that is set.
 */
import { diag } from '../../../ir/diagnostics.js';
import type { Attr, Attrs } from '../../../ir/graph.js';
import { has, toNum, utf8, type AttributeProto } from './decode.js';
import { tensorFromProto, type TensorContext } from './tensor.js';

const T = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSOR: 11, SPARSE_TENSORS: 12, TYPE_PROTO: 13, TYPE_PROTOS: 14 } as const;

export interface ConvertedAttrs {
  attrs: Attrs;
  /** Names of attributes holding subgraphs: the node is control flow, which is not supported. */
  graphAttrs: string[];
  /** Attribute kinds with no IR form (sparse tensors, type protos, tensor lists), by attribute name. */
  unsupported: string[];
}

/** Infers the type of an attribute written without one (IR version 1 files). */
function inferType(a: AttributeProto): number {
  if (has(a, 'f')) return T.FLOAT;
  if (has(a, 'i')) return T.INT;
  if (has(a, 's')) return T.STRING;
  if (has(a, 't')) return T.TENSOR;
  if (has(a, 'g')) return T.GRAPH;
  if (a.floats?.length) return T.FLOATS;
  if (a.ints?.length) return T.INTS;
  if (a.strings?.length) return T.STRINGS;
  if (a.graphs?.length) return T.GRAPHS;
  return 0;
}

export function convertAttrs(list: readonly AttributeProto[], where: string, ctx: TensorContext): ConvertedAttrs {
  const attrs: Attrs = {};
  const graphAttrs: string[] = [];
  const unsupported: string[] = [];
  for (const a of list) {
    const name = a.name ?? '';
    if (!name) throw diag('W1011', 'attribute with an empty name', where, 'the file is corrupt');
    if (Object.prototype.hasOwnProperty.call(attrs, name) || graphAttrs.includes(name) || unsupported.includes(name)) {
      throw diag('W1011', `attribute '${name}' is given twice`, where, 'the file is corrupt');
    }
    if (a.refAttrName) {
      throw diag('W1011', `attribute '${name}' refers to a function attribute '${a.refAttrName}' outside a function`, where);
    }
    const type = a.type || inferType(a);
    const at = `${where}, attribute '${name}'`;
    let attr: Attr;
    switch (type) {
      case T.FLOAT:
        attr = { kind: 'float', value: a.f ?? 0 };
        break;
      case T.INT:
        attr = { kind: 'int', value: toNum(a.i) };
        break;
      case T.STRING:
        attr = { kind: 'string', value: utf8(a.s) };
        break;
      case T.FLOATS:
        attr = { kind: 'floats', value: [...(a.floats ?? [])] };
        break;
      case T.INTS:
        attr = { kind: 'ints', value: (a.ints ?? []).map(toNum) };
        break;
      case T.STRINGS:
        attr = { kind: 'strings', value: (a.strings ?? []).map(utf8) };
        break;
      case T.TENSOR:
        if (!a.t) throw diag('W1011', `tensor attribute '${name}' has no tensor`, where, 'the file is corrupt');
        attr = { kind: 'tensor', value: tensorFromProto(a.t, at, ctx) };
        break;
      case T.GRAPH:
      case T.GRAPHS:
        graphAttrs.push(name);
        continue;
      case T.SPARSE_TENSOR:
      case T.SPARSE_TENSORS:
      case T.TYPE_PROTO:
      case T.TYPE_PROTOS:
      case T.TENSORS:
        unsupported.push(name);
        continue;
      default:
        throw diag(
          'W1011',
          `attribute '${name}' has ${type ? `unknown type ${type}` : 'no type and no value'}`,
          where,
          'the file is corrupt or was written by a newer ONNX version',
        );
    }
    // defineProperty: a hostile name such as __proto__ must stay a plain own property
    Object.defineProperty(attrs, name, { value: attr, enumerable: true, writable: true, configurable: true });
  }
  return { attrs, graphAttrs, unsupported };
}
