/**
 * Multi-head attention in distributed mode, in the LLaMA layer's own op pattern (Reshape to heads,
 * Transpose, batched MatMul over [batch·heads], a padding mask without the head dim broadcast onto
 * the scores, Softmax over keys, the heads merged back). With grids (kernels/grids.ts) every Reshape
 * and Transpose is a view of the projection GEMM's tiles — batch b and head h on the sub-square
 * (y div Q, x div Q) — the batched GEMMs run on every sub-square at once (Q·Kᵀ by the transposed
 * GEMM on K's tiles, P·V by a GEMM), the Softmax allreduces within each head's columns, and the mask
 * is replicated over the heads' cores. Outputs inside the chain are read back through permuted
 * tilings; every output matches the reference and measured == predicted.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { encodeProgram } from '../ir/program-codec.js';
import { mulberry32, seededFloats } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { expectRun } from './helpers/expect-run.js';

/** Batch 2 × 16 tokens, hidden 32 = 2 heads × 16, with a padding mask [2,16]. */
function attention(dtype: 'f32' | 'f16', rope = false): string {
  const t = dtype;
  const cast = (v: string, shape: string) => (t === 'f16' ? `%${v}h : f16${shape} = Cast(%${v}) {to = 10 : int} @cast_${v}\n` : '');
  const w = (v: string) => (t === 'f16' ? `%${v}h` : `%${v}`);
  return `graph @mha opset 18 {
    input %x : f32[2,16,32]
    input %wq : f32[32,32]
    input %wk : f32[32,32]
    input %wv : f32[32,32]
    input %wo : f32[32,32]
    input %mask : f32[2,16]
    ${rope ? 'input %cos : f32[16,16]\n    input %sin : f32[16,16]' : ''}
    const %s1 : i64[3] = dense<[1, 16, 16]>
    const %z : i64[1] = dense<[0]>
    const %eight : i64[1] = dense<[8]>
    const %end : i64[1] = dense<[9223372036854775807]>
    const %ax3 : i64[1] = dense<[3]>
    const %s2 : i64[2] = dense<[32, 32]>
    const %s4 : i64[4] = dense<[2, 16, 2, 16]>
    const %sb : i64[3] = dense<[4, 16, 16]>
    const %sbh : i64[4] = dense<[2, 2, 16, 16]>
    const %s3 : i64[3] = dense<[2, 16, 32]>
    const %ax1 : i64[1] = dense<[1]>
    const %ax2 : i64[1] = dense<[2]>
    const %one : f32[] = dense<[1.0]>
    const %big : f32[] = dense<[-10000.0]>
    const %scale : ${t}[] = dense<[4.0]>
    ${cast('x', '[2,16,32]')}${cast('wq', '[32,32]')}${cast('wk', '[32,32]')}${cast('wv', '[32,32]')}${cast('wo', '[32,32]')}
    %x2 : ${t}[32,32] = Reshape(${w('x')}, %s2) @flat
    %wqt : ${t}[32,32] = Transpose(${w('wq')}) {perm = [1, 0] : ints} @tq
    %wkt : ${t}[32,32] = Transpose(${w('wk')}) {perm = [1, 0] : ints} @tk
    %wvt : ${t}[32,32] = Transpose(${w('wv')}) {perm = [1, 0] : ints} @tv
    %q : ${t}[32,32] = MatMul(%x2, %wqt) @mq
    %k : ${t}[32,32] = MatMul(%x2, %wkt) @mk
    %v : ${t}[32,32] = MatMul(%x2, %wvt) @mv
    %q4 : ${t}[2,16,2,16] = Reshape(%q, %s4) @vq
    %k4 : ${t}[2,16,2,16] = Reshape(%k, %s4) @vk
    %v4 : ${t}[2,16,2,16] = Reshape(%v, %s4) @vv
    %qh${rope ? '0' : ''} : ${t}[2,2,16,16] = Transpose(%q4) {perm = [0, 2, 1, 3] : ints} @thq
    %kh${rope ? '0' : ''} : ${t}[2,2,16,16] = Transpose(%k4) {perm = [0, 2, 1, 3] : ints} @thk
    %vh : ${t}[2,2,16,16] = Transpose(%v4) {perm = [0, 2, 1, 3] : ints} @thv
    ${rope ? `${cast('cos', '[16,16]')}${cast('sin', '[16,16]')}
    %cos3 : ${t}[1,16,16] = Reshape(${w('cos')}, %s1) @rc
    %cos4 : ${t}[1,1,16,16] = Unsqueeze(%cos3, %ax1) @uc
    %sin3 : ${t}[1,16,16] = Reshape(${w('sin')}, %s1) @rs
    %sin4 : ${t}[1,1,16,16] = Unsqueeze(%sin3, %ax1) @us
    ${['q', 'k'].map((h) => `${h === 'q' ? `%${h}lo : ${t}[2,2,16,8] = Slice(%${h}h0, %z, %eight, %ax3) @${h}lo
    %${h}hi : ${t}[2,2,16,8] = Slice(%${h}h0, %eight, %end, %ax3) @${h}hi` : `%${h}lo : ${t}[2,2,16,8], %${h}hi : ${t}[2,2,16,8] = Split(%${h}h0) {axis = -1 : int, num_outputs = 2 : int} @${h}split`}
    %${h}neg : ${t}[2,2,16,8] = Neg(%${h}hi) @${h}neg
    %${h}rot : ${t}[2,2,16,16] = Concat(%${h}neg, %${h}lo) {axis = -1 : int} @${h}cat
    %${h}c : ${t}[2,2,16,16] = Mul(%${h}h0, %cos4) @${h}mc
    %${h}s : ${t}[2,2,16,16] = Mul(%${h}rot, %sin4) @${h}ms
    %${h}h : ${t}[2,2,16,16] = Add(%${h}c, %${h}s) @${h}rope`).join('\n    ')}` : ''}
    %kt : ${t}[2,2,16,16] = Transpose(%kh) {perm = [0, 1, 3, 2] : ints} @tkt
    %qf : ${t}[4,16,16] = Reshape(%qh, %sb) @fq
    %kf : ${t}[4,16,16] = Reshape(%kt, %sb) @fk
    %vf : ${t}[4,16,16] = Reshape(%vh, %sb) @fv
    %s : ${t}[4,16,16] = MatMul(%qf, %kf) @qk
    %s4d : ${t}[2,2,16,16] = Reshape(%s, %sbh) @vs
    %sc : ${t}[2,2,16,16] = Div(%s4d, %scale) @div
    %sc32 : f32[2,2,16,16] = Cast(%sc) {to = 1 : int} @up
    %m1 : f32[2,1,16] = Unsqueeze(%mask, %ax1) @u1
    %m2 : f32[2,1,1,16] = Unsqueeze(%m1, %ax2) @u2
    %inv : f32[2,1,1,16] = Sub(%one, %m2) @inv
    %bias : f32[2,1,1,16] = Mul(%inv, %big) @bias
    %masked : f32[2,2,16,16] = Add(%sc32, %bias) @masked
    %p32 : f32[2,2,16,16] = Softmax(%masked) {axis = -1 : int} @softmax
    %p : ${t}[2,2,16,16] = Cast(%p32) {to = ${t === 'f16' ? 10 : 1} : int} @down
    %pf : ${t}[4,16,16] = Reshape(%p, %sb) @fp
    %o : ${t}[4,16,16] = MatMul(%pf, %vf) @pv
    %o4 : ${t}[2,2,16,16] = Reshape(%o, %sbh) @vo
    %ot : ${t}[2,16,2,16] = Transpose(%o4) {perm = [0, 2, 1, 3] : ints} @to
    %o2 : ${t}[32,32] = Reshape(%ot, %s2) @merge
    %wot : ${t}[32,32] = Transpose(${w('wo')}) {perm = [1, 0] : ints} @tout
    %y2 : ${t}[32,32] = MatMul(%o2, %wot) @mo
    %y : ${t}[2,16,32] = Reshape(%y2, %s3) @unflat
    output %y, %qh, %kt, %p32, %o
  }`;
}

function feeds(rope = false): Map<string, Tensor> {
  const r = mulberry32(7);
  // Token 0 always kept; the rest padded at random.
  const mask = Tensor.from('float32', [2, 16], Array.from({ length: 32 }, (_, i) => (i % 16 === 0 || r() > 0.3 ? 1 : 0)));
  const f = new Map<string, Tensor>([['x', new Tensor('float32', [2, 16, 32], seededFloats(1, 1024))], ['mask', mask]]);
  ['wq', 'wk', 'wv', 'wo'].forEach((w, i) => f.set(w, new Tensor('float32', [32, 32], seededFloats(10 + i, 1024, 0.4))));
  if (!rope) return f;
  // RoPE tables: cos and sin of position × frequency, per (position, dim).
  const ang = (p: number, d: number) => p / 10000 ** ((2 * (d % 8)) / 16);
  f.set('cos', Tensor.from('float32', [16, 16], Array.from({ length: 256 }, (_, i) => Math.cos(ang(Math.floor(i / 16), i % 16)))));
  f.set('sin', Tensor.from('float32', [16, 16], Array.from({ length: 256 }, (_, i) => Math.sin(ang(Math.floor(i / 16), i % 16)))));
  return f;
}

describe('multi-head attention, distributed', () => {
  it.each([['mesh:4x4', 'f32'], ['mesh:8x8', 'f32'], ['mesh:4x4', 'f16'], ['mesh:8x8', 'f16']] as const)('on %s in %s: heads as views, batched GEMMs and Softmax on sub-squares, the mask replicated over heads', (spec, dtype) => {
    const target = resolveTarget(spec);
    const res = compile(parseGraph(attention(dtype)), { target, layout: 'distributed', fuse: false });
    const P = target.width, Q = P / 2;
    const kernel = (name: string) => res.mesh.ops.find((o) => o.name === name)!;
    // Every Reshape and Transpose is a view: no data moves between the projections and the heads.
    for (const op of res.mesh.ops.filter((o) => o.op === 'Reshape' || o.op === 'Transpose')) expect(op.kernel, op.name).toBe('dist.view');
    expect(kernel('qk').kernel).toBe('gemm.transposed');
    expect(kernel('qk').params).toMatchObject({ M: 16, K: 16, N: 16, sub: Q });
    expect(kernel('pv').kernel).toMatch(/^gemm\.(meshgemm|cannon|summa)$/);
    expect(kernel('pv').params.sub).toBe(Q);
    expect(kernel('softmax')).toMatchObject({ kernel: 'dist.softmax', params: { sub: Q } });
    // Q's heads: rows (batch, seq) along y, columns (head, dim) along x.
    expect(res.mesh.values.get('qh')!.layout.grid).toMatchObject({ dims: [2, 2, 16, 16], perm: [0, 2, 1, 3], rows: 2 });
    // The mask holds batch b's row on the cores of b's rows, each head's key range on its columns.
    expect(res.mesh.values.get('bias')!.layout.grid).toMatchObject({ y: { div: Q, mod: 2 }, x: { div: 1, mod: Q } });
    const f = feeds();
    // In f16 the output projection reads o, itself within one f16 unit of the reference: y is held to
    // the forward bound of a dot product of perturbed inputs, 2^-10 · (Σ|o||wo| + |y|), instead.
    const run = expectRun(res, f, new Set(dtype === 'f16' ? ['y'] : []));
    if (dtype === 'f16') {
      const ref = evaluateGraph(res.graph, f);
      const o = ref.get('o')!.data as Float32Array | number[], wo = f.get('wo')!.data as Float32Array, want = ref.get('y')!.data as ArrayLike<number>;
      const got = run.outputs!.find((x) => x.name === 'y')!.data;
      for (let b = 0; b < 2; b++) for (let s = 0; s < 16; s++) for (let j = 0; j < 32; j++) {
        let bound = 0;
        for (let h = 0; h < 2; h++) for (let d = 0; d < 16; d++) bound += Math.abs(Number(o[((b * 2 + h) * 16 + s) * 16 + d])) * Math.abs(Math.fround(wo[j * 32 + h * 16 + d]));
        const i = (b * 16 + s) * 32 + j;
        expect(Math.abs(got[i] - Number(want[i])), `y[${i}]`).toBeLessThanOrEqual(2 ** -10 * (bound + Math.abs(Number(want[i]))));
      }
    }
    expect(encodeProgram(compile(parseGraph(attention(dtype)), { target, layout: 'distributed', fuse: false }).program)).toEqual(encodeProgram(res.program));
  });

  it.each([['mesh:4x4', 'f32'], ['mesh:8x8', 'f32'], ['mesh:8x8', 'f16']] as const)('with RoPE on %s in %s: the projections\' columns ordered (…, j, half) so the rotate-half is local', (spec, dtype) => {
    const target = resolveTarget(spec);
    const res = compile(parseGraph(attention(dtype, true)), { target, layout: 'distributed', fuse: false });
    const kernel = (name: string) => res.mesh.ops.find((o) => o.name === name)!.kernel;
    // Q's halves by two Slices, K's by a Split.
    expect([kernel('qlo'), kernel('qhi'), kernel('ksplit'), kernel('qcat'), kernel('kcat')]).toEqual(['dist.slice', 'dist.slice', 'dist.split', 'dist.concat', 'dist.concat']);
    // Q's columns: (head, j, half) — d = half·8 + j with the half innermost.
    expect(res.mesh.values.get('q')!.layout.grid).toMatchObject({ dims: [32, 2, 2, 8], perm: [0, 1, 3, 2], rows: 1 });
    expectRun(res, feeds(true), new Set(dtype === 'f16' ? ['y', 'o', 'p32'] : []));
  });

  it.each(['mesh:4x4', 'mesh:8x8'])('per-head reductions, an RMSNorm from primitives (qk-norm) and a LayerNormalization on %s: allreduces within each head\'s cores', (spec) => {
    const text = `graph @qkn opset 18 {
      input %x : f32[32,32]
      input %wq : f32[32,32]
      input %g : f32[16]
      input %b : f32[16]
      const %s4 : i64[4] = dense<[2, 16, 2, 16]>
      const %ax : i64[1] = dense<[-1]>
      const %two : f32[] = dense<[2.0]>
      const %eps : f32[] = dense<[0.000001]>
      %q : f32[32,32] = MatMul(%x, %wq) @mq
      %q4 : f32[2,16,2,16] = Reshape(%q, %s4) @vq
      %qh : f32[2,2,16,16] = Transpose(%q4) {perm = [0, 2, 1, 3] : ints} @tq
      %sq : f32[2,2,16,16] = Pow(%qh, %two) @pow
      %ms : f32[2,2,16,1] = ReduceMean(%sq, %ax) {keepdims = 1 : int} @mean
      %ve : f32[2,2,16,1] = Add(%ms, %eps) @addeps
      %sd : f32[2,2,16,1] = Sqrt(%ve) @sqrt
      %r : f32[2,2,16,1] = Reciprocal(%sd) @rec
      %n : f32[2,2,16,16] = Mul(%qh, %r) @norm
      %y : f32[2,2,16,16] = Mul(%n, %g) @scale
      %m : f32[2,2,16,1] = ReduceMax(%qh, %ax) {keepdims = 1 : int} @max
      %ln : f32[2,2,16,16] = LayerNormalization(%qh, %g, %b) {axis = -1 : int, epsilon = 0.00001 : float} @ln
      output %y, %ms, %m, %ln
    }`;
    const target = resolveTarget(spec);
    const res = compile(parseGraph(text), { target, layout: 'distributed', fuse: false });
    const Q = target.width / 2;
    for (const name of ['mean', 'max']) expect(res.mesh.ops.find((o) => o.name === name)).toMatchObject({ kernel: 'dist.reduce', params: { sub: Q } });
    expect(res.mesh.ops.find((o) => o.name === 'ln')).toMatchObject({ kernel: 'dist.layernorm', params: { sub: Q } });
    // The mean: each row's value on its head's cores; the scale: each head's cores hold g's columns.
    expect(res.mesh.values.get('ms')!.layout.grid).toMatchObject({ y: { div: 1, mod: target.width }, x: { div: Q, mod: 2 } });
    expect(res.mesh.values.get('g')!.layout.grid).toMatchObject({ x: { div: 1, mod: Q } });
    const f = new Map([['x', new Tensor('float32', [32, 32], seededFloats(3, 1024))], ['wq', new Tensor('float32', [32, 32], seededFloats(4, 1024, 0.4))], ['g', new Tensor('float32', [16], seededFloats(5, 16))], ['b', new Tensor('float32', [16], seededFloats(6, 16))]]);
    expectRun(res, f);
  });

  it.each(['mesh:4x4', 'mesh:8x8'])('a decode step on %s: x·Wᵀ by MeshGEMV (W loaded transposed by the host), RoPE on the vector\'s heads local', (spec) => {
    const text = `graph @dec opset 18 {
      input %x : f32[1,32]
      input %wq : f32[32,32]
      input %cos : f32[16]
      input %sin : f32[16]
      const %s4 : i64[4] = dense<[1, 1, 2, 16]>
      const %z : i64[1] = dense<[0]>
      const %eight : i64[1] = dense<[8]>
      const %end : i64[1] = dense<[9223372036854775807]>
      const %ax3 : i64[1] = dense<[3]>
      %wt : f32[32,32] = Transpose(%wq) {perm = [1, 0] : ints} @t
      %q : f32[1,32] = MatMul(%x, %wt) @mq
      %q4 : f32[1,1,2,16] = Reshape(%q, %s4) @vq
      %qh : f32[1,2,1,16] = Transpose(%q4) {perm = [0, 2, 1, 3] : ints} @tq
      %lo : f32[1,2,1,8] = Slice(%qh, %z, %eight, %ax3) @lo
      %hi : f32[1,2,1,8] = Slice(%qh, %eight, %end, %ax3) @hi
      %nh : f32[1,2,1,8] = Neg(%hi) @neg
      %rot : f32[1,2,1,16] = Concat(%nh, %lo) {axis = -1 : int} @cat
      %c : f32[1,2,1,16] = Mul(%qh, %cos) @mc
      %s : f32[1,2,1,16] = Mul(%rot, %sin) @ms
      %r : f32[1,2,1,16] = Add(%c, %s) @rope
      output %r, %q
    }`;
    const res = compile(parseGraph(text), { target: resolveTarget(spec), layout: 'distributed', fuse: false });
    const kernel = (name: string) => res.mesh.ops.find((o) => o.name === name)!.kernel;
    expect(kernel('mq')).toMatch(/^gemv\./);
    expect([kernel('lo'), kernel('hi'), kernel('cat')]).toEqual(['dist.slice', 'dist.slice', 'dist.concat']);
    const f = new Map([['x', new Tensor('float32', [1, 32], seededFloats(8, 32))], ['wq', new Tensor('float32', [32, 32], seededFloats(9, 1024, 0.4))],
      ['cos', new Tensor('float32', [16], seededFloats(10, 16))], ['sin', new Tensor('float32', [16], seededFloats(11, 16))]]);
    expectRun(res, f);
  });

  it('fused (the default): the mask chain fuses into the scores and still matches', () => {
    const res = compile(parseGraph(attention('f32')), { target: resolveTarget('mesh:4x4'), layout: 'distributed' });
    expect(res.mesh.ops.some((o) => o.op === 'FusedElementwise')).toBe(true);
    expectRun(res, feeds());
  });
});
