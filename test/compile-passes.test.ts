/**
 * The back-end passes one by one, through the plain functions that make their decisions: kernel and
 * SRAM-type selection, snake order and region choice, redistribution, XY routes and their rules,
 * colour assignment, liveness-based SRAM offsets, and the step schedule's closed forms.
 */
import { describe, expect, it } from 'vitest';
import { insertRedistribution } from '../compiler/passes/insert-redistribution.js';
import { allocateSram, liveRanges } from '../compiler/passes/allocate-sram.js';
import { chooseRegion, place, snakeCore } from '../compiler/passes/place.js';
import { assignColours, pathRules, programRules, xyPath } from '../compiler/passes/route.js';
import { schedule } from '../compiler/passes/schedule.js';
import { memTypeOf, selectKernels } from '../compiler/passes/select-kernels.js';
import { runBackend } from '../compiler/compile.js';
import { transferTiming } from '../compiler/kernels/transfer.js';
import { runPasses } from '../compiler/pass-manager.js';
import { GRAPH_PASSES, type BackendState } from '../compiler/pipeline.js';
import { resolveTarget } from '../ir/target-presets.js';
import { parseGraph } from '../ir/text.js';

const CHAIN = `graph @chain opset 18 {
  input %x : f32[4,8]
  const %w : f32[8,8] = dense<hex:${'0000803f'.repeat(64)}>
  %a : f32[4,8] = Relu(%x) @r
  %b : f32[4,8] = MatMul(%a, %w) @m
  %c : f32[4,8] = Neg(%b) @n
  %y : f32[4,8] = Add(%a, %c) @s
  output %y
}`;

const state = (text: string, spec = 'mesh:4x4'): BackendState =>
  ({ graph: runPasses(parseGraph(text), [...GRAPH_PASSES]), target: resolveTarget(spec), options: {}, notes: [] });

describe('select-kernels', () => {
  it('maps dtypes to SRAM types', () => {
    expect(['float32', 'float64', 'bfloat16', 'float16', 'int64', 'bool', 'uint8'].map((d) => memTypeOf(d as never))).toEqual(['f32', 'f32', 'f32', 'f16', 'i32', 'i32', 'i32']);
    expect(memTypeOf('float16', { dtype: 'f32' })).toBe('f32');
  });

  it('makes every op a call on core (0,0) and copies an output that is a graph input', () => {
    const s = state(`graph @g opset 18 {
      input %x : f32[2]
      %y : f32[2] = Relu(%x) @r
      output %y, %x
    }`);
    const { mesh, outputNames } = selectKernels(s.graph, s);
    expect(mesh.ops.map((o) => `${o.kernel} ${o.op} ${o.inputs.join()}->${o.outputs.join()}`)).toEqual(['call Relu x->y', 'call Identity x->x#out']);
    expect(mesh.outputs).toEqual(['y', 'x#out']);
    expect(outputNames.get('x#out')).toBe('x');
    expect(mesh.values.get('y')!.layout).toEqual({ region: { x: 0, y: 0, width: 1, height: 1 }, dims: ['r'], tile: [2] });
  });
});

describe('place', () => {
  it('numbers cores along a snake and picks near-square regions', () => {
    expect([0, 1, 2, 3, 4, 5].map((k) => snakeCore(k, 3))).toEqual([{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 2, y: 0 }, { x: 2, y: 1 }, { x: 1, y: 1 }, { x: 0, y: 1 }]);
    const t = resolveTarget('mesh:64x2');
    expect(chooseRegion(1, t)).toEqual({ x: 0, y: 0, width: 1, height: 1 });
    expect(chooseRegion(5, t)).toEqual({ x: 0, y: 0, width: 3, height: 2 });
    expect(chooseRegion(100, t)).toEqual({ x: 0, y: 0, width: 50, height: 2 });
    expect(chooseRegion(129, t)).toBeUndefined();
  });

  it('keeps a small model on one core and moves on when SRAM runs out', () => {
    const s = state(CHAIN);
    const mesh = selectKernels(s.graph, s).mesh;
    expect(place(mesh, s.target).placement.cores).toEqual([{ x: 0, y: 0 }]);
    const small = resolveTarget('mesh:4x4');
    small.sram.bytesPerCore = 700;
    const { mesh: placed, placement } = place(mesh, small);
    expect(placement.cores).toEqual([{ x: 0, y: 0 }, { x: 1, y: 0 }]);
    expect(placed.ops.map((o) => `${o.name}@${o.region.x},${o.region.y}`)).toEqual(['r@0,0', 'm@0,0', 'n@1,0', 's@1,0']);
  });
});

describe('insert-redistribution', () => {
  it('adds one transfer per value and reading core, just before the first read there', () => {
    const s = state(CHAIN);
    const small = resolveTarget('mesh:4x4');
    small.sram.bytesPerCore = 700;
    const mesh = insertRedistribution(place(selectKernels(s.graph, s).mesh, small).mesh);
    expect(mesh.ops.map((o) => `${o.kernel === 'redistribute' ? 'move' : o.op} ${o.inputs.join()}->${o.outputs.join()}`)).toEqual([
      'Relu x->a', 'MatMul a,w->b', 'move b->b@1,0', 'Neg b@1,0->c', 'move a->a@1,0', 'Add a@1,0,c->y',
    ]);
    expect(mesh.ops[2]).toMatchObject({ kernel: 'redistribute', region: { x: 0, y: 0, width: 2, height: 1 }, params: { kernel: 'transfer' } });
  });
});

describe('route', () => {
  it('goes along the row, then the column, one rule per straight run', () => {
    const path = xyPath({ x: 0, y: 0 }, { x: 3, y: 2 });
    expect(path.map((h) => `${h.x},${h.y} ${h.input}>${h.outputs.join('+')}`)).toEqual([
      '0,0 ramp>east', '1,0 west>east', '2,0 west>east', '3,0 west>south', '3,1 north>south', '3,2 north>ramp',
    ]);
    expect(pathRules(path, 5).map((r) => `${r.rect.x},${r.rect.y} ${r.rect.width}x${r.rect.height} ${r.input}>${r.outputs.join('+')}`)).toEqual([
      '0,0 1x1 ramp>east', '1,0 2x1 west>east', '3,0 1x1 west>south', '3,1 1x1 north>south', '3,2 1x1 north>ramp',
    ]);
  });

  it('shares identical rules between transfers and separates conflicting ones by colour', () => {
    const a = { op: 'a', src: { x: 0, y: 0 }, dst: { x: 2, y: 0 }, path: xyPath({ x: 0, y: 0 }, { x: 2, y: 0 }) };
    const b = { op: 'b', src: { x: 0, y: 0 }, dst: { x: 3, y: 0 }, path: xyPath({ x: 0, y: 0 }, { x: 3, y: 0 }) };
    const c = { op: 'c', src: { x: 1, y: 1 }, dst: { x: 1, y: 0 }, path: xyPath({ x: 1, y: 1 }, { x: 1, y: 0 }) };
    expect(assignColours([a, b, c], 4)).toEqual([0, 1, 0]);
    const rules = programRules([a, b].map((t, i) => ({ op: t.op, colour: i, src: t.src, dests: [t.dst], hops: [0], rules: pathRules(t.path, i) })));
    expect(rules.map((r) => `c${r.colour} ${r.rect.x},${r.rect.y} ${r.rect.width}x${r.rect.height} ${r.input}>${r.outputs.join('+')}`)).toEqual([
      'c0 0,0 1x1 ramp>east', 'c0 1,0 1x1 west>east', 'c0 2,0 1x1 west>ramp', 'c1 0,0 1x1 ramp>east', 'c1 1,0 2x1 west>east', 'c1 3,0 1x1 west>ramp',
    ]);
  });
});

describe('allocate-sram', () => {
  it('gives every tensor a buffer of its own on its core, largest first, sharing bytes only between disjoint lives', () => {
    const s = state(CHAIN);
    const res = runBackend(s.graph, { target: s.target, fuse: false });
    const live = liveRanges(res.mesh!);
    expect(live.get('a')).toEqual([0, 3]);
    expect(live.get('b')).toEqual([1, 2]);
    expect(live.get('c')).toEqual([2, 3]);
    const plan = allocateSram(res.mesh!, s.target);
    const at = (v: string) => plan.tensors.find((t) => t.value === v)!;
    expect(at('w')).toMatchObject({ kind: 'const', buffer: 'w@0_0', offset: 0 });
    expect(at('x')).toMatchObject({ kind: 'io', buffer: 'x@0_0' });
    // The 256 B constant first; then the 128 B tensors by first step and name; c (2..3) cannot take
    // b's bytes (1..2: both live at step 2).
    expect(plan.buffers.map((b) => `${b.name} ${b.type}[${b.length}] @${b.offset} on ${b.cores!.map((c) => `${c.x},${c.y}`).join(' ')}`)).toEqual([
      'w@0_0 f32[64] @0 on 0,0', 'a@0_0 f32[32] @256 on 0,0', 'x@0_0 f32[32] @384 on 0,0', 'y@0_0 f32[32] @512 on 0,0',
      'b@0_0 f32[32] @640 on 0,0', 'c@0_0 f32[32] @768 on 0,0',
    ]);
    expect(plan.bytes).toBe(896);
  });

  it('lets temporaries with disjoint lives share bytes', () => {
    const s = state(`graph @seq opset 18 {
      input %x : f32[4,8]
      %a : f32[4,8] = Relu(%x) @r
      %b : f32[4,8] = Neg(%a) @n
      %c : f32[4,8] = Abs(%b) @ab
      %y : f32[4,8] = Neg(%c) @n2
      output %y
    }`);
    const res = runBackend(s.graph, { target: s.target, fuse: false });
    const plan = allocateSram(res.mesh!, s.target);
    const off = (v: string) => plan.buffers.find((b) => b.name === plan.tensors.find((t) => t.value === v)!.buffer)!.offset;
    // a (0..1) and c (2..3) never live together: they share bytes; b (1..2) meets both.
    expect(off('a')).toBe(off('c'));
    expect(off('b')).not.toBe(off('a'));
  });
});

describe('schedule', () => {
  it('adds the steps: calls by callCost, transfers by the closed form', () => {
    const t = resolveTarget('mesh:4x4');
    // 100 f32 words over 3 hops: posted at I + C = 5; the receiver's last word at 5 + 2 + 3 + 100.
    expect(transferTiming(t, 'f32', 100, [3])).toEqual({ cycles: 110, sender: 105, receivers: [110], waitAt: 5 });
    // f16 packs two per word: 101 elements are 51 words.
    expect(transferTiming(t, 'f16', 101, [1])).toEqual({ cycles: 5 + 2 + 1 + 51, sender: 5 + 51, receivers: [59], waitAt: 5 });
    const s = state(CHAIN);
    const res = runBackend(s.graph, { target: s.target, fuse: false });
    const sched = schedule(res.mesh!, res.routes ?? [], s.target);
    expect(sched.steps.map((st) => st.start)).toEqual([0, sched.steps[0].cost, sched.steps[0].cost + sched.steps[1].cost, sched.totalCycles - sched.steps[3].cost]);
    expect(sched.totalCycles).toBe(res.program!.predicted!.totalCycles);
  });
});
