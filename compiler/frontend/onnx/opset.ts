/**
 * Opset canonicalization: attributes that later ONNX opsets turned into inputs become constant inputs,
 * so the IR has one form per op whatever opset the file was written against (see ir/graph.ts). The
 * created constants are named `<node>__<attr>`. Legacy attributes with no meaning left
 * (`consumed_inputs`, Dropout/BatchNormalization `is_test`, BatchNormalization `spatial=1`) are
 * dropped. Every other attribute is kept as is; semantic changes that are not attribute moves (e.g.
 * Softmax before opset 13) are left to the op definitions, which see the graph opset.
 */
import { diag } from '../../../ir/diagnostics.js';
import type { DType } from '../../../ir/dtype.js';
import type { Attr, Node } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';

export interface CanonContext {
  /** ai.onnx opset of the model. */
  opset: number;
  /** Adds a constant under a unique name derived from `base` and returns that name. */
  addConst(base: string, t: Tensor): string;
  /** dtype of a value when the file declares it (inputs, initializers, value_info). */
  dtypeOf(name: string): DType | undefined;
  /** Rank of a value when the file declares it. */
  rankOf(name: string): number | undefined;
  /** The value of a constant (initializer, Constant node), if the name is one. */
  constant(name: string): Tensor | undefined;
}

/** Reduce ops whose `axes` became input 1 in opset 18 (ReduceSum moved earlier, in 13). */
const REDUCE_AXES_18 = new Set([
  'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare',
]);

/** Binary ops whose opset-1..6 versions had `broadcast`/`axis` attributes instead of numpy broadcasting. */
const LEGACY_BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less']);

/** ONNX TensorProto type names → codes, for Cast-1's string `to`. */
const CAST1_TYPES: Record<string, number> = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
};

/**
 * Rewrites `node` in place into the canonical form. Returns the name of an unsupported variant
 * (reported with the unsupported ops) or undefined.
 */
export function canonicalize(node: Node, ctx: CanonContext): string | undefined {
  if (node.domain !== '') return undefined;
  const v = ctx.opset;
  const m = new Mover(node, ctx);
  delete node.attrs.consumed_inputs;
  switch (node.op) {
    case 'Reshape':
      if (v < 5) m.ints('shape', 1);
      break;
    case 'Split':
      if (v < 13) m.ints('split', 1);
      break;
    case 'Slice':
      if (v < 10) {
        m.ints('starts', 1);
        m.ints('ends', 2);
        m.ints('axes', 3);
      }
      break;
    case 'Squeeze':
    case 'Unsqueeze':
      if (v < 13) m.ints('axes', 1);
      break;
    case 'ReduceSum':
      if (v < 13) m.ints('axes', 1);
      break;
    case 'Clip':
      if (v < 11) {
        const t = ctx.dtypeOf(node.inputs[0]) ?? 'float32';
        m.scalar('min', 1, t);
        m.scalar('max', 2, t);
      }
      break;
    case 'Pad':
      if (v < 11) {
        if (node.attrs.paddings && !node.attrs.pads) rename(node, 'paddings', 'pads'); // Pad-1
        m.ints('pads', 1);
        const value = node.attrs.value;
        if (value && floatOf(value, node, 'value') === 0) delete node.attrs.value;
        else m.scalar('value', 2, ctx.dtypeOf(node.inputs[0]) ?? 'float32');
      }
      break;
    case 'Dropout':
      delete node.attrs.is_test;
      if (v < 12) m.scalar('ratio', 1, 'float32');
      break;
    case 'BatchNormalization': {
      delete node.attrs.is_test;
      const spatial = node.attrs.spatial;
      if (spatial && spatial.kind === 'int' && spatial.value === 1) delete node.attrs.spatial;
      break;
    }
    case 'TopK':
      if (v < 10) m.ints('k', 1, true);
      break;
    case 'Upsample':
      if (v < 7) {
        // Upsample-1: height_scale/width_scale on NCHW input; mode 'bilinear' is the later 'linear'
        const h = node.attrs.height_scale ? floatOf(node.attrs.height_scale, node, 'height_scale') : 1;
        const w = node.attrs.width_scale ? floatOf(node.attrs.width_scale, node, 'width_scale') : 1;
        delete node.attrs.height_scale;
        delete node.attrs.width_scale;
        node.attrs.scales = { kind: 'floats', value: [1, 1, h, w] };
        const mode = node.attrs.mode;
        if (mode && mode.kind === 'string' && mode.value === 'bilinear') node.attrs.mode = { kind: 'string', value: 'linear' };
      }
      if (v < 9) m.floats('scales', 1);
      break;
    case 'Resize':
      if (v < 11) {
        // Resize-10 had (X, scales) and asymmetric coordinates; Resize-11 put `roi` before `scales`
        node.inputs = [node.inputs[0] ?? '', '', ...node.inputs.slice(1)];
        if (!node.attrs.coordinate_transformation_mode) {
          node.attrs.coordinate_transformation_mode = { kind: 'string', value: 'asymmetric' };
        }
      }
      break;
    case 'Cast':
      if (v < 6) {
        const to = node.attrs.to;
        if (to && to.kind === 'string') {
          const code = CAST1_TYPES[to.value.toUpperCase()];
          if (code === undefined) throw diag('W1011', `Cast 'to' names an unknown type '${to.value}'`, node.name);
          node.attrs.to = { kind: 'int', value: code };
        }
      }
      break;
    case 'Concat':
      if (v < 4 && !node.attrs.axis) node.attrs.axis = { kind: 'int', value: 1 }; // Concat-1 defaulted to 1
      break;
    case 'Tile':
      if (v < 6) return 'Tile(opset<6)';
      break;
    case 'PRelu':
      // PRelu before 7 applied a 1-D slope of size C per channel (axis 1); PRelu-7 broadcasts numpy-style
      if (v < 7) {
        const slope = ctx.constant(node.inputs[1]);
        const rankX = ctx.rankOf(node.inputs[0]);
        if (slope && slope.rank === 1 && slope.size > 1) {
          if (rankX === undefined || !m.alignConstant(1, rankX - 1)) return 'PRelu(opset<7 per-channel slope)';
        }
      }
      break;
    case 'Gemm':
      if (v < 7) delete node.attrs.broadcast; // Gemm-7 broadcasts C unidirectionally, as broadcast=1 did
      break;
    case 'LpPool':
    case 'GlobalLpPool': {
      const p = node.attrs.p;
      if (p && p.kind === 'float') node.attrs.p = { kind: 'int', value: Math.round(p.value) }; // float in version 1
      break;
    }
    default:
      if (REDUCE_AXES_18.has(node.op) && v < 18) m.ints('axes', 1);
      if (LEGACY_BROADCAST.has(node.op) && v < 7) {
        // Before opset 7, broadcast=1 without axis matched B's shape against the trailing dims of A,
        // which numpy-style broadcasting also does. With `axis` the alignment differs: not supported.
        const axis = node.attrs.axis;
        const bc = node.attrs.broadcast;
        if (axis && bc && bc.kind === 'int' && bc.value !== 0) {
          // B aligned at `axis` of A: pad B's shape with trailing 1s so numpy broadcasting agrees
          const rankA = ctx.rankOf(node.inputs[0]);
          if (axis.kind !== 'int' || rankA === undefined) return `${node.op}(opset<7 broadcast with axis)`;
          const ax = axis.value < 0 ? axis.value + rankA : axis.value;
          if (!m.alignConstant(1, rankA - ax)) return `${node.op}(opset<7 broadcast with axis)`;
        }
        delete node.attrs.broadcast;
        delete node.attrs.axis;
      }
  }
  while (node.inputs.length > 0 && node.inputs[node.inputs.length - 1] === '') node.inputs.pop();
  return undefined;
}

function rename(node: Node, from: string, to: string): void {
  node.attrs[to] = node.attrs[from];
  delete node.attrs[from];
}

function floatOf(a: Attr, node: Node, name: string): number {
  if (a.kind === 'float' || a.kind === 'int') return a.value;
  throw diag('W1011', `attribute '${name}' of ${node.op} must be a number, got ${a.kind}`, node.name);
}

/** Moves attributes of one node into constant inputs. */
class Mover {
  constructor(
    private readonly node: Node,
    private readonly ctx: CanonContext,
  ) {}

  /** ints attribute → 1-D int64 input (a scalar int is accepted as a one-element list). */
  ints(attr: string, index: number, fromInt = false): void {
    const a = this.take(attr);
    if (!a) return;
    let values: number[];
    if (a.kind === 'ints') values = a.value;
    else if (a.kind === 'int' && fromInt) values = [a.value];
    else throw this.kindError(attr, a, fromInt ? 'int' : 'ints');
    this.place(attr, index, Tensor.from('int64', [values.length], values));
  }

  /** floats attribute → 1-D float32 input. */
  floats(attr: string, index: number): void {
    const a = this.take(attr);
    if (!a) return;
    if (a.kind !== 'floats') throw this.kindError(attr, a, 'floats');
    this.place(attr, index, Tensor.from('float32', [a.value.length], a.value));
  }

  /** float attribute → scalar input of `dtype`. */
  scalar(attr: string, index: number, dtype: DType): void {
    const a = this.take(attr);
    if (!a) return;
    if (a.kind !== 'float' && a.kind !== 'int') throw this.kindError(attr, a, 'float');
    this.place(attr, index, Tensor.scalar(dtype, a.value));
  }

  /**
   * Reshapes constant input `index` by appending 1s until it has `rank` dims (legacy alignment at an
   * axis turned into trailing broadcasting). False when the input is not a constant or is too long.
   */
  alignConstant(index: number, rank: number): boolean {
    const name = this.node.inputs[index];
    const t = name ? this.ctx.constant(name) : undefined;
    if (!t || rank < t.rank) return false;
    if (rank === t.rank) return true;
    const shape = [...t.shape, ...new Array<number>(rank - t.rank).fill(1)];
    this.node.inputs[index] = this.ctx.addConst(`${this.node.name}__aligned${index}`, t.reshape(shape));
    return true;
  }

  private take(attr: string): Attr | undefined {
    const a = this.node.attrs[attr];
    if (a) delete this.node.attrs[attr];
    return a;
  }

  private place(attr: string, index: number, t: Tensor): void {
    const inputs = this.node.inputs;
    // Some early versions (Split-1) also accepted the value as an input: an input given wins.
    if (inputs[index]) return;
    while (inputs.length <= index) inputs.push('');
    inputs[index] = this.ctx.addConst(`${this.node.name}__${attr}`, t);
  }

  private kindError(attr: string, a: Attr, want: string) {
    return diag('W1011', `attribute '${attr}' of ${this.node.op} must be ${want}, got ${a.kind}`, this.node.name, 'the file is corrupt');
  }
}
