/**
 * The `call` and `delay` instructions in the emulator (docs/runtime-model.md, "The cost of a call",
 * "call" in functional mode, W6007 / W6008; docs/program-format.md, "call", "delay"): graph ops on one
 * core give the reference result of ir/ops bit for bit (Add with broadcasting, MatMul, Softmax,
 * Gather with int64 indices held in i32, Transpose, ArgMax writing int64), their cycles equal
 * callCost and the closed-form table, delay pads cores exactly, and the loader and the run report
 * the call-specific faults.
 */
import { describe, expect, it } from 'vitest';
import type { DType } from '../ir/dtype.js';
import type { Attrs } from '../ir/graph.js';
import { getOp } from '../ir/ops/index.js';
import { add, eq, gt, lt, mul, ProgramBuilder, select, sub, W, X, type BufferRef } from '../ir/program-builder.js';
import { callCost, callWork, computeInstrCost } from '../ir/program-cost.js';
import type { Instr, MemType, Program } from '../ir/program.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';
import { emulate } from '../runtime/emulate.js';
import { diagnosticsOf, ramp, testTarget } from './emulator-fixtures.js';

/** testTarget with SRAM ports and lanes that all differ (R 4, W 2, L 3 / 8 / 5), so a swapped term changes the count. */
function callTarget(width = 1, height = 1): Target {
  const t = testTarget(width, height);
  t.sram = { ...t.sram, readWordsPerCycle: 4, writeWordsPerCycle: 2 };
  t.flopsPerCycle = { float32: 6, float16: 16, float16Acc32: 10 };
  return t;
}
const ISSUE = 1, R = 4, WR = 2, L32 = 3, L16 = 8;

interface Arg { dtype: DType; shape: number[]; mem?: MemType; values?: number[] }

const elems = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const defaultMem = (d: DType): MemType => (d.startsWith('float') || d === 'bfloat16' ? 'f32' : 'i32');

/** One core calling `op` on inputs (given as program inputs) into outputs (program outputs). */
function oneCall(op: string, ins: Arg[], outs: Arg[], attrs: Attrs = {}, target = callTarget()) {
  const b = new ProgramBuilder(op, target);
  const r = b.region('core', { x: 0, y: 0, width: 1, height: 1 });
  const inBufs = ins.map((a, i) => r.buffer(`in${i}`, a.mem ?? defaultMem(a.dtype), Math.max(1, elems(a.shape))));
  const outBufs = outs.map((a, i) => r.buffer(`out${i}`, a.mem ?? defaultMem(a.dtype), Math.max(1, elems(a.shape))));
  r.setLoc(`${op}_0`);
  r.call(op, ins.map((a, i) => inBufs[i].tensor(a.dtype, a.shape)), outs.map((a, i) => outBufs[i].tensor(a.dtype, a.shape)), attrs);
  const io = (buf: BufferRef, n: number) => ({ buffer: buf, tile: [1, n] as [number, number], at: [0, 0] as [number, number] });
  ins.forEach((a, i) => b.input(`x${i}`, inBufs[i].type, [1, elems(a.shape)], io(inBufs[i], elems(a.shape))));
  outs.forEach((a, i) => b.output(`y${i}`, outBufs[i].type, [1, elems(a.shape)], io(outBufs[i], elems(a.shape))));
  const p = b.build();
  const inputs = new Map(ins.map((a, i) => [`x${i}`, Float32Array.from(a.values ?? ramp(elems(a.shape), i + 1))]));
  return { p, inputs, call: p.regions[0].kernel.body[0] as Extract<Instr, { op: 'call' }> };
}

/** The reference result of ir/ops for the same inputs (as the emulator reads them: f32 values cast to the dtype). */
function reference(op: string, ins: Arg[], inputs: Map<string, Float32Array>, attrs: Attrs, numOutputs: number): Tensor[] {
  const ts = ins.map((a, i) => Tensor.from(a.dtype, a.shape, inputs.get(`x${i}`)!));
  return getOp(op)!.evaluate(ts, attrs, { name: op, opset: 18, numOutputs });
}

describe('call: reference results on one core (functional mode)', () => {
  const cases: { op: string; ins: Arg[]; outs: Arg[]; attrs?: Attrs; cycles: number }[] = [
    // in 6+3 → ⌈9/4⌉ = 3, out 6 → ⌈6/2⌉ = 3, work 6 → ⌈6/3⌉ = 2
    { op: 'Add', ins: [{ dtype: 'float32', shape: [2, 3] }, { dtype: 'float32', shape: [3] }], outs: [{ dtype: 'float32', shape: [2, 3] }], cycles: ISSUE + 3 },
    // in 12+8 → 5, out 6 → 3, work M·K·N = 3·4·2 = 24 → 8
    { op: 'MatMul', ins: [{ dtype: 'float32', shape: [3, 4] }, { dtype: 'float32', shape: [4, 2] }], outs: [{ dtype: 'float32', shape: [3, 2] }], cycles: ISSUE + 8 },
    // in 10 → 3, out 10 → 5, work 8·10 = 80 → 27
    { op: 'Softmax', ins: [{ dtype: 'float32', shape: [2, 5] }], outs: [{ dtype: 'float32', shape: [2, 5] }], attrs: { axis: { kind: 'int', value: -1 } }, cycles: ISSUE + 27 },
    // data 15 + indices 4 → 5, out 12 → 6, work 12 → 4; indices (int64, negative one included) in an i32 buffer
    {
      op: 'Gather', ins: [{ dtype: 'float32', shape: [5, 3] }, { dtype: 'int64', shape: [2, 2], values: [4, 0, -1, 2] }],
      outs: [{ dtype: 'float32', shape: [2, 2, 3] }], attrs: { axis: { kind: 'int', value: 0 } }, cycles: ISSUE + 6,
    },
    // in 24 → 6, out 24 → 12, work 24 → 8
    {
      op: 'Transpose', ins: [{ dtype: 'float32', shape: [2, 3, 4] }], outs: [{ dtype: 'float32', shape: [4, 2, 3] }],
      attrs: { perm: { kind: 'ints', value: [2, 0, 1] } }, cycles: ISSUE + 12,
    },
    // an int64 result in an i32 buffer: in 12 → 3, out 3 → 2, work (reduction over its input) 12 → 4
    { op: 'ArgMax', ins: [{ dtype: 'float32', shape: [3, 4] }], outs: [{ dtype: 'int64', shape: [3, 1] }], attrs: { axis: { kind: 'int', value: 1 } }, cycles: ISSUE + 4 },
    // float16 in f16 buffers, L = float16 / 2 = 8: in 128 → 32, out 64 → 32, work M·K·N = 512 → 64
    {
      op: 'MatMul', ins: [{ dtype: 'float16', shape: [8, 8], mem: 'f16' }, { dtype: 'float16', shape: [8, 8], mem: 'f16' }],
      outs: [{ dtype: 'float16', shape: [8, 8], mem: 'f16' }], cycles: ISSUE + 512 / L16,
    },
  ];

  it.each(cases.map((c) => [`${c.op} ${c.ins.map((a) => `${a.dtype}[${a.shape}]`).join(' ')}`, c] as const))('%s', (_name, c) => {
    const attrs = c.attrs ?? {};
    const { p, inputs, call } = oneCall(c.op, c.ins, c.outs, attrs);
    const r = emulate(p, { mode: 'functional', inputs });
    const ref = reference(c.op, c.ins, inputs, attrs, c.outs.length);
    c.outs.forEach((o, k) => {
      expect(ref[k].dtype).toBe(o.dtype);
      expect(Array.from(r.outputs![k].data)).toEqual(Array.from(ref[k].data, (v) => Math.fround(v)));
    });
    // Timing: the closed form, callCost, and timing-only mode agree.
    expect(r.totalCycles).toBe(c.cycles);
    expect(callCost(call, p.target)).toBe(c.cycles);
    expect(emulate(p).totalCycles).toBe(c.cycles);
    expect(r.regions[0].computeCycles).toBe(c.cycles);
  });

  it('Gather picks rows 4, 0, 4 (index −1) and 2', () => {
    const ins: Arg[] = [{ dtype: 'float32', shape: [5, 3], values: Array.from({ length: 15 }, (_, i) => i) }, { dtype: 'int64', shape: [4], values: [4, 0, -1, 2] }];
    const { p, inputs } = oneCall('Gather', ins, [{ dtype: 'float32', shape: [4, 3] }], { axis: { kind: 'int', value: 0 } });
    expect(Array.from(emulate(p, { mode: 'functional', inputs }).outputs![0].data)).toEqual([12, 13, 14, 0, 1, 2, 12, 13, 14, 6, 7, 8]);
  });

  it('reads every input before writing an output, so an output may overwrite its input', () => {
    const b = new ProgramBuilder('inplace', callTarget());
    const r = b.region('core', { x: 0, y: 0, width: 1, height: 1 });
    const x = r.buffer('x', 'f32', 6);
    r.call('Transpose', [x.tensor('float32', [2, 3])], [x.tensor('float32', [3, 2])]);
    b.input('x', 'f32', [2, 3], { buffer: x, tile: [2, 3], at: [0, 0] });
    b.output('y', 'f32', [3, 2], { buffer: x, tile: [3, 2], at: [0, 0] });
    const out = emulate(b.build(), { mode: 'functional', inputs: new Map([['x', Float32Array.from([1, 2, 3, 4, 5, 6])]]) }).outputs![0].data;
    expect(Array.from(out)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('narrows float64 to float32 and rounds a float16 result stored in an f32 buffer to float16', () => {
    const v = [1 / 3, 2 / 3, 1e-8, 65519];
    const f64 = oneCall('Neg', [{ dtype: 'float64', shape: [4], values: v }], [{ dtype: 'float64', shape: [4] }]);
    expect(Array.from(emulate(f64.p, { mode: 'functional', inputs: f64.inputs }).outputs![0].data)).toEqual(v.map((x) => -Math.fround(x)));
    const f16 = oneCall('Neg', [{ dtype: 'float16', shape: [4], values: v }], [{ dtype: 'float16', shape: [4] }]);
    // Inputs are cast to float16 when read: 1/3 → 0.333251953125, 1e-8 → 0 (below the subnormals), 65519 → 65504.
    expect(Array.from(emulate(f16.p, { mode: 'functional', inputs: f16.inputs }).outputs![0].data)).toEqual([-0.333251953125, -0.66650390625, -0, -65504]);
  });

  it('runs a call on every core of a region at per-core offsets', () => {
    const b = new ProgramBuilder('rows', callTarget(3, 1));
    const r = b.region('row', { x: 0, y: 0, width: 3, height: 1 });
    const x = r.buffer('x', 'f32', 8), y = r.buffer('y', 'f32', 8);
    r.call('Relu', [x.at(mul(X, 2)).tensor('float32', [4])], [y.at(sub(4, mul(X, 2))).tensor('float32', [4])]);
    b.input('x', 'f32', [3, 8], { buffer: x, tile: [1, 8], at: [X, 0] });
    b.output('y', 'f32', [3, 8], { buffer: y, tile: [1, 8], at: [X, 0] });
    const input = Float32Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? -1 - i : i));
    const out = emulate(b.build(), { mode: 'functional', inputs: new Map([['x', input]]) }).outputs![0].data;
    for (let c = 0; c < 3; c++) {
      const expected = new Array(8).fill(0);
      for (let i = 0; i < 4; i++) expected[4 - 2 * c + i] = Math.max(0, input[c * 8 + 2 * c + i]);
      expect(Array.from(out.subarray(c * 8, c * 8 + 8))).toEqual(expected);
    }
  });
});

describe('call cost table', () => {
  const t = callTarget();
  const call = (opType: string, ins: [DType, number[]][], outs: [DType, number[]][], attrs: Attrs = {}) => ({
    opType, domain: '', attrs,
    inputs: ins.map(([dtype, shape]) => ({ buf: 0, offset: 0, dtype, shape })),
    outputs: outs.map(([dtype, shape]) => ({ buf: 0, offset: 0, dtype, shape })),
  });

  it('counts work per the documented table', () => {
    expect(callWork(call('MatMul', [['float32', [2, 5, 7]], ['float32', [7, 3]]], [['float32', [2, 5, 3]]]))).toBe(2 * 5 * 3 * 7);
    expect(callWork(call('MatMul', [['float32', [7]], ['float32', [7, 3]]], [['float32', [3]]]))).toBe(3 * 7);
    expect(callWork(call('Gemm', [['float32', [4, 6]], ['float32', [6, 5]], ['float32', [5]]], [['float32', [4, 5]]]))).toBe(4 * 6 * 5 + 20);
    expect(callWork(call('Gemm', [['float32', [6, 4]], ['float32', [6, 5]]], [['float32', [4, 5]]], { transA: { kind: 'int', value: 1 } }))).toBe(4 * 6 * 5);
    expect(callWork(call('Conv', [['float32', [1, 4, 8, 8]], ['float32', [6, 2, 3, 3]]], [['float32', [1, 6, 6, 6]]]))).toBe(216 * 18);
    expect(callWork(call('MaxPool', [['float32', [1, 1, 4, 4]]], [['float32', [1, 1, 2, 2]]], { kernel_shape: { kind: 'ints', value: [2, 2] } }))).toBe(16);
    expect(callWork(call('ReduceSum', [['float32', [4, 6]], ['int64', [1]]], [['float32', [4, 1]]]))).toBe(24);
    expect(callWork(call('Exp', [['float32', [10]]], [['float32', [10]]]))).toBe(40);
    expect(callWork(call('LayerNormalization', [['float32', [2, 8]], ['float32', [8]]], [['float32', [2, 8]]]))).toBe(128);
    expect(callWork(call('Concat', [['float32', [2, 3]], ['float32', [2, 5]]], [['float32', [2, 8]]]))).toBe(16);
    expect(callWork({ ...call('MatMul', [['float32', [2, 3]], ['float32', [3, 2]]], [['float32', [2, 2]]]), domain: 'com.example' })).toBe(4);
  });

  it('equals the matmul instruction for a float32 MatMul (the docs example on wse2 figures)', () => {
    const wse = testTarget(1, 1);
    const c = call('MatMul', [['float32', [8, 16]], ['float32', [16, 4]]], [['float32', [8, 4]]]);
    expect(callCost(c, wse)).toBe(1 + 512);
  });

  it('picks lanes by dtype: float16 everywhere, float16 in with float32 out, else float32', () => {
    const c16 = call('Relu', [['float16', [64]]], [['float16', [64]]]);
    const c16to32 = call('Cast', [['float16', [64]]], [['float32', [64]]], { to: { kind: 'int', value: 1 } });
    const mixed = call('Add', [['float16', [48]], ['float32', [48]]], [['float32', [48]]]);
    // Relu: work 64 / L16 8 = 8, in 64 / 4 = 16, out 64 / 2 = 32.
    expect(callCost(c16, t)).toBe(ISSUE + 32);
    // Make work dominate: Exp 4·64 = 256 over L 8 / 5 / 3.
    expect(callCost(call('Exp', [['float16', [64]]], [['float16', [64]]]), t)).toBe(ISSUE + 32);
    expect(callCost(call('Exp', [['float16', [64]]], [['float32', [64]]]), t)).toBe(ISSUE + Math.ceil(256 / 5));
    expect(callCost(call('Exp', [['float32', [64]]], [['float32', [64]]]), t)).toBe(ISSUE + Math.ceil(256 / L32));
    expect(callCost(c16to32, t)).toBe(ISSUE + Math.max(64 / R, 64 / WR, Math.ceil(64 / 5)));
    expect(callCost(mixed, t)).toBe(ISSUE + Math.max(96 / R, 48 / WR, 48 / L32));
  });
});

describe('computeInstrCost (the function the compiler predicts with)', () => {
  it('gives each compute instruction the duration the emulator measures, on every core', () => {
    const b = new ProgramBuilder('mix', callTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const a = r.buffer('a', 'f32', 64), h = r.buffer('h', 'f16', 64), h2 = r.buffer('h2', 'f16', 64), c = r.buffer('c', 'f32', 64);
    r.matmul(c, h, h2, add(X, 3), 4, 5);
    r.matmul(h, h, h2, 2, 3, 4, { accumulate: true });
    r.matmul(c, a, a, 4, add(X, 2), 4, { accumulate: true, transB: true });
    r.unary('gelu', a, c, add(mul(X, 9), 10));
    r.unary('exp', h, h2, 33);
    r.binary('mul', c, a, h, 5, add(X, 6), { bcast: 'row' });
    r.binary('add', c, c, c, 4, 7, { bcast: 'col' });
    r.binary('sub', c, a, c, 3, 3, { bcast: 'scalar' });
    r.binary('max', h, h, h2, 6, 5);
    r.reduce('sum', c, a, add(X, 4), 6, { axis: 'rows' });
    r.reduce('max', c, a, 6, 5, { accumulate: true });
    r.fill(c, add(X, 17), 1);
    r.swap(h, h2);
    r.call('MatMul', [h.tensor('float16', [4, 4]), h2.tensor('float16', [4, 3])], [h2.at(32).tensor('float16', [4, 3])]);
    r.call('Cast', [h.tensor('float16', [40])], [c.tensor('float32', [40])], { to: { kind: 'int', value: 1 } });
    r.call('Softmax', [a.tensor('float32', [3, 7])], [c.tensor('float32', [3, 7])]);
    r.delay(sub(9, mul(X, 4)));
    const p = b.build();
    const res = emulate(p, { trace: {} });
    const body = p.regions[0].kernel.body;
    let checked = 0;
    for (const x of [0, 1]) {
      const env = { x, y: 0, w: 2, h: 1, i0: 0, i1: 0, i2: 0, i3: 0 };
      const spans = res.trace!.spans.filter((sp) => sp.core.x === x);
      expect(spans).toHaveLength(body.length);
      body.forEach((ins, k) => {
        expect(spans[k].end - spans[k].start, `core ${x}, ${ins.op} #${ins.id}`).toBe(computeInstrCost(ins, env, p.regions[0].kernel.buffers, p.target));
        checked++;
      });
    }
    expect(checked).toBe(34);
    expect(computeInstrCost({ id: 0, loc: '', op: 'wait' }, { x: 0, y: 0, w: 1, h: 1, i0: 0, i1: 0, i2: 0, i3: 0 }, [], p.target)).toBeUndefined();
  });
});

describe('delay', () => {
  it('pads two cores that finish a call at different cycles so the next instruction starts together', () => {
    const b = new ProgramBuilder('pad', callTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const x = r.buffer('x', 'f32', 64), y = r.buffer('y', 'f32', 64);
    // Core 0 transposes 8×8 (out 64 / W 2 = 32 cycles), core 1 a 4×4 (16 / 2 = 8).
    const c0 = 1 + 32, c1 = 1 + 8, T = 40;
    r.call('Transpose', [x.tensor('float32', [8, 8])], [y.tensor('float32', [8, 8])], {}, { guard: eq(X, 0) });
    r.call('Transpose', [x.tensor('float32', [4, 4])], [y.tensor('float32', [4, 4])], {}, { guard: eq(X, 1) });
    const pad = r.delay(select(eq(X, 0), T - c0, T - c1), { loc: 'pad' });
    const next = r.fill(x, 4, 0, { loc: 'next' });
    // A negative delay is zero.
    const neg = r.delay(sub(-5, X));
    const last = r.fill(x, 2, 1);
    b.predictTotal(T + (1 + 2) + (1 + 1));
    b.predict(pad, select(eq(X, 0), c0, c1)).predict(next, T).predict(neg, T + 3).predict(last, T + 3);
    const p = b.build();
    const res = emulate(p, { trace: {} });
    expect(res.totalCycles).toBe(T + 3 + 2);
    expect(res.prediction).toMatchObject({ matched: true, checked: 8 });
    // The padding is idle time: busy = the calls and fills, idle = both delays.
    expect(res.regions[0].computeCycles).toBe(c0 + c1 + 2 * (3 + 2));
    expect(res.regions[0].idleCycles).toBe((T - c0) + (T - c1));
    expect(res.regions[0].commCycles).toBe(0);
    expect(res.locs.find((l) => l.loc === 'pad')).toEqual({ loc: 'pad', cycles: (T - c0) + (T - c1), count: 2 });
    const spans = res.trace!.spans.filter((s) => s.op === 'delay' && s.loc === 'pad');
    expect(spans.map((s) => [s.core.x, s.start, s.end])).toEqual([[0, c0, T], [1, c1, T]]);
    // Functional mode times it the same.
    const f = emulate(p, { mode: 'functional' });
    expect(f.totalCycles).toBe(T + 5);
  });

  it('a guarded-off delay costs nothing and a delay of 0 costs nothing', () => {
    const b = new ProgramBuilder('zero', callTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    r.delay(100, { guard: gt(X, 5) });
    r.delay(0);
    r.delay(mul(X, 7));
    expect(emulate(b.build()).totalCycles).toBe(7);
  });
});

describe('call faults', () => {
  const buildBad = (f: (r: ReturnType<ProgramBuilder['region']>, bufs: Record<string, BufferRef>) => void, target = callTarget()): Program => {
    const b = new ProgramBuilder('bad', target);
    const r = b.region('core', { x: 0, y: 0, width: target.width, height: 1 });
    const bufs = { f: r.buffer('f', 'f32', 8), g: r.buffer('g', 'f32', 8), i: r.buffer('i', 'i32', 8), h: r.buffer('h', 'f16', 8) };
    r.setLoc('Op_7');
    f(r, bufs);
    return b.build({ validate: false });
  };
  const loadErrors = (p: Program) => diagnosticsOf(() => emulate(p));

  it('W5012: unknown op types, tensors past their buffers, incompatible buffer types, inferred types that differ', () => {
    const ds = loadErrors(buildBad((r, { f, g, i, h }) => {
      r.call('NoSuchOp', [f.tensor('float32', [8])], [g.tensor('float32', [8])]);
      r.call('Relu', [f.tensor('float32', [9])], [g.tensor('float32', [8])]);
      r.call('Relu', [f.at(4).tensor('float32', [8])], [g.tensor('float32', [8])]);
      r.call('Relu', [i.tensor('float32', [8])], [g.tensor('float32', [8])]);
      r.call('Neg', [h.tensor('float32', [8])], [g.tensor('float32', [8])]);
      r.call('Add', [f.tensor('float32', [2, 4]), g.tensor('float32', [4])], [g.tensor('float32', [4, 2])]);
      r.call('Add', [f.tensor('float32', [8]), i.tensor('int64', [8])], [g.tensor('float32', [8])]);
      r.call('Gather', [f.tensor('float32', [8]), i.tensor('int64', [2])], [g.tensor('float32', [2]), g.tensor('float32', [2])], { axis: { kind: 'int', value: 0 } });
    }));
    expect(ds.map((d) => d.code)).toEqual(new Array(8).fill('W5012'));
    const text = ds.map((d) => `${d.location}: ${d.message}`);
    expect(text).toEqual([
      'region core, instruction #0 (Op_7): call NoSuchOp: op type NoSuchOp is not in the op registry',
      'region core, instruction #1 (Op_7): call Relu: input 0 float32[9] has 9 elements, more than buffer f holds (8)',
      'region core, instruction #2 (Op_7): call Relu: input 0 float32[8] covers elements [4, 12) of buffer f, which has 8',
      'region core, instruction #3 (Op_7): call Relu: input 0 (float32) is in buffer i of type i32; float32 values are stored in f32 buffers',
      'region core, instruction #4 (Op_7): call Neg: input 0 (float32) is in buffer h of type f16; float32 values are stored in f32 buffers',
      'region core, instruction #5 (Op_7): call Add: output 0 is declared float32[4,2] but the op infers float32[2,4]',
      expect.stringMatching(/^region core, instruction #6 \(Op_7\): call Add: the op refuses the declared inputs: .*int64/),
      'region core, instruction #7 (Op_7): call Gather: output 1 is declared but the op gives 1 output(s)',
    ]);
  });

  it('W6004: a per-core offset that leaves the buffer on one core', () => {
    const [d] = diagnosticsOf(() => emulate(buildBad((r, { f, g }) => {
      r.call('Relu', [f.at(mul(X, 4)).tensor('float32', [6])], [g.tensor('float32', [6])]);
    }, callTarget(2, 1))));
    expect(d.code).toBe('W6004');
    expect(d.message).toBe('call operand input 0 reads or writes elements [4, 10) of buffer f, which has 8 elements');
    expect(d.location).toBe('core (1,0), instruction #0 (Op_7)');
  });

  it('W6002: a call that writes a buffer a send still reads', () => {
    const b = new ProgramBuilder('race', callTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const a = r.buffer('a', 'f32', 8), c = r.buffer('c', 'f32', 8);
    r.send(a, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.call('Neg', [c.tensor('float32', [8])], [a.tensor('float32', [8])], {}, { guard: eq(X, 0), loc: 'Neg_1' });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: lt(X, sub(W, 1)) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: gt(X, 0) });
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d.code).toBe('W6002');
    expect(d.message).toMatch(/^call writes elements \[0, 8\) of buffer a while the send instruction #0 \(\) on colour 1 still reads \[0, 8\) of it/);
    expect(d.location).toBe('core (0,0), instruction #2 (Neg_1)');
  });

  it('W6007: an int64 result outside int32, or not exact in the i32 storage', () => {
    const big = oneCall('Add', [{ dtype: 'int64', shape: [2], values: [5, 2 ** 30] }, { dtype: 'int64', shape: [2], values: [1, 2 ** 30] }], [{ dtype: 'int64', shape: [2] }]);
    const [d] = diagnosticsOf(() => emulate(big.p, { mode: 'functional', inputs: big.inputs }));
    expect(d.code).toBe('W6007');
    expect(d.message).toBe('call Add: output 0 (int64[2]) element 1 is 2147483648, outside the int32 range');
    expect(d.location).toBe('core (0,0), instruction #0 (Add_0)');
    const odd = oneCall('Add', [{ dtype: 'int32', shape: [1], values: [2 ** 24] }, { dtype: 'int32', shape: [1], values: [1] }], [{ dtype: 'int32', shape: [1] }]);
    const [e] = diagnosticsOf(() => emulate(odd.p, { mode: 'functional', inputs: odd.inputs }));
    expect(e.code).toBe('W6007');
    expect(e.message).toMatch(/element 0 is 16777217, not held exactly by the emulator's i32 storage/);
    // Timing-only mode computes no values, so it has nothing to report.
    expect(emulate(big.p).totalCycles).toBeGreaterThan(0);
  });

  it('W6008: a shape read from SRAM that disagrees with the declared output, and an op that fails', () => {
    const reshape = oneCall('Reshape', [{ dtype: 'float32', shape: [6] }, { dtype: 'int64', shape: [2], values: [3, 2] }], [{ dtype: 'float32', shape: [2, 3] }]);
    // The loader cannot infer Reshape's output without the shape's value, so it loads.
    const [d] = diagnosticsOf(() => emulate(reshape.p, { mode: 'functional', inputs: reshape.inputs }));
    expect(d.code).toBe('W6008');
    expect(d.message).toBe('call Reshape: output 0 is declared float32[2,3] but the op gives float32[3,2]');
    expect(d.location).toBe('core (0,0), instruction #0 (Reshape_0)');
    const ok = oneCall('Reshape', [{ dtype: 'float32', shape: [6] }, { dtype: 'int64', shape: [2], values: [2, 3] }], [{ dtype: 'float32', shape: [2, 3] }]);
    expect(Array.from(emulate(ok.p, { mode: 'functional', inputs: ok.inputs }).outputs![0].data)).toEqual(Array.from(ok.inputs.get('x0')!));
    const gather = oneCall('Gather', [{ dtype: 'float32', shape: [4] }, { dtype: 'int64', shape: [1], values: [9] }], [{ dtype: 'float32', shape: [1] }], { axis: { kind: 'int', value: 0 } });
    const [g] = diagnosticsOf(() => emulate(gather.p, { mode: 'functional', inputs: gather.inputs }));
    expect(g.code).toBe('W6008');
    expect(g.message).toMatch(/^call Gather: the op failed: .*9/);
  });
});
