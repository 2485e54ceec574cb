/**
 * The compiler end to end: ONNX / graph IR → mesh IR → program → emulator. The bundled example
 * compiles for mesh:4x4 and mesh:8x8 and runs with outputs matching the expected file and the
 * reference evaluator; the emulator's measured cycles equal the prediction for the total and every
 * instruction start; compiling twice gives identical bytes; a small model on mesh:64x64 uses a
 * sub-region; a model spread over several cores by a small SRAM moves its values with transfers whose
 * cycles follow the closed forms of docs/runtime-model.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../cli/compare.js';
import { compile } from '../compiler/compile.js';
import { readTensorProto } from '../compiler/frontend/onnx/index.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { callCost } from '../ir/program-cost.js';
import { encodeProgram, decodeProgram } from '../ir/program-codec.js';
import { programsEqual } from '../ir/program-equal.js';
import { forEachInstr, type Program } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { emulate } from '../runtime/emulate.js';

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const EXAMPLE = join(ROOT, 'examples/tiny-attention');
const modelBytes = () => readFileSync(join(EXAMPLE, 'model.onnx'));
const input = readTensorProto(readFileSync(join(EXAMPLE, 'test_data_set_0/input_0.pb')));
const expected = readTensorProto(readFileSync(join(EXAMPLE, 'test_data_set_0/output_0.pb')));

function target(spec: string, sram?: number, colours?: number): Target {
  const t = resolveTarget(spec);
  if (sram !== undefined) t.sram.bytesPerCore = sram;
  if (colours !== undefined) t.router.colours = colours;
  return t;
}

function instructionCount(p: Program): number {
  let n = 0;
  for (const r of p.regions) forEachInstr(r.kernel.body, () => n++);
  return n;
}

function runExample(t: Target) {
  const res = compile(modelBytes(), { target: t, modelPath: join(EXAMPLE, 'model.onnx') });
  const inputs = new Map([[res.program.inputs[0].name, Float32Array.from(input.tensor.data as ArrayLike<number>)]]);
  const run = emulate(res.program, { mode: 'functional', inputs });
  const got = new Tensor('float32', run.outputs![0].shape, run.outputs![0].data);
  return { res, run, got };
}

describe('examples/tiny-attention', () => {
  it.each(['mesh:4x4', 'mesh:8x8'])('compiles for %s and matches the expected output, the reference and the prediction', (spec) => {
    const { res, run, got } = runExample(target(spec));
    expect(compareTensors(got, expected.tensor as Tensor, { rtol: 1e-3, atol: 1e-4 }).ok).toBe(true);
    const ref = evaluateGraph(res.graph, new Map([['x', input.tensor as Tensor]])).get('y')!;
    expect(compareTensors(got, ref, { rtol: 1e-3, atol: 1e-4 }).ok).toBe(true);
    // Measured == predicted: the total and every instruction start (one core, so every instruction runs once).
    expect(run.prediction.firstDivergence).toBeUndefined();
    expect(run.prediction.matched).toBe(true);
    expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
    expect(run.prediction.checked).toBe(instructionCount(res.program));
    // One core: the total is the sum of the calls' costs.
    const calls = res.program.regions[0].kernel.body.filter((i) => i.op === 'call');
    // 23 graph nodes, one elementwise pair fused (the fuse pass).
    expect(calls).toHaveLength(22);
    expect(calls.filter((c) => c.op === 'call' && c.opType === 'FusedElementwise')).toHaveLength(1);
    expect(run.totalCycles).toBe(calls.reduce((s, c) => s + (c.op === 'call' ? callCost(c, res.program.target) : 0), 0));
  });

  it('compiles to identical bytes twice', () => {
    const a = encodeProgram(compile(modelBytes(), { target: target('mesh:4x4') }).program);
    const b = encodeProgram(compile(modelBytes(), { target: target('mesh:4x4') }).program);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = encodeProgram(compile(modelBytes(), { target: target('mesh:4x4', 6000) }).program);
    const d = encodeProgram(compile(modelBytes(), { target: target('mesh:4x4', 6000) }).program);
    expect(Buffer.from(c).equals(Buffer.from(d))).toBe(true);
    expect(decodeProgram(c).regions[0].rect).toEqual({ x: 0, y: 0, width: 2, height: 2 });
  });

  it('embeds its source graph, which round-trips through the file', () => {
    const res = compile(modelBytes(), { target: target('mesh:4x4') });
    const back = decodeProgram(encodeProgram(res.program));
    expect(programsEqual(back, res.program)).toBe(true);
    expect(back.opset).toBe(18);
    const g = parseGraph(back.source!);
    expect(g.nodes.map((n) => n.op)).toEqual(res.graph.nodes.map((n) => n.op));
    expect(evaluateGraph(g, new Map([['x', input.tensor as Tensor]])).get('y')!.data).toEqual(
      evaluateGraph(res.graph, new Map([['x', input.tensor as Tensor]])).get('y')!.data);
  });

  it('uses a sub-region of mesh:64x64 and says so', () => {
    const res = compile(modelBytes(), { target: target('mesh:64x64') });
    expect(res.program.regions).toHaveLength(1);
    expect(res.program.regions[0].rect).toEqual({ x: 0, y: 0, width: 1, height: 1 });
    expect(res.notes.join('\n')).toMatch(/placed on 1 core: region \(0,0 1x1\) of mesh:64x64's 64x64 \(the model is too small/);
  });

  it('spreads over cores when SRAM is small, with exact transfer timing', () => {
    const { res, run, got } = runExample(target('mesh:4x4', 5000));
    expect(compareTensors(got, expected.tensor as Tensor, { rtol: 1e-3, atol: 1e-4 }).ok).toBe(true);
    expect(res.state.placement!.cores.length).toBeGreaterThan(1);
    expect(res.state.routes!.length).toBeGreaterThan(0);
    expect(run.prediction.matched).toBe(true);
    expect(run.prediction.firstDivergence).toBeUndefined();
    expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
    // The memory map fits and every core sees the same map.
    expect(res.state.sram!.bytes).toBeLessThanOrEqual(5000);
  });
});

/** x → Relu on core A; a 1×64 MatMul with its own 2 KB weight per core forces three more cores. */
function fanGraph() {
  const g = parseGraph(`graph @fan opset 18 {
    input %x : f32[1,8]
    %a : f32[1,8] = Relu(%x) @r
    %p1 : f32[1,64] = MatMul(%a, %w1) @m1
    %p2 : f32[1,64] = MatMul(%a, %w2) @m2
    %p3 : f32[1,64] = MatMul(%a, %w3) @m3
    %s : f32[1,64] = Add(%p1, %p2) @s1
    %y : f32[1,64] = Add(%s, %p3) @s2
    output %y
  }`);
  ['w1', 'w2', 'w3'].forEach((n, k) => {
    g.constants.set(n, Tensor.from('float32', [8, 64], Array.from({ length: 512 }, (_, i) => (((i + k) * 7) % 13) / 13 - 0.5)));
    g.types.set(n, { dtype: 'float32', shape: [8, 64] });
  });
  return g;
}

describe('transfers between cores', () => {
  // 2800 B cores: a core holds one 2 KB weight with its MatMul's operands, not two.
  const t = target('mesh:4x4', 2800);
  const g = fanGraph();
  const res = compile(g, { target: t });
  const x = Float32Array.from({ length: 8 }, (_, i) => i - 4);
  const run = emulate(res.program, { mode: 'functional', inputs: new Map([['x', x]]) });

  it('places the three weights on three cores of a 2x2 sub-region', () => {
    expect(res.state.placement!.region).toEqual({ x: 0, y: 0, width: 2, height: 2 });
    expect(res.state.routes!.map((r) => `${r.op} (${r.src.x},${r.src.y})->(${r.dests[0].x},${r.dests[0].y}) ${r.hops[0]} hops colour ${r.colour}`)).toEqual([
      'a->1,0 (0,0)->(1,0) 1 hops colour 0',
      'a->1,1 (0,0)->(1,1) 2 hops colour 1',
      'p1->0,1 (0,0)->(0,1) 1 hops colour 2',
      'p2->0,1 (1,0)->(0,1) 2 hops colour 0',
      'p3->0,1 (1,1)->(0,1) 1 hops colour 0',
    ]);
  });

  it('computes the reference result', () => {
    const ref = evaluateGraph(res.graph, new Map([['x', Tensor.from('float32', [1, 8], x)]])).get('y')!;
    expect(compareTensors(new Tensor('float32', [1, 64], run.outputs![0].data), ref, { rtol: 1e-5, atol: 1e-6 }).ok).toBe(true);
  });

  it('takes exactly the calls plus the closed-form transfer times', () => {
    const I = t.overhead.issue, C = t.overhead.comm, rho = t.link.rampLatency, alpha = t.link.hopLatency;
    // A transfer of n f32 words over h hops: posted at I + C; the receiver finishes at
    // I + C + 2ρ + h·α + n (the sender at I + C + n, earlier); every core waits for the slowest.
    const transfer = (n: number, h: number) => I + C + Math.max(I, 2 * rho + h * alpha + n);
    const transfers = transfer(8, 1) + transfer(8, 2) + transfer(64, 1) + transfer(64, 2) + transfer(64, 1);
    let calls = 0;
    for (const r of res.program.regions) forEachInstr(r.kernel.body, (i) => { if (i.op === 'call') calls += callCost(i, t); });
    expect(run.totalCycles).toBe(calls + transfers);
    expect(res.program.predicted!.totalCycles).toBe(calls + transfers);
    expect(run.prediction.matched).toBe(true);
    expect(run.prediction.firstDivergence).toBeUndefined();
    // Every executed instruction with a prediction was checked: 4 cores × the delays, plus the work.
    expect(run.prediction.checked).toBeGreaterThan(40);
  });
});
