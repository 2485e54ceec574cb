/**
 * The batch split (compiler/kernels/batch-split.ts): ops too large for one core but separable along
 * dim 0 run as k pinned pieces, one per core. Checks on a small-SRAM mesh:4x4: an attention-like
 * chain (batched MatMul → scale → Softmax → batched MatMul) split end to end with pieces of graph
 * inputs and outputs, matching the reference with measured == predicted and the closed-form cycles;
 * a chain whose pieces are cut by Split calls and gathered by a Concat for a non-separable reader;
 * the separability rules; byte-identical recompiles.
 */
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../cli/compare.js';
import { compile } from '../compiler/compile.js';
import { pieceRule } from '../compiler/kernels/batch-split-rules.js';
import { callKernelCycles } from '../compiler/kernels/call.js';
import { runPasses } from '../compiler/pass-manager.js';
import { selectKernels } from '../compiler/passes/select-kernels.js';
import { GRAPH_PASSES } from '../compiler/pipeline.js';
import { evaluateGraph } from '../ir/evaluate.js';
import type { MeshGraph, MeshOp } from '../ir/mesh.js';
import { encodeProgram } from '../ir/program-codec.js';
import { seededFloats } from '../ir/random.js';
import type { Target } from '../ir/target.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { emulate } from '../runtime/emulate.js';

const small = (bytes: number): Target => {
  const t = resolveTarget('mesh:4x4');
  return { ...t, sram: { ...t.sram, bytesPerCore: bytes } };
};

const ATTENTION = `graph @attn opset 18 {
  input %q : f32[8,16,16]
  input %k : f32[8,16,16]
  input %v : f32[8,16,16]
  const %c : f32[] = dense<[0.25]>
  %s : f32[8,16,16] = MatMul(%q, %k) @qk
  %t : f32[8,16,16] = Mul(%s, %c) @scale
  %p : f32[8,16,16] = Softmax(%t) {axis = -1 : int} @sm
  %o : f32[8,16,16] = MatMul(%p, %v) @pv
  output %o
}`;

/** Runs the program on seeded inputs; returns the emulation and the reference outputs. */
function check(res: ReturnType<typeof compile>, shapes: Record<string, number[]>) {
  const feeds = new Map(Object.entries(shapes).map(([k, s], i) => [k, new Tensor('float32', s, seededFloats(7 + i, s.reduce((a, b) => a * b, 1)))]));
  const run = emulate(res.program, { mode: 'functional', inputs: new Map([...feeds].map(([k, t]) => [k, Float32Array.from(t.data as ArrayLike<number>)])) });
  const ref = evaluateGraph(res.graph, feeds);
  for (const o of run.outputs!) {
    const cmp = compareTensors(new Tensor('float32', o.shape, o.data), ref.get(o.name)!, { rtol: 1e-3, atol: 1e-4 });
    expect(cmp.ok, `${o.name}: ${JSON.stringify(cmp)}`).toBe(true);
  }
  expect(run.prediction.firstDivergence).toBeUndefined();
  expect(run.prediction.matched).toBe(true);
  expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
  return run;
}

describe('batch split of an attention-like chain', () => {
  // 16 KB cores: each MatMul needs 24 KB whole. Two pieces fit the op but not the core (four 4 KB
  // I/O pieces stay for the whole program), so four pieces of [2,16,16], one per core.
  const target = small(16384);
  const shapes = { q: [8, 16, 16], k: [8, 16, 16], v: [8, 16, 16] };

  it('runs every op as four pinned pieces, one step each, matching the reference with measured == predicted', () => {
    const res = compile(parseGraph(ATTENTION), { target });
    const calls = res.mesh.ops.filter((o) => o.kernel === 'call');
    expect(calls.map((o) => o.name)).toEqual(['qk', 'scale', 'sm', 'pv'].flatMap((n) => [0, 1, 2, 3].map((b) => `${n}#tile${b}`)));
    expect(calls.map((o) => o.params.pin)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    expect(new Set(calls.map((o) => `${o.region.x},${o.region.y}`)).size).toBe(4);
    // The graph inputs and the output move by pieces: [2,16,16] = 32 rows of 16.
    for (const io of [...res.program.inputs, ...res.program.outputs]) expect(io.tiling).toMatchObject({ rows: 128, cols: 16, tileRows: 32, tileCols: 16 });
    // One step per op, each the cost of one piece's call (the pieces run at once).
    const steps = res.state.schedule!.steps;
    expect(steps).toHaveLength(4);
    expect(steps.every((s) => s.finish.length === 4)).toBe(true);
    const piece = (op: string, n: number, attrs = {}) => callKernelCycles({
      opType: op, domain: '', attrs,
      inputs: Array.from({ length: n }, (_, j) => ({ at: { buf: 0, offset: 0 }, dtype: 'float32' as const, shape: op === 'Mul' && j === 1 ? [] : [2, 16, 16] })),
      outputs: [{ at: { buf: 0, offset: 0 }, dtype: 'float32', shape: [2, 16, 16] }],
    }, target);
    const expected = 2 * piece('MatMul', 2) + piece('Mul', 2) + piece('Softmax', 1, { axis: { kind: 'int', value: -1 } });
    expect(res.program.predicted!.totalCycles).toBe(expected);
    const run = check(res, shapes);
    expect(run.totalCycles).toBe(expected);
  });

  it('compiles to identical bytes twice', () => {
    const a = encodeProgram(compile(parseGraph(ATTENTION), { target }).program);
    const b = encodeProgram(compile(parseGraph(ATTENTION), { target }).program);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
});

describe('batch split with Split and Concat calls', () => {
  // 20 KB cores: the 8 KB values are computed whole, cut by Split calls for the 24 KB batched
  // MatMul; its pieces go through a fused elementwise chain and are gathered by a Concat for the
  // ReduceSum over dim 0.
  const text = `graph @mixed opset 18 {
    input %x : f32[8,16,16]
    const %w : f32[16,16] = dense<${JSON.stringify(Array.from({ length: 256 }, (_, i) => ((i * 7) % 13) / 13 - 0.5))}>
    const %ax : i64[1] = dense<[0]>
    %a : f32[8,16,16] = Neg(%x) @neg
    %s : f32[8,16,16] = MatMul(%a, %w) @mw
    %p : f32[8,16,16] = Softmax(%s) {axis = -1 : int} @sm
    %o : f32[8,16,16] = MatMul(%p, %a) @pa
    %e : f32[8,16,16] = Neg(%o) @neg2
    %f : f32[8,16,16] = Exp(%e) @exp
    %r : f32[16,16] = ReduceSum(%f, %ax) {keepdims = 0 : int} @sum
    output %r
  }`;

  it('matches the reference with measured == predicted', () => {
    const res = compile(parseGraph(text), { target: small(20480) });
    const ops = res.mesh.ops.filter((o) => o.kernel === 'call');
    const byOp = (op: string) => ops.filter((o: MeshOp) => o.op === op).map((o) => o.name);
    expect(byOp('Split')).toEqual(['p#split', 'a#split']);
    expect(byOp('Concat')).toEqual(['f#concat']);
    expect(byOp('MatMul')).toEqual(['mw', 'pa#tile0', 'pa#tile1']);
    // The fused Neg → Exp chain reads the pieces: it is split too.
    expect(byOp('FusedElementwise')).toEqual(['exp#tile0', 'exp#tile1']);
    expect(byOp('ReduceSum')).toEqual(['sum']);
    check(res, { x: [8, 16, 16] });
  });
});

describe('separability rules', () => {
  const mesh = (text: string): MeshGraph => selectKernels(runPasses(parseGraph(text), [...GRAPH_PASSES]),
    { graph: parseGraph(text), target: resolveTarget('mesh:4x4'), options: { layout: 'single' }, notes: [] }).mesh;
  it('accepts reshapes of whole dim-0 blocks, batched MatMul, reductions and Softmax off dim 0; refuses the rest', () => {
    const m = mesh(`graph @r opset 18 {
      input %x : f32[64,10,10]
      input %w : f32[10,10]
      const %s4 : i64[4] = dense<[32, 2, 10, 10]>
      const %ax0 : i64[1] = dense<[0]>
      const %ax2 : i64[1] = dense<[2]>
      %a : f32[32,2,10,10] = Reshape(%x, %s4) @reshape
      %b : f32[64,10,10] = MatMul(%x, %w) @mm
      %c : f32[64,10,1] = ReduceMax(%b, %ax2) {keepdims = 1 : int} @rmax
      %d : f32[10,10] = ReduceSum(%b, %ax0) {keepdims = 0 : int} @rsum
      %e : f32[10,64,10] = Transpose(%b) {perm = [1, 0, 2] : ints} @tr
      %f : f32[64,10,10] = Softmax(%b) {axis = 0 : int} @sm0
      %g : f32[64,10,10] = Softmax(%b) {axis = 1 : int} @sm1
      output %a, %c, %d, %e, %f, %g
    }`);
    const op = (name: string) => m.ops.find((o) => o.name === name)!;
    // [64,10,10] in pieces of 8 → [32,2,10,10] in pieces of 4: the same elements.
    expect(pieceRule(m, op('reshape'), 8)).toEqual({ roles: ['split', 'none'], reshape: true });
    expect(pieceRule(m, op('reshape'), 64)).toBeUndefined();
    expect(pieceRule(m, op('mm'), 4)?.roles).toEqual(['split', 'whole']);
    expect(pieceRule(m, op('rmax'), 4)?.roles).toEqual(['split', 'whole']);
    expect(pieceRule(m, op('sm1'), 4)?.roles).toEqual(['split']);
    for (const n of ['rsum', 'tr', 'sm0']) expect(pieceRule(m, op(n), 2), n).toBeUndefined();
    expect(pieceRule(m, op('mm'), 3)).toBeUndefined(); // 3 does not divide 64
  });
});
