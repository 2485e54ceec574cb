/**
 * The distributed plan: select-kernels' choice for a model too large for single-core ops. Every value
 * takes a block form on one P×P region at the mesh origin (kernels/blocks.ts) and every op a
 * distributed kernel (kernels/distributed.ts); P is, of the sides up to the mesh's for which every
 * op has a kernel for the forms of its values, the one replicating the fewest bytes on every core
 * (the largest among equals).
 *
 * Rules, per op (forms decided by the shapes alone, so producer and consumer always agree):
 * - every value replicated → `dist.call` (each core computes the op redundantly);
 * - an elementwise op (ELEMENTWISE, or a fused chain of them) with a block / vec / col output →
 *   `dist.call` on the tiles, when
 *   each input is the same form and shape as the output, a vec broadcast along the rows of a block,
 *   a col of the same rows broadcast along its columns, or a one-element replicated value;
 * - Reshape / Squeeze / Unsqueeze / Flatten keeping the 2-D view → `dist.view` (no copy: the output
 *   shares its input's tiles); Identity (a graph output's own copy) → `dist.copy`;
 * - ReduceSum / ReduceMean / ReduceMax over the last axis with keepdims (a col result), or over all
 *   the leading axes (a vec result) → `dist.reduce`;
 * - Softmax over the last axis → `dist.softmax`; LayerNormalization / RMSNormalization of f32 values
 *   over the last axis, scale and bias one row (or one value) → `dist.layernorm` / `dist.rmsnorm`;
 * - MatMul of a vec a (one row) by a 2-D block W → `gemv.<allreduce>` (dist-gemv.ts: MeshGEMV);
 * - MatMul of a block A (leading dims merged into rows) by a 2-D block B → `gemm.<algorithm>`, the
 *   algorithm forced by `--gemm` or the cheapest by the exact cost; MatMul(A, Transpose(W)) with the
 *   transposed value read nowhere else → `gemm.transposed` on W, the Transpose folded away. GEMM
 *   kernels shift their operands in place, so an operand read later (or a graph output, or both
 *   operands at once) is first copied (`dist.copy` into `%v#gemm<k>`).
 * - Gather along axis 0 of a 2-D block table by token ids (a graph input or constant, which take
 *   the rows form) → `dist.gather` (dist-gather.ts);
 * - Gemm (transA = 0) is first expanded into MatMul (of Transpose(B) for transB), Mul by alpha and
 *   Add of beta·C (expandGemm), which the rules above take.
 * Anything else is W3008, naming the op and the forms it met.
 */
import { DiagnosticError, diag, type Diagnostic } from '../../ir/diagnostics.js';
import type { MeshGraph, MeshOp, MeshValue } from '../../ir/mesh.js';
import { FUSED_DOMAIN, FUSED_OP } from '../../ir/ops/fused.js';
import type { Rect } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { ALLREDUCE_ALGORITHMS, type AllreduceAlgorithm } from './allreduce.js';
import { distGemvCycles } from './dist-gemv.js';
import { blockForm, blockLayout, matrixView, rowsFormFits, type BlockForm } from './blocks.js';
import { expandGemm } from './distribute-gemm.js';
import { gemmCost, type GemmKernel } from './gemm-program.js';

export type GemmChoice = 'meshgemm' | 'cannon' | 'summa' | 'auto';
export type AllreduceChoice = AllreduceAlgorithm | 'auto';

export interface DistributeOptions {
  gemm?: GemmChoice;
  allreduce?: AllreduceChoice;
  /** The largest side to consider. */
  maxSide?: number;
}

/** Ops computed elementwise (with ONNX broadcasting), hence tile by tile. */
export const ELEMENTWISE = new Set([
  'Abs', 'Neg', 'Relu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Tanh', 'Sigmoid', 'Identity', 'Reciprocal', 'Floor', 'Ceil', 'Sin', 'Cos',
  'Softplus', 'Softsign', 'Mish', 'Sign', 'Round', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'ThresholdedRelu',
  'Not', 'IsNaN', 'IsInf', 'Gelu', 'Cast', 'CastLike', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where', 'PRelu', 'Mod', 'BitShift',
]);
const VIEW_OPS = new Set(['Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity']);
const REDUCE_FN: Record<string, string> = { ReduceSum: 'sum', ReduceMean: 'mean', ReduceMax: 'max' };

const elems = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const sameShape = (a: readonly number[], b: readonly number[]) => {
  const strip = (s: readonly number[]) => { let i = 0; while (i < s.length - 1 && s[i] === 1) i++; return s.slice(i); };
  const x = strip(a), y = strip(b);
  return x.length === y.length && x.every((d, i) => d === y[i]);
};

function intAttr(op: MeshOp, name: string, dflt: number): number {
  const a = op.attrs[name];
  return a && a.kind === 'int' ? a.value : dflt;
}

/** The axes a reduction reads: attribute (older opsets) or constant input 1; undefined when unknown. */
function reduceAxes(mesh: MeshGraph, op: MeshOp): number[] | undefined {
  const a = op.attrs.axes;
  if (a && a.kind === 'ints') return [...a.value];
  const v = op.inputs[1];
  if (!v) return undefined;
  const t = mesh.constants.get(v);
  return t ? Array.from(t.data as ArrayLike<number>, Number) : undefined;
}

/** Why an op has no distributed kernel for these forms, or its kernel and parameters. */
type Choice = { kernel: string; params: Record<string, number | string>; inputs?: string[] } | { why: string };

function choose(mesh: MeshGraph, op: MeshOp, form: (v: string) => BlockForm, P: number, target: Target, o: DistributeOptions, transposeOf: Map<string, MeshOp>): Choice {
  const val = (v: string) => mesh.values.get(v)!;
  const ins = op.inputs.filter(Boolean);
  const outs = op.outputs.filter(Boolean);
  const all = [...ins, ...outs];
  if (all.every((v) => form(v) === 'rep')) return { kernel: 'dist.call', params: {} };
  if (op.domain === '' && op.op === 'MatMul' && ins.length === 2) {
    const [a, b] = op.inputs.map(val);
    const c = val(op.outputs[0]);
    const tr = form(op.inputs[0]) === 'block' ? transposeOf.get(op.inputs[1]) : undefined;
    const w = tr ? val(tr.inputs[0]) : b;
    const types = new Set([a.mem, w.mem, c.mem]);
    if (types.size !== 1 || !(a.mem === 'f32' || a.mem === 'f16')) return { why: `its operands are ${[a.mem, w.mem, c.mem].join(', ')} in SRAM; a GEMM needs one float type` };
    if (!tr && form(op.inputs[0]) === 'vec' && form(op.outputs[0]) === 'vec' && form(op.inputs[1]) === 'block' && b.type.shape.length === 2) {
      // A vector times a matrix: MeshGEMV (the decode step).
      const [K, N] = b.type.shape;
      const algorithms = !o.allreduce || o.allreduce === 'auto' ? ALLREDUCE_ALGORITHMS : [o.allreduce];
      let best: { a: AllreduceAlgorithm; cycles: number } | undefined;
      for (const al of algorithms) {
        const cycles = distGemvCycles(target, { K, N, P, type: a.mem as 'f32' | 'f16' }, al);
        if (!best || cycles < best.cycles) best = { a: al, cycles };
      }
      return { kernel: `gemv.${best!.a}`, params: { K, N, cycles: best!.cycles, choice: o.allreduce ?? 'auto' } };
    }
    if (form(op.inputs[0]) !== 'block' || form(op.outputs[0]) !== 'block') return { why: `A is ${form(op.inputs[0])} and the result ${form(op.outputs[0])}; a GEMM needs block operands, a GEMV a vector and a block matrix` };
    if (tr) {
      if (form(tr.inputs[0]) !== 'block' || w.type.shape.length !== 2) return { why: 'the transposed operand is not a 2-D block matrix' };
      const [N, K] = w.type.shape;
      return { kernel: 'gemm.transposed', params: gemmParams('transposed', matrixView(a.type.shape).rows, K, N, P, a.mem, target), inputs: [op.inputs[0], tr.inputs[0]] };
    }
    if (form(op.inputs[1]) !== 'block' || b.type.shape.length !== 2) return { why: 'B is not a 2-D block matrix (batched MatMul has no distributed kernel yet)' };
    const [K, N] = b.type.shape;
    const M = matrixView(a.type.shape).rows;
    const kernels: GemmKernel[] = !o.gemm || o.gemm === 'auto' ? ['meshgemm', 'cannon', 'summa'] : [o.gemm];
    let best: { k: GemmKernel; cycles: number } | undefined;
    for (const k of kernels) {
      const cycles = gemmCost(k, { M, K, N, P, type: a.mem, ...(a.mem === 'f16' ? { acc: 'f32' as const } : {}) }, target).cycles;
      if (!best || cycles < best.cycles) best = { k, cycles };
    }
    return { kernel: `gemm.${best!.k}`, params: { ...gemmParams(best!.k, M, K, N, P, a.mem, target), choice: o.gemm ?? 'auto' } };
  }
  const fused = op.domain === FUSED_DOMAIN && op.op === FUSED_OP;
  if (op.domain !== '' && !fused) return { why: 'no distributed kernel for this domain' };
  const out = op.outputs[0];
  const outForm = form(out);
  if ((ELEMENTWISE.has(op.op) || fused) && outs.length === 1) {
    const oshape = val(out).type.shape;
    for (const v of ins) {
      const f = form(v);
      const s = val(v).type.shape;
      const ok = f === 'rep' ? elems(s) === 1
        : f === outForm ? sameShape(s, oshape)
          : outForm === 'block' && f === 'vec' ? s[s.length - 1] === oshape[oshape.length - 1] && s.length <= oshape.length
            : outForm === 'block' && f === 'col' ? s[s.length - 1] === 1 && sameShape(s.slice(0, -1), oshape.slice(0, -1)) : false;
      if (!ok) return { why: `input '%${v}' (${f} ${fmt(s)}) does not broadcast tile by tile onto the ${outForm} output ${fmt(oshape)}` };
    }
    return { kernel: 'dist.call', params: {} };
  }
  if (VIEW_OPS.has(op.op) && outs.length === 1) {
    const x = val(op.inputs[0]), y = val(out);
    const vx = matrixView(x.type.shape), vy = matrixView(y.type.shape);
    if (form(op.inputs[0]) === outForm && vx.rows === vy.rows && vx.cols === vy.cols && x.mem === y.mem) {
      return { kernel: op.op === 'Identity' ? 'dist.copy' : 'dist.view', params: {}, inputs: [op.inputs[0]] };
    }
    return { why: `it changes the 2-D view [${vx.rows},${vx.cols}] → [${vy.rows},${vy.cols}]; that redistribution has no kernel yet` };
  }
  if (op.op === 'Transpose' && form(op.inputs[0]) === 'block' && outForm === 'tblock') {
    return { kernel: 'dist.call', params: {} }; // each tile transposed in place: the tblock's tiles
  }
  if (op.op === 'Gather' && form(op.inputs[1]) === 'rows') {
    if (form(op.inputs[0]) !== 'block' || outForm !== 'block' || val(op.inputs[0]).mem !== val(out).mem) return { why: 'an embedding Gather needs a 2-D block table and a block result of its type' };
    return { kernel: 'dist.gather', params: {} };
  }
  const rank = val(op.inputs[0]).type.shape.length;
  const rowwise = (v: string) => form(v) === 'block' || form(v) === 'vec';
  const isLast = (a: number) => a === -1 || a === rank - 1;
  if (REDUCE_FN[op.op]) {
    const axes = reduceAxes(mesh, op)?.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
    const sameMem = val(op.inputs[0]).mem === val(out).mem && val(op.inputs[0]).mem !== 'i32';
    const same = sameMem && form(op.inputs[0]) === 'block';
    // Over the last axis (keepdims): one value per row, a col value (of a vec: one value, replicated);
    // over every leading axis: one value per column, a vec value.
    const lastOk = (same && outForm === 'col') || (sameMem && form(op.inputs[0]) === 'vec' && outForm === 'rep');
    if (lastOk && axes && axes.length === 1 && axes[0] === rank - 1 && intAttr(op, 'keepdims', 1) === 1) {
      return { kernel: 'dist.reduce', params: { fn: REDUCE_FN[op.op], axis: 'cols', allreduce: o.allreduce ?? 'auto' }, inputs: [op.inputs[0]] };
    }
    if (same && axes && axes.length === rank - 1 && axes.every((a, i) => a === i) && outForm === 'vec') {
      return { kernel: 'dist.reduce', params: { fn: REDUCE_FN[op.op], axis: 'rows', allreduce: o.allreduce ?? 'auto' }, inputs: [op.inputs[0]] };
    }
    return { why: 'only a reduction of a float block value over its last axis (keepdims) or over all its leading axes has a distributed kernel' };
  }
  if (op.op === 'LayerNormalization' || op.op === 'RMSNormalization') {
    const axis = intAttr(op, 'axis', -1);
    const x = val(op.inputs[0]);
    if (!rowwise(op.inputs[0]) || !isLast(axis) || x.mem !== 'f32' || val(out).mem !== 'f32' || outs.length !== 1 || op.outputs.slice(1).some(Boolean)) {
      return { why: `only a normalization of an f32 block or vec value over its last axis, with no Mean / InvStdDev outputs, has a distributed kernel` };
    }
    const C = x.type.shape[x.type.shape.length - 1];
    for (const v of op.inputs.slice(1).filter(Boolean)) {
      const s = val(v).type.shape;
      const ok = val(v).mem === 'f32' && ((form(v) === 'vec' && s[s.length - 1] === C) || (form(v) === 'rep' && elems(s) === 1));
      if (!ok) return { why: `its scale / bias '%${v}' (${form(v)} ${fmt(s)}) is not one row of ${C} values (or one value) in f32` };
    }
    return { kernel: op.op === 'LayerNormalization' ? 'dist.layernorm' : 'dist.rmsnorm', params: { allreduce: o.allreduce ?? 'auto' } };
  }
  if (op.op === 'Softmax') {
    // Before opset 13 the axis defaults to 1 and the input is flattened from it: the last axis only
    // when it is the last axis.
    const axis = intAttr(op, 'axis', mesh.opset >= 13 ? -1 : 1);
    if (!rowwise(op.inputs[0]) || !isLast(axis) || val(op.inputs[0]).mem !== val(out).mem) return { why: 'only a Softmax of a block or vec value over its last axis has a distributed kernel' };
    return { kernel: 'dist.softmax', params: { allreduce: o.allreduce ?? 'auto' } };
  }
  return { why: `no distributed kernel for ${op.op} on ${ins.map((v) => form(v)).join(', ')} values` };
}

function gemmParams(k: GemmKernel, M: number, K: number, N: number, P: number, type: string, target: Target): Record<string, number | string> {
  const acc = type === 'f16' ? { acc: 'f32' as const } : {};
  const cost = gemmCost(k, { M, K, N, P, type: type as 'f32' | 'f16', ...acc }, target);
  return { M, K, N, cycles: cost.cycles };
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** Plans the distributed program on a P×P region; throws W3008 for an op with no kernel. */
export function planOnSide(mesh: MeshGraph, target: Target, P: number, o: DistributeOptions = {}): MeshGraph {
  const rect: Rect = { x: 0, y: 0, width: P, height: P };
  // Token ids of an embedding Gather (a graph input or constant, and its Identity copies) take the
  // rows form, aligned with the output's rows.
  const override = new Map<string, BlockForm>();
  const producers = new Set(mesh.ops.flatMap((o) => o.outputs));
  for (const op of mesh.ops) {
    if (op.op !== 'Gather' || op.domain !== '' || intAttr(op, 'axis', 0) !== 0) continue;
    const [tbl, ids] = op.inputs.map((v) => mesh.values.get(v)!);
    const out = mesh.values.get(op.outputs[0])!;
    if (producers.has(op.inputs[1]) || tbl.type.shape.length !== 2 || blockForm(tbl.type.shape, P) !== 'block' || ids.mem !== 'i32') continue;
    if (!rowsFormFits(ids.type.shape, P) || blockForm(out.type.shape, P) !== 'block' || matrixView(out.type.shape).rows !== ids.type.shape.reduce((a, b) => a * b, 1)) continue;
    override.set(op.inputs[1], 'rows');
  }
  for (const op of mesh.ops) if (op.op === 'Identity' && override.get(op.inputs[0]) === 'rows') override.set(op.outputs[0], 'rows');
  const form = (v: string) => override.get(v) ?? blockForm(mesh.values.get(v)!.type.shape, P);
  // 2-D Transposes of block values: the transposed value is a tblock (each tile transposed in
  // place); a MatMul reading it as B takes the source by the transposed GEMM instead, and a
  // Transpose that nothing else reads (and is not an output) is removed.
  const readers = new Map<string, MeshOp[]>();
  for (const op of mesh.ops) for (const v of new Set(op.inputs)) if (v) (readers.get(v) ?? readers.set(v, []).get(v)!).push(op);
  const transposeOf = new Map<string, MeshOp>(); // transposed value → its Transpose
  const transposes = new Map<string, MeshOp>(); // the removed ones
  for (const op of mesh.ops) {
    const perm = op.attrs.perm;
    const t = op.outputs[0];
    if (op.op !== 'Transpose' || op.domain !== '' || !t || mesh.values.get(t)!.type.shape.length !== 2) continue;
    if ((perm && !(perm.kind === 'ints' && perm.value[0] === 1 && perm.value[1] === 0)) || form(op.inputs[0]) !== 'block') continue;
    transposeOf.set(t, op);
    override.set(t, 'tblock');
    const folds = (r: MeshOp) => r.op === 'MatMul' && r.domain === '' && r.inputs[1] === t && r.inputs[0] !== t && form(r.inputs[0]) === 'block';
    if (!mesh.outputs.includes(t) && (readers.get(t) ?? []).every(folds)) transposes.set(t, op);
  }
  // Elementwise results of tblock values of their own shape are tblocks too.
  for (const op of mesh.ops) {
    const o = op.outputs[0];
    if (!o || op.outputs.length !== 1 || !(ELEMENTWISE.has(op.op) || (op.domain === FUSED_DOMAIN && op.op === FUSED_OP))) continue;
    const shape = mesh.values.get(o)!.type.shape;
    if (op.inputs.some((v) => v && override.get(v) === 'tblock' && sameShape(mesh.values.get(v)!.type.shape, shape))) override.set(o, 'tblock');
  }
  // A value that does not split over P is replicated on every core: only small ones may be.
  const capacity = target.sram.bytesPerCore;
  for (const [name, v] of mesh.values) {
    const bytes = elems(v.type.shape) * (v.mem === 'f16' ? 2 : 4);
    if (form(name) === 'rep' && bytes > capacity / 8) {
      throw diag('W3008', `value '%${name}' ${fmt(v.type.shape)} does not split over ${P}×${P} cores (its sizes are not multiples of ${P}) and is too large (${bytes} B) to replicate on every core`,
        `value '%${name}'`, 'choose a mesh whose side divides the tensor sizes');
    }
  }
  const out: MeshGraph = { ...mesh, values: new Map(), ops: [] };
  const setValue = (name: string, v: MeshValue) => out.values.set(name, { ...v, layout: blockLayout(v.type.shape, override.get(name) ?? blockForm(v.type.shape, P), rect) });
  for (const [name, v] of mesh.values) if (!transposes.has(name)) setValue(name, v);
  const chosen: { op: MeshOp; kernel: string; params: Record<string, number | string>; inputs: string[] }[] = [];
  for (const op of mesh.ops) {
    if (op.op === 'Transpose' && transposes.has(op.outputs[0])) continue;
    const c = choose(mesh, op, form, P, target, o, transposeOf);
    if ('why' in c) {
      throw diag('W3008', `op '${op.name}' (${op.op}) has no distributed kernel on ${P}×${P} cores: ${c.why}`, `op '${op.name}'`,
        'a model whose ops do not fit single cores runs only if every op has a distributed kernel (docs/compiler.md, "Distributed mode")');
    }
    chosen.push({ op, kernel: c.kernel, params: c.params, inputs: c.inputs ?? op.inputs });
  }
  // GEMM operands read again later (or graph outputs, or both operands one value) are copied first —
  // counting every view of the same storage (dist.view outputs share their input's tiles).
  const root = new Map<string, string>();
  for (const c of chosen) if (c.kernel === 'dist.view') root.set(c.op.outputs[0], root.get(c.inputs[0]) ?? c.inputs[0]);
  const storage = (v: string) => root.get(v) ?? v;
  const lastRead = new Map<string, number>();
  chosen.forEach((c, i) => c.inputs.forEach((v) => v && lastRead.set(storage(v), i)));
  const outputs = new Set(mesh.outputs.map(storage));
  let copies = 0;
  chosen.forEach((c, i) => {
    if (c.kernel.startsWith('gemm.')) {
      c.inputs = c.inputs.map((v, k) => {
        const again = (lastRead.get(storage(v)) ?? i) > i || outputs.has(storage(v)) || (k === 1 && storage(c.inputs[0]) === storage(v));
        if (!again) return v;
        const copy = `${v}#gemm${copies++}`;
        setValue(copy, mesh.values.get(v)!);
        out.ops.push({ name: `${c.op.name}/copy${k}`, kernel: 'dist.copy', op: 'Identity', domain: '', attrs: {}, inputs: [v], outputs: [copy], region: { ...rect }, params: {} });
        return copy;
      });
    }
    out.ops.push({ ...c.op, kernel: c.kernel, inputs: c.inputs, region: { ...rect }, params: c.params });
  });
  return out;
}

/** Bytes every core holds for values replicated whole (the rep form). */
function replicatedBytes(plan: MeshGraph): number {
  let bytes = 0;
  for (const v of plan.values.values()) {
    if (v.layout.dims.every((d) => d === 'r')) bytes += v.type.shape.reduce((a, b) => a * b, 1) * (v.mem === 'f16' ? 2 : 4);
  }
  return bytes;
}

/**
 * The distributed plan: of the square sides (up to the mesh's) for which every op has a kernel, the
 * one replicating the fewest bytes on every core, the largest among equals (W3008 of the full side
 * when none works).
 */
export function planDistributed(mesh0: MeshGraph, target: Target, o: DistributeOptions = {}): MeshGraph {
  const mesh = expandGemm(mesh0);
  const max = Math.min(target.width, target.height, o.maxSide ?? Infinity);
  let first: Diagnostic[] | undefined;
  let best: { plan: MeshGraph; rep: number } | undefined;
  for (let P = max; P >= 2; P--) {
    try {
      const plan = planOnSide(mesh, target, P, o);
      const rep = replicatedBytes(plan);
      if (!best || rep < best.rep) best = { plan, rep };
      if (rep === 0) break; // nothing replicated: no smaller side does better
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      first ??= e.diagnostics;
    }
  }
  if (best) return best.plan;
  throw new DiagnosticError(first ?? [{ code: 'W3008', message: `a distributed program needs a mesh of at least 2×2 cores; ${target.name} is ${target.width}×${target.height}` }]);
}
