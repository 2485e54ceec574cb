/**
 * Einsum: a parser for numpy-style equations (explicit `->` output or the implicit one, `...`
 * ellipsis with right-aligned broadcasting, repeated labels meaning diagonals) and an evaluator that
 * reduces every contraction to the batched matrix product of matmul-numpy.ts:
 *
 *   1. each operand becomes a strided view with one axis per distinct label (a repeated label sums
 *      its strides, which reads the diagonal), and labels no other term uses are summed out;
 *   2. operands are folded left to right: for A and B the shared labels still needed later are batch
 *      dims, the other shared labels are contracted (K), the rest are M (from A) and N (from B); both
 *      are copied into [batch, M, K] / [batch, K, N] and multiplied;
 *   3. the result is permuted into the output's label order.
 *
 * Labels are numbered by character code (so the implicit output is in ASCII order, as in numpy);
 * ellipsis dims get ids from ELLIPSIS upward, left to right in the broadcast ellipsis shape.
 */
import { type DType, allocData, castScalar } from '../dtype.js';
import type { Attrs } from '../graph.js';
import { Tensor, sizeOf, stridesOf } from '../tensor.js';
import { matmulTensors } from './matmul-numpy.js';
import type { OpDef } from './registry.js';
import { gatherAxes, rampOffsets } from './shape-util.js';
import { attrString, fail } from './util.js';

const ELLIPSIS = 1000;

export interface EinsumPlan {
  /** Label ids of each operand's axes, in order (may repeat). */
  terms: number[][];
  /** Label ids of the output axes. */
  output: number[];
  /** Size of every label. */
  sizes: Map<number, number>;
}

function parseTerm(term: string, what: string): { labels: number[]; ellipsisAt: number } {
  const labels: number[] = [];
  let ellipsisAt = -1;
  for (let i = 0; i < term.length; i++) {
    const ch = term[i];
    if (term.startsWith('...', i)) {
      if (ellipsisAt >= 0) fail(`Einsum ${what} '${term}' has more than one ellipsis`);
      ellipsisAt = labels.length;
      i += 2;
    } else if (/[a-zA-Z]/.test(ch)) {
      labels.push(ch.charCodeAt(0));
    } else {
      fail(`Einsum ${what} '${term}' contains '${ch}'; labels are letters a-z, A-Z and '...'`);
    }
  }
  return { labels, ellipsisAt };
}

/** Parses an equation against operand shapes, resolving ellipses and label sizes. */
export function planEinsum(equation: string, shapes: readonly (readonly number[])[]): EinsumPlan {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const rhs = arrow >= 0 ? eq.slice(arrow + 2) : undefined;
  const raw = lhs.split(',');
  if (raw.length !== shapes.length) {
    fail(`Einsum equation '${equation}' has ${raw.length} operand terms but the node has ${shapes.length} inputs`);
  }
  const parsed = raw.map((t, i) => parseTerm(t, `term ${i}`));
  // ellipsis rank: what each operand's '...' covers; they broadcast right-aligned
  let ellRank = 0;
  const ellRanks = parsed.map((p, i) => {
    const r = shapes[i].length - p.labels.length;
    if (p.ellipsisAt < 0 && r !== 0) {
      fail(`Einsum term '${raw[i]}' has ${p.labels.length} labels but input ${i} has rank ${shapes[i].length}`);
    }
    if (r < 0) fail(`Einsum term '${raw[i]}' has more labels than input ${i} has dims (rank ${shapes[i].length})`);
    ellRank = Math.max(ellRank, r);
    return r;
  });
  const sizes = new Map<number, number>();
  const terms = parsed.map((p, i) => {
    const ids = p.ellipsisAt < 0 ? p.labels : [
      ...p.labels.slice(0, p.ellipsisAt),
      ...Array.from({ length: ellRanks[i] }, (_, k) => ELLIPSIS + ellRank - ellRanks[i] + k),
      ...p.labels.slice(p.ellipsisAt),
    ];
    ids.forEach((id, ax) => {
      const d = shapes[i][ax];
      const prev = sizes.get(id);
      if (prev === undefined || prev === 1) sizes.set(id, d);
      else if (d !== prev && d !== 1) {
        fail(`Einsum label '${labelName(id)}' has size ${prev} in one place and ${d} in input ${i}`);
      }
    });
    return ids;
  });
  let output: number[];
  if (rhs === undefined) {
    const count = new Map<number, number>();
    for (const t of terms) for (const id of t) count.set(id, (count.get(id) ?? 0) + 1);
    const ell = Array.from({ length: ellRank }, (_, k) => ELLIPSIS + k);
    const once = [...count].filter(([id, c]) => c === 1 && id < ELLIPSIS).map(([id]) => id).sort((x, y) => x - y);
    output = [...ell, ...once];
  } else {
    const p = parseTerm(rhs, 'output');
    output = p.ellipsisAt < 0 ? p.labels : [
      ...p.labels.slice(0, p.ellipsisAt),
      ...Array.from({ length: ellRank }, (_, k) => ELLIPSIS + k),
      ...p.labels.slice(p.ellipsisAt),
    ];
    const seen = new Set<number>();
    for (const id of output) {
      if (seen.has(id)) fail(`Einsum output label '${labelName(id)}' appears twice`);
      seen.add(id);
      if (!sizes.has(id)) fail(`Einsum output label '${labelName(id)}' does not appear in any input term`);
    }
  }
  return { terms, output, sizes };
}

function labelName(id: number): string {
  return id >= ELLIPSIS ? '...' : String.fromCharCode(id);
}

// ---- evaluation ---------------------------------------------------------------------------------

/** An operand with one axis per distinct label. */
interface Labeled {
  t: Tensor;
  ids: number[];
}

/**
 * Copies a strided view into a contiguous tensor: output axis d has size shape[d] and reads the
 * source with stride strides[d] (0 to broadcast).
 */
function stridedCopy(src: Tensor, shape: readonly number[], strides: readonly number[]): Tensor {
  return gatherAxes(src.data, src.dtype, shape, shape.map((n, d) => rampOffsets(n, strides[d])));
}

/** A view of `x` with its axes arranged as `ids` (missing or size-1 axes broadcast to `sizes`). */
function arrange(x: Labeled, ids: readonly number[], sizes: Map<number, number>): Tensor {
  const st = stridesOf(x.t.shape);
  const shape = ids.map((id) => sizes.get(id) as number);
  const strides = ids.map((id) => {
    const ax = x.ids.indexOf(id);
    return ax < 0 || x.t.shape[ax] === 1 ? 0 : st[ax];
  });
  return stridedCopy(x.t, shape, strides);
}

/** Turns a term into distinct labels (diagonal for repeated labels). */
function distinct(t: Tensor, term: readonly number[]): Labeled {
  const ids: number[] = [];
  for (const id of term) if (!ids.includes(id)) ids.push(id);
  if (ids.length === term.length) return { t, ids };
  const st = stridesOf(t.shape);
  const strides = ids.map(() => 0);
  const shape = ids.map(() => 1);
  term.forEach((id, ax) => {
    const k = ids.indexOf(id);
    strides[k] += st[ax];
    shape[k] = t.shape[ax];
  });
  return { t: stridedCopy(t, shape, strides), ids };
}

/** Sums out the axes whose labels are not in `keep`. */
function sumOut(x: Labeled, keep: ReadonlySet<number>): Labeled {
  const kept = x.ids.filter((id) => keep.has(id));
  if (kept.length === x.ids.length) return x;
  const gone = x.ids.filter((id) => !keep.has(id));
  const sizes = new Map<number, number>(x.ids.map((id, ax) => [id, x.t.shape[ax]]));
  const arranged = arrange(x, [...kept, ...gone], sizes);
  const outShape = kept.map((id) => sizes.get(id) as number);
  const n = sizeOf(outShape);
  const chunk = sizeOf(gone.map((id) => sizes.get(id) as number));
  const out = allocData(x.t.dtype, n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * chunk; j < (i + 1) * chunk; j++) s += arranged.data[j];
    out[i] = castScalar(s, x.t.dtype);
  }
  return { t: new Tensor(x.t.dtype, outShape, out), ids: kept };
}

/** Contracts two operands, keeping the labels in `keep`, via one batched matmul. */
function contract(a: Labeled, b: Labeled, keep: ReadonlySet<number>, sizes: Map<number, number>): Labeled {
  const inB = new Set(b.ids);
  const inA = new Set(a.ids);
  const batch = a.ids.filter((id) => inB.has(id) && keep.has(id));
  const k = a.ids.filter((id) => inB.has(id) && !keep.has(id));
  const m = a.ids.filter((id) => !inB.has(id));
  const n = b.ids.filter((id) => !inA.has(id));
  const size = (ids: number[]): number => sizeOf(ids.map((id) => sizes.get(id) as number));
  const [B, M, K, N] = [size(batch), size(m), size(k), size(n)];
  const a3 = arrange(a, [...batch, ...m, ...k], sizes).reshape([B, M, K]);
  const b3 = arrange(b, [...batch, ...k, ...n], sizes).reshape([B, K, N]);
  const ids = [...batch, ...m, ...n];
  const r = matmulTensors(a3, b3);
  return { t: r.reshape(ids.map((id) => sizes.get(id) as number)), ids };
}

export function evaluateEinsum(equation: string, operands: Tensor[]): Tensor {
  const plan = planEinsum(equation, operands.map((t) => t.shape));
  const { terms, output, sizes } = plan;
  const ops = operands.map((t, i) => distinct(t, terms[i]));
  const outSet = new Set(output);
  // labels needed after position i: the output's and those of later operands
  const neededFrom = (i: number): Set<number> => {
    const s = new Set(outSet);
    for (let j = i; j < ops.length; j++) for (const id of ops[j].ids) s.add(id);
    return s;
  };
  // first drop labels only one operand uses and the output does not
  const reduced = ops.map((op, i) => {
    const others = new Set(outSet);
    ops.forEach((o, j) => j !== i && o.ids.forEach((id) => others.add(id)));
    return sumOut(op, others);
  });
  let acc = reduced[0];
  for (let i = 1; i < reduced.length; i++) {
    const keep = neededFrom(i + 1);
    acc = contract(sumOut(acc, neededFrom(i)), reduced[i], keep, sizes);
  }
  acc = sumOut(acc, outSet);
  return arrange(acc, output, sizes);
}

const NUMERIC = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8']);

function checkTypes(types: readonly { readonly dtype: DType }[]): DType {
  if (types.length === 0) fail('Einsum needs at least one input');
  const d = types[0].dtype;
  if (!NUMERIC.has(d)) fail(`Einsum does not accept ${d} tensors`);
  for (const t of types) if (t.dtype !== d) fail(`Einsum inputs must share one dtype, got ${types.map((x) => x.dtype).join(', ')}`);
  return d;
}

function equationOf(attrs: Attrs): string {
  const eq = attrString(attrs, 'equation');
  if (eq === undefined) fail("Einsum requires the 'equation' attribute");
  return eq;
}

const einsum: OpDef = {
  infer(inputs, attrs) {
    const types = inputs.map((x, i) => {
      if (!x) fail(`Einsum input ${i} is missing`);
      return x.type;
    });
    const dtype = checkTypes(types);
    const plan = planEinsum(equationOf(attrs), types.map((t) => t.shape));
    return [{ dtype, shape: plan.output.map((id) => plan.sizes.get(id) as number) }];
  },
  evaluate(inputs, attrs) {
    const ts = inputs.map((x, i) => {
      if (!x) fail(`Einsum input ${i} is missing`);
      return x;
    });
    checkTypes(ts);
    return [evaluateEinsum(equationOf(attrs), ts)];
  },
};

export const einsumOps: Record<string, OpDef> = { Einsum: einsum };
