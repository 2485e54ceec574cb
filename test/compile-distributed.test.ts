/**
 * Distributed mode end to end (docs/compiler.md, "Distributed mode"): a model whose values are laid
 * out in blocks over a P×P region, every op a distributed kernel — RMSNorm from primitives (a
 * reduction over the last axis), SiLU, two GEMMs, a residual, Softmax, and A·Wᵀ by the transposed
 * GEMM — compiles for mesh:4x4 and mesh:8x8 with each GEMM and allreduce algorithm, runs in the
 * emulator with outputs matching the reference evaluation, measured == predicted for the total and
 * every predicted instruction start, and byte-identical recompiles. `auto` turns to distributed mode
 * when single cores cannot hold the model; W3008, W3004 and W3005 on purpose-built cases.
 */
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../cli/compare.js';
import { compile, type CompileOptions } from '../compiler/compile.js';
import type { DiagnosticError } from '../ir/diagnostics.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { encodeProgram } from '../ir/program-codec.js';
import { mulberry32, seededFloats } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { emulate } from '../runtime/emulate.js';
import { expectRun, seededFeeds } from './helpers/expect-run.js';
import { smallestSquareMesh } from '../compiler/fit.js';
import { blockForm, blockLayout, rowBox } from '../compiler/kernels/blocks.js';

const MLP = `graph @mlp opset 18 {
  input %x : f32[64,32]
  input %w1 : f32[32,64]
  input %w2 : f32[64,32]
  input %g : f32[32]
  input %wt : f32[32,32]
  const %two : f32[] = dense<[2.0]>
  const %eps : f32[] = dense<[0.000001]>
  const %ax : i64[1] = dense<[-1]>
  %sq : f32[64,32] = Pow(%x, %two) @sq
  %ms : f32[64,1] = ReduceMean(%sq, %ax) {keepdims = 1 : int} @mean
  %a : f32[64,1] = Add(%ms, %eps) @addeps
  %r : f32[64,1] = Sqrt(%a) @sqrt
  %ri : f32[64,1] = Reciprocal(%r) @recip
  %n : f32[64,32] = Mul(%x, %ri) @norm
  %ng : f32[64,32] = Mul(%n, %g) @scale
  %h : f32[64,64] = MatMul(%ng, %w1) @mm1
  %s : f32[64,64] = Sigmoid(%h) @sig
  %hs : f32[64,64] = Mul(%h, %s) @silu
  %o : f32[64,32] = MatMul(%hs, %w2) @mm2
  %y : f32[64,32] = Add(%o, %x) @res
  %t : f32[32,32] = Transpose(%wt) {perm = [1, 0] : ints} @t
  %z : f32[64,32] = MatMul(%y, %t) @mmt
  %p : f32[64,32] = Softmax(%z) {axis = -1 : int} @sm
  output %p, %h
}`;

const SHAPES: Record<string, number[]> = { x: [64, 32], w1: [32, 64], w2: [64, 32], g: [32], wt: [32, 32] };
const inputs = seededFeeds(SHAPES, 1);

function target(spec: string, patch?: (t: Target) => void): Target {
  const t = resolveTarget(spec);
  patch?.(t);
  return t;
}

function run(text: string, options: CompileOptions) {
  const res = compile(parseGraph(text), options);
  const feed = new Map([...inputs].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)]));
  const out = emulate(res.program, { mode: 'functional', inputs: feed });
  return { res, out };
}

function expectMatches(res: ReturnType<typeof compile>, out: ReturnType<typeof emulate>): void {
  const ref = evaluateGraph(res.graph, inputs);
  expect(out.outputs!.map((o) => o.name).sort()).toEqual(['h', 'p']);
  for (const o of out.outputs!) {
    const cmp = compareTensors(new Tensor('float32', o.shape, o.data), ref.get(o.name)!, { rtol: 1e-3, atol: 1e-4 });
    expect(cmp.ok, `${o.name}: ${JSON.stringify(cmp)}`).toBe(true);
  }
  expect(out.prediction.matched).toBe(true);
  expect(out.prediction.checked).toBeGreaterThan(0);
  expect(out.prediction.firstDivergence).toBeUndefined();
}

describe('block forms', () => {
  it('split the merged leading dims only where every core\'s rows form a box of the tensor', () => {
    const rect = (P: number) => ({ x: 0, y: 0, width: P, height: P });
    expect(blockForm([2, 1024, 1024], 64)).toBe('block');
    expect(blockLayout([2, 1024, 1024], 'block', rect(64))).toEqual({ region: rect(64), dims: ['y', 'y', 'x'], tile: [1, 32, 16] });
    expect(blockForm([6, 16, 8], 2)).toBe('block');
    expect(blockLayout([6, 16, 8], 'block', rect(2)).tile).toEqual([3, 16, 4]);
    // 96 rows over 4 cores: chunks of 24 rows straddle the 16-row blocks of dim 1: no box.
    expect(rowBox([6, 16, 8], 24)).toBeUndefined();
    expect(blockForm([6, 16, 8], 4)).toBe('rep');
    expect(blockForm([64, 1], 4)).toBe('col');
    expect(blockForm([1, 32], 4)).toBe('vec');
  });
});

describe('distributed mode', () => {
  it.each([
    ['mesh:4x4', 'meshgemm', 'ktree'], ['mesh:4x4', 'cannon', 'chain'], ['mesh:4x4', 'summa', 'ring'],
    ['mesh:8x8', 'meshgemm', 'auto'], ['mesh:8x8', 'cannon', 'ktree'], ['mesh:8x8', 'summa', 'chain'],
  ] as const)('an RMSNorm-MLP-Softmax block on %s with --gemm=%s --allreduce=%s matches the reference and the prediction', (spec, gemm, allreduce) => {
    const { res, out } = run(MLP, { target: target(spec), layout: 'distributed', gemm, allreduce });
    const P = Number(spec.split('x')[1]);
    expect(res.program.regions.map((r) => r.rect)).toEqual([{ x: 0, y: 0, width: P, height: P }]);
    const kernels = res.mesh.ops.map((o) => o.kernel);
    expect(kernels.filter((k) => k === `gemm.${gemm}`)).toHaveLength(2);
    expect(kernels).toContain('gemm.transposed');
    expect(kernels).toContain('dist.softmax');
    expect(kernels).toContain('dist.reduce');
    // Transposes are views: the same tiles under a permuted grid, no code.
    expect(res.mesh.ops.filter((o) => o.op === 'Transpose').every((o) => o.kernel === 'dist.view')).toBe(true);
    for (const op of res.mesh.ops.filter((o) => o.kernel === 'dist.reduce' || o.kernel === 'dist.softmax')) expect(op.params.allreduce).toBe(allreduce);
    expectMatches(res, out);
    expect(out.totalCycles).toBe(res.program.predicted!.totalCycles);
  });

  it.each([['mesh:4x4', 'ktree'], ['mesh:8x8', 'ring']] as const)('LayerNormalization, RMSNormalization and column reductions on %s (--allreduce=%s) match the reference and the prediction', (spec, allreduce) => {
    const text = `graph @norms opset 23 {
      input %x : f32[64,32]
      input %g : f32[32]
      input %b : f32[32]
      const %s : f32[] = dense<[0.5]>
      const %ax0 : i64[1] = dense<[0]>
      %ln : f32[64,32] = LayerNormalization(%x, %g, %b) {axis = -1 : int, epsilon = 0.001 : float} @ln
      %rn : f32[64,32] = RMSNormalization(%ln, %s) {epsilon = 0.00001 : float} @rn
      %t : f32[64,32] = Gelu(%rn) @gelu
      %cs : f32[1,32] = ReduceSum(%t, %ax0) {keepdims = 1 : int} @colsum
      %cm : f32[32] = ReduceMax(%ln, %ax0) {keepdims = 0 : int} @colmax
      output %t, %ln, %cs, %cm
    }`;
    const feeds = seededFeeds({ x: [64, 32], g: [32], b: [32] }, 40);
    const res = compile(parseGraph(text), { target: target(spec), layout: 'distributed', allreduce });
    expect(res.mesh.ops.map((o) => o.kernel)).toEqual(['dist.layernorm', 'dist.rmsnorm', 'dist.call', 'dist.reduce', 'dist.reduce']);
    expect(res.mesh.ops.filter((o) => o.kernel === 'dist.reduce').map((o) => o.params.axis)).toEqual(['rows', 'rows']);
    expectRun(res, feeds);
  });

  it.each(['mesh:4x4', 'mesh:8x8'])('single-head attention on %s: Q·Kᵀ by the transposed GEMM, masked Softmax, ·V', (spec) => {
    const text = `graph @attn opset 18 {
      input %x : f32[64,32]
      input %wq : f32[32,32]
      input %wk : f32[32,32]
      input %wv : f32[32,32]
      input %mask : f32[64,64]
      const %scale : f32[] = dense<[0.17677669]>
      %q : f32[64,32] = MatMul(%x, %wq) @q
      %k : f32[64,32] = MatMul(%x, %wk) @k
      %v : f32[64,32] = MatMul(%x, %wv) @v
      %kt : f32[32,64] = Transpose(%k) {perm = [1, 0] : ints} @kt
      %s : f32[64,64] = MatMul(%q, %kt) @qk
      %ss : f32[64,64] = Mul(%s, %scale) @scale
      %sm : f32[64,64] = Add(%ss, %mask) @mask
      %p : f32[64,64] = Softmax(%sm) {axis = -1 : int} @softmax
      %o : f32[64,32] = MatMul(%p, %v) @pv
      output %o
    }`;
    // A causal mask: 0 on and below the diagonal, -1e9 above.
    const mask = new Tensor('float32', [64, 64], Float32Array.from({ length: 4096 }, (_, i) => (i % 64 > Math.floor(i / 64) ? -1e9 : 0)));
    const feeds = new Map([
      ...['wq', 'wk', 'wv'].map((k, i) => [k, new Tensor('float32', [32, 32], seededFloats(50 + i, 1024, 0.3))] as const),
      ['x', new Tensor('float32', [64, 32], seededFloats(60, 2048))] as const, ['mask', mask] as const,
    ]);
    const res = compile(parseGraph(text), { target: target(spec), layout: 'distributed' });
    const kernel = (name: string) => res.mesh.ops.find((o) => o.name === name)!.kernel;
    expect(kernel('qk')).toBe('gemm.transposed');
    expect(kernel('softmax')).toBe('dist.softmax');
    expect(kernel('pv')).toMatch(/^gemm\.(meshgemm|cannon|summa)$/);
    // %x feeds three GEMMs, which shift their operands: the first two get copies.
    expect(res.mesh.ops.filter((o) => o.kernel === 'dist.copy' && o.outputs[0].startsWith('x#gemm'))).toHaveLength(2);
    expectRun(res, new Map(feeds));
  });

  it.each([['mesh:4x4', 'ktree'], ['mesh:4x4', 'chain'], ['mesh:8x8', 'ring'], ['mesh:8x8', 'auto']] as const)(
    'a decode-shaped MLP on %s: vector × matrix by MeshGEMV (--allreduce=%s), SiLU, residual, RMSNorm', (spec, allreduce) => {
      const text = `graph @decode opset 23 {
        input %t : f32[1,64]
        input %w1 : f32[64,128]
        input %w2 : f32[128,64]
        input %g : f32[64]
        %n : f32[1,64] = RMSNormalization(%t, %g) @norm
        %h : f32[1,128] = MatMul(%n, %w1) @up
        %s : f32[1,128] = Sigmoid(%h) @sig
        %a : f32[1,128] = Mul(%h, %s) @silu
        %d : f32[1,64] = MatMul(%a, %w2) @down
        %y : f32[1,64] = Add(%d, %t) @res
        output %y
      }`;
      const shapes: Record<string, number[]> = { t: [1, 64], w1: [64, 128], w2: [128, 64], g: [64] };
      const feeds = seededFeeds(shapes, 80, 0.3);
      const res = compile(parseGraph(text), { target: target(spec), layout: 'distributed', allreduce });
      const kernels = res.mesh.ops.map((o) => o.kernel);
      expect(kernels.filter((k) => k.startsWith('gemv.'))).toHaveLength(2);
      if (allreduce !== 'auto') expect(kernels).toContain(`gemv.${allreduce}`);
      expectRun(res, feeds);
    });

  it('Reshapes keeping the tiles are views of their input\'s buffer; a GEMM gets a copy when any view of its operand lives on', () => {
    const text = `graph @views opset 18 {
      input %x : f32[2,32,32]
      input %w : f32[32,32]
      const %s2 : i64[2] = dense<[64, 32]>
      const %s3 : i64[3] = dense<[2, 32, 32]>
      %r : f32[64,32] = Reshape(%x, %s2) @flat
      %h : f32[64,32] = MatMul(%r, %w) @mm
      %h3 : f32[2,32,32] = Reshape(%h, %s3) @unflat
      %z : f32[2,32,32] = Relu(%x) @relu
      %y : f32[2,32,32] = Add(%h3, %z) @add
      output %y, %r
    }`;
    const feeds = new Map([['x', new Tensor('float32', [2, 32, 32], seededFloats(95, 2048))], ['w', new Tensor('float32', [32, 32], seededFloats(96, 1024, 0.2))]]);
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed' });
    // (Relu fuses into the Add, which reads %x after the GEMM: the GEMM shifts a copy of %r.)
    expect(res.mesh.ops.map((o) => `${o.name}:${o.kernel}`)).toEqual(['flat:dist.view', 'mm/copy0:dist.copy', expect.stringMatching(/^mm:gemm\./), 'unflat:dist.view', 'add:dist.call']);
    const sram = res.state.sram!;
    const bufferOf = (v: string) => sram.tensors.find((t) => t.value === v)!.buffer;
    expect(bufferOf('r')).toBe(bufferOf('x'));
    expect(bufferOf('h3')).toBe(bufferOf('h'));
    expectRun(res, feeds);
  });

  it.each(['meshgemm', 'cannon', 'summa', 'transposed'] as const)('an f16 %s GEMM accumulates in f32 and rounds once (fp16 FMA with fp32 accumulation)', (gemm) => {
    const transposed = gemm === 'transposed';
    const text = `graph @h opset 18 {
      input %a : f16[16,256]
      input %b : f16[${transposed ? '16,256' : '256,16'}]
      ${transposed ? '%bt : f16[256,16] = Transpose(%b) {perm = [1, 0] : ints} @t' : ''}
      %c : f16[16,16] = MatMul(%a, %${transposed ? 'bt' : 'b'}) @mm
      output %c
    }`;
    const feeds = new Map([['a', Tensor.from('float16', [16, 256], Array.from(seededFloats(97, 4096, 2)))], ['b', Tensor.from('float16', transposed ? [16, 256] : [256, 16], Array.from(seededFloats(98, 4096, 2)))]]);
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed', ...(transposed ? {} : { gemm }) });
    expect(res.mesh.ops.map((o) => o.kernel)).toEqual([...(transposed ? ['dist.view'] : []), `gemm.${gemm}`]);
    // The exact product rounded once: at most one f16 unit apart (f32 partial sums).
    expectRun(res, feeds);
  });

  it.each(['ktree', 'chain', 'ring'] as const)('an f16 GEMV (%s) accumulates and allreduces in f32 and rounds once', (allreduce) => {
    const text = `graph @h opset 18 {
      input %a : f16[1,256]
      input %b : f16[256,16]
      %c : f16[1,16] = MatMul(%a, %b) @mv
      output %c
    }`;
    const feeds = new Map([['a', Tensor.from('float16', [1, 256], Array.from(seededFloats(99, 256, 2)))], ['b', Tensor.from('float16', [256, 16], Array.from(seededFloats(100, 4096, 2)))]]);
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed', allreduce });
    expect(res.mesh.ops.map((o) => o.kernel)).toEqual([`gemv.${allreduce}`]);
    expectRun(res, feeds);
  });

  it.each(['mesh:4x4', 'mesh:8x8'])('an embedding Gather on %s: table row tiles broadcast down the columns, masked local gathers, exact values', (spec) => {
    const text = `graph @emb opset 18 {
      input %table : f32[64,32]
      input %ids : i64[2,16]
      %e : f32[2,16,32] = Gather(%table, %ids) {axis = 0 : int} @embedding
      %y : f32[2,16,32] = Relu(%e) @r
      %c : i64[2,16] = Identity(%ids) @copy
      output %y, %e, %c
    }`;
    const r = mulberry32(5);
    // Ids anywhere in the table, a third of them negative (counted from the end).
    const ids = Tensor.from('int64', [2, 16], Array.from({ length: 32 }, (_, i) => Math.floor(r() * 64) - (i % 3 === 0 ? 64 : 0)));
    const feeds = new Map([['table', new Tensor('float32', [64, 32], seededFloats(1, 2048))], ['ids', ids]]);
    const res = compile(parseGraph(text), { target: target(spec), layout: 'distributed' });
    expect(res.mesh.ops.map((o) => o.kernel)).toEqual(['dist.gather', 'dist.call', 'dist.copy']);
    expect(res.mesh.values.get('ids')!.layout.dims).toEqual(['y', 'y']);
    const out = emulate(res.program, { mode: 'functional', inputs: new Map([...feeds].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)])) });
    const ref = evaluateGraph(res.graph, feeds);
    for (const o of out.outputs!) {
      const want = ref.get(o.name)!;
      expect(Array.from(o.data), o.name).toEqual(Array.from(want.data as ArrayLike<number>, Number));
    }
    expect(out.prediction.matched).toBe(true);
    expect(out.totalCycles).toBe(res.program.predicted!.totalCycles);
  });

  it('a Transpose that is an output is a view (the tiles read back through a permuted grid); the MatMul takes it by the transposed GEMM on a copy', () => {
    const text = `graph @t opset 18 {
      input %x : f32[64,32]
      input %w : f32[48,32]
      %wt : f32[32,48] = Transpose(%w) {perm = [1, 0] : ints} @t
      %y : f32[64,48] = MatMul(%x, %wt) @mm
      %r : f32[32,48] = Relu(%wt) @relu
      output %y, %wt, %r
    }`;
    const feeds = new Map([['x', new Tensor('float32', [64, 32], seededFloats(110, 2048))], ['w', new Tensor('float32', [48, 32], seededFloats(111, 1536, 0.3))]]);
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed', fuse: false });
    expect(res.mesh.ops.map((o) => `${o.name}:${o.kernel}`)).toEqual(['t:dist.view', 'mm/copy1:dist.copy', 'mm:gemm.transposed', 'relu:dist.call']);
    expect(res.mesh.ops[2].inputs).toEqual(['x', 'wt#gemm0']);
    expect(res.mesh.values.get('wt')!.layout.grid).toMatchObject({ dims: [32, 48], perm: [1, 0], rows: 1 });
    expectRun(res, feeds);
  });

  it('f16 Softmax and reductions compute in f32 and round once, as the reference does', () => {
    const text = `graph @h opset 18 {
      input %x : f16[32,64]
      const %ax : i64[1] = dense<[-1]>
      const %ax0 : i64[1] = dense<[0]>
      %p : f16[32,64] = Softmax(%x) {axis = -1 : int} @sm
      %m : f16[32,1] = ReduceMean(%x, %ax) {keepdims = 1 : int} @mean
      %c : f16[1,64] = ReduceSum(%x, %ax0) {keepdims = 1 : int} @colsum
      output %p, %m, %c
    }`;
    const feeds = new Map([['x', Tensor.from('float16', [32, 64], Array.from(seededFloats(90, 2048, 4)))]]);
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed' });
    expect(res.mesh.ops.map((o) => o.kernel)).toEqual(['dist.softmax', 'dist.reduce', 'dist.reduce']);
    // One f16 rounding of the result (summation order aside): within an f16 ulp of each value.
    expectRun(res, feeds);
  });

  it('an f16 Gemm with C on one row (a decode step\'s biased projection) takes MeshGEMV, in f32, rounded once', () => {
    const text = `graph @g opset 18 {
      input %x : f16[1,64]
      input %w : f16[64,64]
      input %c : f16[64]
      %y : f16[1,64] = Gemm(%x, %w, %c) @fc
      output %y
    }`;
    const feeds = seededFeeds({ x: [1, 64], w: [64, 64], c: [64] }, 90, 0.5, 'float16');
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed' });
    expect(res.mesh.ops.find((o) => o.op === 'MatMul')!.kernel).toMatch(/^gemv\./);
    // Computed in f32 like any f16 Gemm with C: MeshGEMV leaves its f32 result unrounded.
    expect(res.mesh.ops.filter((o) => o.op === 'Cast').map((o) => o.name)).toEqual(['fc/widen', 'fc/round']);
    expectRun(res, feeds);
  });

  it('Gemm: transB by the transposed GEMM, alpha and beta·C as elementwise ops', () => {
    const text = `graph @gemm opset 18 {
      input %a : f32[64,32]
      input %w : f32[64,32]
      input %c : f32[64]
      input %v : f32[64,32]
      %h : f32[64,64] = Gemm(%a, %w, %c) {alpha = 0.5 : float, beta = 2.0 : float, transB = 1 : int} @fc1
      %y : f32[64,32] = Gemm(%h, %v) @fc2
      output %y
    }`;
    const shapes: Record<string, number[]> = { a: [64, 32], w: [64, 32], c: [64], v: [64, 32] };
    const feeds = seededFeeds(shapes, 70, 0.5);
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed' });
    expect(res.mesh.ops.map((o) => `${o.name}:${o.kernel}:${o.op}`)).toEqual([
      'fc1/transpose:dist.view:Transpose', 'fc1/beta:dist.call:Mul', 'fc1/matmul:gemm.transposed:MatMul', 'fc1/mul:dist.call:Mul', 'fc1:dist.call:Add', expect.stringMatching(/^fc2:gemm\.\w+:MatMul$/),
    ]);
    expectRun(res, feeds);
  });

  it('an f16 Gemm with alpha and beta·C computes in f32 and rounds once (within one f16 unit of the reference)', () => {
    const text = `graph @gemm opset 18 {
      input %x : f16[16,16]
      input %w : f16[16,16]
      input %c : f16[16]
      %y : f16[16,16] = Gemm(%x, %w, %c) {alpha = 0.3 : float, beta = 0.7 : float, transB = 1 : int} @fc
      output %y
    }`;
    const feeds = seededFeeds({ x: [16, 16], w: [16, 16], c: [16] }, 80, 2, 'float16');
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed' });
    expect(res.mesh.ops.filter((o) => o.op === 'Cast').map((o) => o.name)).toEqual(['fc/widen', 'fc/round']);
    expect(res.mesh.values.get(res.mesh.ops.find((o) => o.op === 'MatMul')!.outputs[0])!.mem).toBe('f32');
    expectRun(res, feeds);
  });

  it.each([
    ['a Softmax before opset 13 with the default axis (1, flattened)', `graph @g opset 11 {
      input %x : f32[2,4,8]
      %y : f32[2,4,8] = Softmax(%x) @sm
      output %y
    }`, { x: [2, 4, 8] }],
    ['a MatMul of replicated values beside a distributed op', `graph @g opset 18 {
      input %x : f32[8,8]
      input %a : f32[3,5]
      input %b : f32[5,3]
      %y : f32[8,8] = Relu(%x) @r
      %z : f32[3,3] = MatMul(%a, %b) @mm
      output %y, %z
    }`, { x: [8, 8], a: [3, 5], b: [5, 3] }],
    ['an integer reduction (no allreduce of i32)', `graph @g opset 18 {
      input %x : f32[8,8]
      const %ax : i64[1] = dense<[1]>
      %i : i32[8,8] = Cast(%x) {to = 6 : int} @c
      %s : i32[8,1] = ReduceSum(%i, %ax) {keepdims = 1 : int} @rs
      output %s
    }`, { x: [8, 8] }],
    ['an empty constant', `graph @g opset 18 {
      input %x : f32[8,8]
      input %e : f32[0,8]
      %y : f32[8,8] = Relu(%x) @r
      %f : f32[0,8] = Relu(%e) @r2
      output %y, %f
    }`, { x: [8, 8], e: [0, 8] }],
  ] as const)('%s compiles and matches', (_, text, shapes) => {
    const feeds = seededFeeds(shapes, 1);
    const res = compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed' });
    expect(res.mesh.ops.some((o) => o.kernel === 'dist.softmax' || o.kernel === 'dist.reduce')).toBe(false);
    expectRun(res, feeds);
  });

  // Review findings: each was a silent wrong answer or a crash; now right (or refused where a side
  // cannot take it, the plan falling back to one that can).
  it.each([
    ['a replicated operand stored permuted, read again through a Reshape', `graph @g opset 18 {
      input %x : f32[16,16]
      input %w : f32[16,16]
      input %c : f32[2,2]
      const %s : i64[4] = dense<[16, 4, 2, 2]>
      const %s1 : i64[1] = dense<[4]>
      %y : f32[16,16] = MatMul(%x, %w) @mm
      %r : f32[16,4,2,2] = Reshape(%y, %s) @rs
      %t : f32[16,4,2,2] = Transpose(%r) {perm = [0, 1, 3, 2] : ints} @tr
      %a : f32[16,4,2,2] = Add(%t, %c) @add
      %cf : f32[4] = Reshape(%c, %s1) @rc
      output %a, %cf
    }`, { x: [16, 16], w: [16, 16], c: [2, 2] }],
    ['a batched MatMul whose B has batch and head swapped between rows and columns', `graph @g opset 18 {
      input %x : f32[32,32]
      input %w : f32[32,32]
      input %w2 : f32[32,32]
      const %s4 : i64[4] = dense<[2, 16, 2, 16]>
      %q : f32[32,32] = MatMul(%x, %w) @mq
      %v : f32[32,32] = MatMul(%x, %w2) @mv
      %q4 : f32[2,16,2,16] = Reshape(%q, %s4) @vq
      %v4 : f32[2,16,2,16] = Reshape(%v, %s4) @vv
      %qh : f32[2,2,16,16] = Transpose(%q4) {perm = [0, 2, 1, 3] : ints} @tq
      %vh : f32[2,2,16,16] = Transpose(%v4) {perm = [2, 0, 1, 3] : ints} @tv
      %o : f32[2,2,16,16] = MatMul(%qh, %vh) @bmm
      output %o
    }`, { x: [32, 32], w: [32, 32], w2: [32, 32] }],
    ['a Softmax whose last axis lies partly in the rows', `graph @g opset 18 {
      input %x : f32[16,16]
      input %w : f32[16,16]
      const %s : i64[1] = dense<[256]>
      %y : f32[16,16] = MatMul(%x, %w) @mm
      %yt : f32[16,16] = Transpose(%y) {perm = [1, 0] : ints} @t
      %f : f32[256] = Reshape(%yt, %s) @rs
      %o : f32[256] = Softmax(%f) {axis = -1 : int} @sm
      output %o
    }`, { x: [16, 16], w: [16, 16] }],
    ['a Reshape whose tiles are not boxes of the new shape, read by a GEMM', `graph @g opset 18 {
      input %x : f32[12,16]
      input %w : f32[16,16]
      input %w2 : f32[16,16]
      const %s : i64[3] = dense<[3, 4, 16]>
      %y : f32[12,16] = MatMul(%x, %w) @mm
      %r : f32[3,4,16] = Reshape(%y, %s) @rs
      %z : f32[3,4,16] = MatMul(%r, %w2) @mm2
      output %z
    }`, { x: [12, 16], w: [16, 16], w2: [16, 16] }],
  ] as const)('%s matches the reference', (_, text, shapes) => {
    const feeds = seededFeeds(shapes, 1, 0.5);
    for (const spec of ['mesh:4x4', 'mesh:8x8']) expectRun(compile(parseGraph(text), { target: target(spec), layout: 'distributed' }), feeds);
  });

  it('falls back to a smaller side when the routers of the chosen one run out of colours', () => {
    const text = `graph @g opset 18 {
      input %x : f32[16,16]
      input %w : f32[16,16]
      input %u : f32[16,16]
      input %v : f32[1,16]
      input %s : f32[16]
      const %ax0 : i64[1] = dense<[0]>
      const %ax1 : i64[1] = dense<[1]>
      %a : f32[16,16] = MatMul(%x, %w) @mm1
      %t : f32[16,16] = Transpose(%u) {perm = [1, 0] : ints} @tr
      %b : f32[16,16] = MatMul(%a, %t) @mm2
      %c : f32[16,16] = Softmax(%b) {axis = -1 : int} @sm
      %d : f32[1,16] = ReduceSum(%c, %ax0) {keepdims = 1 : int} @r0
      %e : f32[16,1] = ReduceMax(%c, %ax1) {keepdims = 1 : int} @r1
      %f : f32[1,16] = MatMul(%v, %w) @gv
      %n : f32[1,16] = LayerNormalization(%f, %s) {axis = -1 : int} @ln
      %h : f32[16,16] = Add(%c, %e) @ad
      %k : f32[16,16] = MatMul(%h, %u) @mm3
      output %d, %n, %k
    }`;
    // 14 colours per router: the 8x8 plan needs more, the 4x4 one fits (18 would hold 8x8, the
    // kernels sharing the routers they configure alike).
    const res = compile(parseGraph(text), { target: target('mesh:8x8', (t) => { t.router.colours = 14; }), layout: 'distributed', gemm: 'meshgemm', allreduce: 'ktree' });
    expect(res.state.placement!.region.width).toBe(4);
    expect(compile(parseGraph(text), { target: target('mesh:8x8'), layout: 'distributed', gemm: 'meshgemm', allreduce: 'ktree' }).state.placement!.region.width).toBe(8);
    expect(res.notes.join('\n')).toMatch(/8x8 cores fail \(W3004\); 4x4 used/);
    const run = emulate(res.program, { mode: 'timing' });
    expect(run.prediction.matched).toBe(true);
  });

  it('smallestSquareMesh searches from the outputs\' bytes up and says when no side up to the limit works', () => {
    const text = `graph @g opset 18 {
      input %x : f32[128,128]
      input %w : f32[128,128]
      %y : f32[128,128] = MatMul(%x, %w) @mm
      output %y
    }`;
    // 64 KB of output on 48 KB cores: from side 2; on 2×2 (and 3×3, whose region is 2×2) x, w, y, the
    // GEMM's copies and scratch overflow a core; 4×4 holds them.
    const fit = smallestSquareMesh(parseGraph(text));
    expect(fit).toMatchObject({ side: 4, lowerBound: 2, refused: [{ side: 2, code: 'W3005' }, { side: 3, code: 'W3005' }] });
    expect(fit.result.mesh.ops[0].kernel).toMatch(/^gemm\./);
    const small = { ...resolveTarget('mesh:1x1'), sram: { ...resolveTarget('mesh:1x1').sram, bytesPerCore: 4096 } };
    const tight = smallestSquareMesh(parseGraph(text), { base: small });
    expect(tight.side).toBeGreaterThan(tight.lowerBound);
    expect(tight.refused.every((r) => ['W3005', 'W3008'].includes(r.code))).toBe(true);
    expect(() => smallestSquareMesh(parseGraph(text), { base: small, maxSide: tight.side - 1 })).toThrow(/W3003.*compiles for no square mesh/);
  });

  it('compiles to identical bytes twice', () => {
    const opts = { target: target('mesh:4x4'), layout: 'distributed' as const };
    const a = encodeProgram(compile(parseGraph(MLP), opts).program);
    const b = encodeProgram(compile(parseGraph(MLP), opts).program);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('auto picks distributed mode when single cores cannot hold the model', () => {
    // 8 KB cores: Pow(%x) needs 16 KB on one core; the 4x4 tiles and the kernels' scratch need < 8 KB.
    const t = target('mesh:4x4', (x) => { x.sram.bytesPerCore = 8192; });
    expect(() => compile(parseGraph(MLP), { target: t, layout: 'single' })).toThrow(/W3002/);
    const { res, out } = run(MLP, { target: t });
    expect(res.notes.join('\n')).toMatch(/distributed over 4x4 cores/);
    expectMatches(res, out);
  });

  it('W3008 names an op with no distributed kernel', () => {
    const text = MLP.replace('%p : f32[64,32] = Softmax(%z) {axis = -1 : int} @sm', '%p : f32[64,32] = Softmax(%z) {axis = 0 : int} @sm');
    try {
      compile(parseGraph(text), { target: target('mesh:4x4'), layout: 'distributed' });
      expect.unreachable();
    } catch (e) {
      const d = (e as DiagnosticError).diagnostics[0];
      expect(d.code).toBe('W3008');
      expect(d.message).toMatch(/op 'sm' \(Softmax\)/);
      expect(d.location).toBe(`op 'sm'`);
    }
  });

  it('W3004 when the kernels need more colours than the routers have', () => {
    const t = target('mesh:4x4', (x) => { x.router.colours = 3; });
    expect(() => compile(parseGraph(MLP), { target: t, layout: 'distributed', gemm: 'meshgemm' })).toThrow(/W3004[\s\S]*colours per router/);
  });

  it('W3005 with the tensors live at the fullest step when the tiles overflow a core', () => {
    const t = target('mesh:4x4', (x) => { x.sram.bytesPerCore = 2048; });
    try {
      compile(parseGraph(MLP), { target: t, layout: 'distributed' });
      expect.unreachable();
    } catch (e) {
      const d = (e as DiagnosticError).diagnostics[0];
      expect(d.code).toBe('W3005');
      expect(d.location).toMatch(/every core of \(0,0 4x4\), at step \d+ .*%\w+ \d+ B \((io|temp)\)/);
    }
  });
});
