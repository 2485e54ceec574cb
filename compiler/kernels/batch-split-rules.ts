/**
 * Which ops are separable along dim 0 (the batch dim), for the batch split (kernels/batch-split.ts):
 * piece b of the output, rows [b·D/k, (b+1)·D/k) of dim 0, is the op applied to piece b of some
 * inputs ('split') and to the whole of the others ('whole': broadcast operands, axes, bounds).
 *
 * - elementwise ops (tiled.ts's UNARY / BINARY, Where, Cast, Clip, Mod, PRelu, and the fuse pass's
 *   wafer:FusedElementwise chains): an input of the output's rank and dim 0 is split; one of lower
 *   rank or dim 0 of 1 is broadcast whole (numpy broadcasting aligns it away from dim 0);
 * - Softmax / LogSoftmax / Hardmax over an axis other than 0 (for opset < 13 too: the coerced rows
 *   are then whole dim-0 blocks), ArgMax / ArgMin and the Reduce* ops over axes without 0;
 * - Transpose keeping dim 0 in front (perm[0] = 0);
 * - batched MatMul (output rank ≥ 3): each operand of the output's rank with its dim 0 is split,
 *   a 2-D operand (or a batch dim of 1) is broadcast whole;
 * - Reshape / Flatten / Squeeze / Unsqueeze whose input and output dim 0 are both multiples of k:
 *   the piece, D/k of the input's dim-0 blocks, is exactly out[0]/k of the output's (the same
 *   contiguous elements), so the piece op is a Reshape to [out[0]/k, ...out[1:]] ('reshape').
 * Only `call` ops of the default domain (or fused chains) with one output, not already pinned, qualify.
 */
import { attrInt } from '../../ir/ops/util.js';
import type { MeshGraph, MeshOp } from '../../ir/mesh.js';
import { FUSED_DOMAIN, FUSED_OP } from '../../ir/ops/fused.js';
import { BINARY, UNARY } from './tiled.js';

export type Role = 'split' | 'whole' | 'none';

export interface PieceRule {
  /** Per input: split into the k pieces, passed whole, or absent / dropped. */
  roles: Role[];
  /** The piece op is a Reshape of the split input to the piece's output shape. */
  reshape?: boolean;
}

const ELEMENTWISE = new Set([...UNARY, ...BINARY, 'Where', 'Cast', 'Clip', 'Mod', 'PRelu']);
const SOFTMAX = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);
const REDUCE = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);
const RESHAPE = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);

const norm = (a: number, r: number) => (a < 0 ? a + r : a);


/** The reduction axes of a Reduce* op (attribute or constant input), or undefined when unknown / all. */
function reduceAxes(mesh: MeshGraph, op: MeshOp): number[] | undefined {
  const a = op.attrs.axes;
  if (a && a.kind === 'ints') return a.value;
  const v = op.inputs[1];
  if (!v) return undefined;
  const t = mesh.constants.get(v);
  return t && t.data.length > 0 ? Array.from(t.data as ArrayLike<number>, Number) : undefined;
}

/** Broadcast roles: same rank and dim 0 → split, lower rank or dim 0 of 1 → whole, else not separable. */
function broadcastRole(shape: readonly number[], out: readonly number[]): Role | undefined {
  if (shape.length === out.length && shape[0] === out[0]) return 'split';
  if (shape.length < out.length || shape[0] === 1) return 'whole';
  return undefined;
}

/** The rule for running `op` as k dim-0 pieces, or undefined when it is not separable that way. */
export function pieceRule(mesh: MeshGraph, op: MeshOp, k: number): PieceRule | undefined {
  const fused = op.domain === FUSED_DOMAIN && op.op === FUSED_OP;
  if (op.kernel !== 'call' || (op.domain !== '' && !fused) || op.outputs.length !== 1 || !op.outputs[0] || op.params.pin !== undefined) return undefined;
  const shapeOf = (v: string) => mesh.values.get(v)!.type.shape;
  const out = shapeOf(op.outputs[0]);
  if (out.length === 0 || out[0] % k !== 0 || out[0] < k) return undefined;
  const r = out.length;
  const first = op.inputs[0] ? shapeOf(op.inputs[0]) : undefined;
  if (!first) return undefined;
  const rest = (role: Role): Role[] => op.inputs.map((v, i) => (i === 0 ? 'split' : v ? role : 'none'));
  if (ELEMENTWISE.has(op.op) || fused) {
    const roles = op.inputs.map((v) => (v ? broadcastRole(shapeOf(v), out) : 'none'));
    return roles.some((x) => x === undefined) || !roles.includes('split') ? undefined : { roles: roles as Role[] };
  }
  if (first.length !== r && !RESHAPE.has(op.op) && !REDUCE.has(op.op) && !op.op.startsWith('Arg')) return undefined;
  if (SOFTMAX.has(op.op)) {
    const axis = norm(attrInt(op.attrs, 'axis') ?? (mesh.opset >= 13 ? -1 : 1), r);
    return axis === 0 ? undefined : { roles: rest('none') };
  }
  if (REDUCE.has(op.op)) {
    const axes = reduceAxes(mesh, op);
    if (!axes || first.length === 0 || axes.some((a) => norm(a, first.length) === 0)) return undefined;
    if (first[0] !== out[0]) return undefined;
    return { roles: rest('whole') };
  }
  if (op.op === 'ArgMax' || op.op === 'ArgMin') {
    return norm(attrInt(op.attrs, 'axis') ?? 0, first.length) === 0 || first[0] !== out[0] ? undefined : { roles: rest('none') };
  }
  if (op.op === 'Transpose') {
    const perm = op.attrs.perm;
    return perm && perm.kind === 'ints' && perm.value[0] === 0 ? { roles: rest('none') } : undefined;
  }
  if (op.op === 'MatMul') {
    if (r < 3 || op.inputs.length !== 2) return undefined;
    const roles = op.inputs.map((v) => {
      const s = shapeOf(v);
      if (s.length < 2) return undefined;
      return s.length === r && s[0] === out[0] ? 'split' : s.length === 2 || (s.length === r && s[0] === 1) ? 'whole' : undefined;
    });
    return roles.some((x) => x === undefined) || !roles.includes('split') ? undefined : { roles: roles as Role[] };
  }
  if (RESHAPE.has(op.op)) {
    if (mesh.opset < 5 || first.length === 0 || first[0] % k !== 0) return undefined;
    return { roles: op.inputs.map((v, i) => (i === 0 ? 'split' : 'none')), reshape: true };
  }
  return undefined;
}
