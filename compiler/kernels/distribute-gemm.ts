/**
 * Gemm for the distributed plan (distribute-plan.ts): rewritten into the ops its rules take.
 */
import { attrInt } from '../../ir/ops/util.js';
import type { MeshGraph, MeshOp, MeshValue } from '../../ir/mesh.js';
import { Tensor } from '../../ir/tensor.js';


/**
 * Gemm as the ops the distributed kernels know: MatMul(A, B) — with B = Transpose(W) for transB,
 * which the planner folds into the transposed GEMM — then Mul by alpha (when not 1) and Add of
 * beta·C (when C is given). transA stays a Gemm, which has no distributed kernel (W3008).
 */
export function expandGemm(mesh: MeshGraph): MeshGraph {
  if (!mesh.ops.some((op) => op.op === 'Gemm' && op.domain === '')) return mesh;
  const out: MeshGraph = { ...mesh, values: new Map(mesh.values), constants: new Map(mesh.constants), ops: [] };
  const names = new Set([...mesh.values.keys(), ...mesh.ops.map((op) => op.name)]);
  const fresh = (base: string) => {
    let n = base;
    for (let k = 1; names.has(n); k++) n = `${base}${k}`;
    names.add(n);
    return n;
  };
  const f = (op: MeshOp, name: string, dflt: number) => { const a = op.attrs[name]; return a && a.kind === 'float' ? a.value : dflt; };
  for (const op of mesh.ops) {
    if (op.op !== 'Gemm' || op.domain !== '' || attrInt(op.attrs, 'transA', 0) !== 0 || !op.outputs[0]) {
      out.ops.push(op);
      continue;
    }
    const [a, b, c] = op.inputs;
    const y = op.outputs[0];
    const yv = mesh.values.get(y)!;
    const alpha = f(op, 'alpha', 1), beta = f(op, 'beta', 1);
    const base = { domain: '', region: { ...op.region }, params: {} as Record<string, number | string>, kernel: op.kernel };
    // An f16 Gemm with alpha or C computes alpha·A·B + beta·C in f32 and rounds once (as ONNX does):
    // the MatMul accumulates into an f32 result, C is widened, one Cast at the end.
    const wide = yv.mem === 'f16' && (alpha !== 1 || !!c);
    const temp = (tag: string, like: MeshValue, shape?: number[], f32 = false) => {
      const v = fresh(`${y}#${tag}`);
      out.values.set(v, { ...like, ...(f32 ? { mem: 'f32' as const } : {}), type: { dtype: f32 ? 'float32' : like.type.dtype, shape: shape ?? [...like.type.shape] } });
      return v;
    };
    const scalar = (tag: string, value: number) => {
      const v = fresh(`${op.name}/${tag}`);
      const t = Tensor.from(wide ? 'float32' : yv.type.dtype, [], [value]);
      out.constants.set(v, t);
      out.values.set(v, { type: { dtype: t.dtype, shape: [] }, mem: wide ? 'f32' : yv.mem, layout: { ...yv.layout, dims: [], tile: [] } });
      return v;
    };
    const cast = (v: string, to: 'f32' | 'f16', name: string, dst?: string) => {
      const like = mesh.values.get(v) ?? out.values.get(v)!;
      const o = dst ?? temp(`${to}`, like, undefined, to === 'f32');
      out.ops.push({ ...base, name: fresh(`${op.name}/${name}`), op: 'Cast', attrs: { to: { kind: 'int', value: to === 'f32' ? 1 : 10 } }, inputs: [v], outputs: [o] });
      return o;
    };
    let bIn = b;
    if (attrInt(op.attrs, 'transB', 0) !== 0) {
      const bv = mesh.values.get(b)!;
      bIn = temp('bt', bv, [...bv.type.shape].reverse());
      out.ops.push({ ...base, name: fresh(`${op.name}/transpose`), op: 'Transpose', attrs: { perm: { kind: 'ints', value: [1, 0] } }, inputs: [b], outputs: [bIn] });
    }
    const tail: { op: string; inputs: string[] }[] = [];
    if (alpha !== 1) tail.push({ op: 'Mul', inputs: ['', scalar('alpha', alpha)] });
    if (c) {
      let cIn = wide ? cast(c, 'f32', 'widen') : c;
      if (beta !== 1) {
        const scaled = temp('c', mesh.values.get(c)!, undefined, wide);
        out.ops.push({ ...base, name: fresh(`${op.name}/beta`), op: 'Mul', attrs: {}, inputs: [cIn, scalar('beta', beta)], outputs: [scaled] });
        cIn = scaled;
      }
      tail.push({ op: 'Add', inputs: ['', cIn] });
    }
    let cur = tail.length ? temp('mm', yv, undefined, wide) : y;
    out.ops.push({ ...base, name: tail.length ? fresh(`${op.name}/matmul`) : op.name, op: 'MatMul', attrs: {}, inputs: [a, bIn], outputs: [cur] });
    tail.forEach((t, k) => {
      const last = k === tail.length - 1;
      const next = last && !wide ? y : temp(last ? 'y32' : `t${k}`, yv, undefined, wide);
      out.ops.push({ ...base, name: last && !wide ? op.name : fresh(`${op.name}/${t.op.toLowerCase()}`), op: t.op, attrs: {}, inputs: [cur, t.inputs[1]], outputs: [next] });
      cur = next;
    });
    if (wide) cast(cur, 'f16', 'round', y);
  }
  return out;
}
