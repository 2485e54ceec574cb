/**
 * The fuse pass (compiler/passes/fuse.ts) and the op it makes, wafer:FusedElementwise
 * (ir/ops/fused.ts): which chains fuse, that the fused op computes exactly what the chain computes,
 * that its cost reads the inputs once and writes the output once, and that fused programs compile
 * and run in both back-end modes with exact timing.
 */
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../cli/compare.js';
import { compile } from '../compiler/compile.js';
import { fuse } from '../compiler/passes/fuse.js';
import { runPasses } from '../compiler/pass-manager.js';
import { GRAPH_PASSES } from '../compiler/pipeline.js';
import { evaluateGraph } from '../ir/evaluate.js';
import type { Graph } from '../ir/graph.js';
import { callCost } from '../ir/program-cost.js';
import type { CallTensor } from '../ir/program.js';
import { seededFloats } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph, printGraph } from '../ir/text.js';
import { emulate } from '../runtime/emulate.js';

const TEXT = `graph @f opset 18 {
  input %x : f32[16,32]
  input %w : f32[32,32]
  const %half : f32[] = dense<[0.5]>
  %h : f32[16,32] = MatMul(%x, %w) @mm
  %s : f32[16,32] = Sigmoid(%h) @sig
  %y : f32[16,32] = Mul(%h, %s) @silu
  %z : f32[16,32] = Mul(%y, %half) @scale
  %c : f16[16,32] = Cast(%z) {to = 10 : int} @c16
  %d : f32[16,32] = Cast(%c) {to = 1 : int} @c32
  %e : f32[16,32] = Exp(%d) @exp
  %u : f32[16,32] = Neg(%e) @neg
  %v : f32[16,32] = Add(%u, %e) @twice
  output %v, %d
}`;

const graph = (): Graph => runPasses(parseGraph(TEXT), [...GRAPH_PASSES]);
const feeds = new Map([['x', new Tensor('float32', [16, 32], seededFloats(3, 512))], ['w', new Tensor('float32', [32, 32], seededFloats(4, 1024, 0.2))]]);

describe('fuse', () => {
  it('fuses chains whose intermediates have one reader and are not outputs', () => {
    const g = fuse(graph());
    const ops = g.nodes.map((n) => `${n.name}:${n.op}`);
    // sig+silu+scale+c16+c32 end at %d, a graph output; exp is read twice (neg, twice): neg+twice fuse,
    // exp stays.
    expect(ops).toEqual(['mm:MatMul', 'c32:FusedElementwise', 'exp:Exp', 'twice:FusedElementwise']);
    const f = g.nodes[1];
    expect(f.domain).toBe('wafer');
    expect(f.inputs).toEqual(['h', 'half']);
    expect(f.attrs.ops).toEqual({ kind: 'strings', value: ['Sigmoid', 'Mul', 'Mul', 'Cast', 'Cast'] });
    expect(f.attrs.args).toEqual({ kind: 'ints', value: [0, 0, -1, -2, 1, -3, -4] });
    expect(f.attrs.to).toEqual({ kind: 'ints', value: [0, 0, 0, 10, 1] });
    expect(f.attrs.nodes).toEqual({ kind: 'strings', value: ['sig', 'silu', 'scale', 'c16', 'c32'] });
    expect(g.types.has('s')).toBe(false);
    // The text form round-trips.
    expect(printGraph(parseGraph(printGraph(g)))).toBe(printGraph(g));
  });

  it('computes exactly what the chain computes (bit for bit, through the f16 round trip)', () => {
    const a = evaluateGraph(graph(), feeds);
    const b = evaluateGraph(fuse(graph()), feeds);
    for (const o of ['v', 'd']) expect(Array.from(b.get(o)!.data as Float32Array)).toEqual(Array.from(a.get(o)!.data as Float32Array));
  });

  it('costs the inputs read once, the output written once and the sum of the steps\' work', () => {
    const t = resolveTarget('mesh:4x4');
    const T = (shape: number[], dtype: 'float16' | 'float32' = 'float16'): CallTensor => ({ buf: 0, offset: 0, dtype, shape });
    const n = 1024;
    // f16 Add then Mul then Add: memory bound unfused (each reads 2n, writes n), fused reads 4n once.
    const attrs = {
      ops: { kind: 'strings' as const, value: ['Add', 'Mul', 'Add'] }, arity: { kind: 'ints' as const, value: [2, 2, 2] },
      args: { kind: 'ints' as const, value: [0, 1, -1, 2, -2, 3] }, to: { kind: 'ints' as const, value: [0, 0, 0] },
    };
    const fused = callCost({ opType: 'FusedElementwise', domain: 'wafer', attrs, inputs: [T([n]), T([n]), T([n]), T([n])], outputs: [T([n])] }, t);
    const one = callCost({ opType: 'Add', domain: '', attrs: {}, inputs: [T([n]), T([n])], outputs: [T([n])] }, t);
    const R = t.sram.readWordsPerCycle, W = t.sram.writeWordsPerCycle, L = t.flopsPerCycle.float16 / 2;
    expect(one).toBe(t.overhead.issue + Math.max(Math.ceil(2 * n / R), Math.ceil(n / W), Math.ceil(n / L)));
    expect(fused).toBe(t.overhead.issue + Math.max(Math.ceil(4 * n / R), Math.ceil(n / W), Math.ceil(3 * n / L)));
    expect(fused).toBeLessThan(3 * one);
  });

  it.each([['single', 'mesh:4x4'], ['distributed', 'mesh:4x4']] as const)('a fused program compiles (%s) and matches the reference and the prediction', (layout, spec) => {
    const res = compile(graph(), { target: resolveTarget(spec), layout });
    expect(res.graph.nodes.some((n) => n.op === 'FusedElementwise')).toBe(true);
    const run = emulate(res.program, { mode: 'functional', inputs: new Map([...feeds].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)])) });
    const ref = evaluateGraph(graph(), feeds);
    for (const o of run.outputs!) {
      expect(compareTensors(new Tensor('float32', o.shape, o.data), ref.get(o.name)!, { rtol: 1e-3, atol: 1e-4 }).ok, o.name).toBe(true);
    }
    expect(run.prediction.matched).toBe(true);
    expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
  });

  it('is skipped with fuse: false', () => {
    const res = compile(graph(), { target: resolveTarget('mesh:4x4'), fuse: false });
    expect(res.graph.nodes.some((n) => n.op === 'FusedElementwise')).toBe(false);
  });
});
