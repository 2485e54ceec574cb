/**
 * Tiled execution (compiler/kernels/tiled.ts): a graph input too large for one core is cut into
 * tiles, one per core, and the row-separable ops reading it run tile by tile, all tiles of an op in
 * one step. Checks: the outputs match the reference, the cycles equal the closed form (Σ over ops of
 * the largest tile call's callCost) and the emulator's measurement, the I/O tilings, byte-identical
 * recompiles, the Gather-of-a-slice case, and that a non-separable reader still gets W3002.
 */
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../cli/compare.js';
import { compile } from '../compiler/compile.js';
import { callKernelCycles } from '../compiler/kernels/call.js';
import { elementwiseGeometry, parseTileName, tileName } from '../compiler/kernels/tiled.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { encodeProgram } from '../ir/program-codec.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { emulate } from '../runtime/emulate.js';

const chain = () => parseGraph(`graph @tiled opset 18 {
  input %x : f32[16,1024]
  const %h : f32[] = dense<[0.5]>
  %a : f32[16,1024] = Mul(%x, %h) @mul
  %b : f32[16,1024] = Erf(%a) @erf
  %c : f32[16,1024] = Add(%b, %x) @add
  %y : f32[16,1024] = Neg(%c) @neg
  output %y
}`);

const xData = Float32Array.from({ length: 16 * 1024 }, (_, i) => ((i * 37) % 101) / 25 - 2);

describe('tiled elementwise chain', () => {
  const target = resolveTarget('mesh:4x4');

  it('chooses tiles of at most capacity/8 bytes that divide the tensor', () => {
    // 48 KB cores: 6144 B per tile; a 4096 B row fits, two rows do not: 16 tiles of one row.
    expect(elementwiseGeometry([16, 1024], 4, 49152)).toEqual({ rows: 16, cols: 1024, tileRows: 1, tileCols: 1024 });
    // A 12 KB row is cut into halves of 1536 elements (6144 B).
    expect(elementwiseGeometry([2, 8, 3072], 4, 49152)).toEqual({ rows: 16, cols: 3072, tileRows: 1, tileCols: 1536 });
    expect(parseTileName(tileName('a#out', 12))).toEqual({ base: 'a#out', tile: 12 });
  });

  it('runs a 64 KB chain over 16 cores, matching the reference with measured == predicted', () => {
    // (fuse: false keeps the chain's four ops apart, to check each tiled step.)
    const res = compile(chain(), { target, fuse: false });
    // One step per op (the 16 tiles of an op run together), each costing one tile's call.
    expect(res.state.schedule!.steps).toHaveLength(4);
    expect(res.state.schedule!.steps.every((s) => s.finish.length === 16)).toBe(true);
    const tile = (op: string, n: number) => callKernelCycles({
      opType: op, domain: '', attrs: {},
      inputs: Array.from({ length: n }, (_, k) => ({ at: { buf: 0, offset: 0 }, dtype: 'float32' as const, shape: k === 1 && op === 'Mul' ? [] : [1, 1024] })),
      outputs: [{ at: { buf: 0, offset: 0 }, dtype: 'float32', shape: [1, 1024] }],
    }, target);
    const expected = tile('Mul', 2) + tile('Erf', 1) + tile('Add', 2) + tile('Neg', 1);
    expect(res.program.predicted!.totalCycles).toBe(expected);
    expect(res.program.regions[0].rect).toEqual({ x: 0, y: 0, width: 4, height: 4 });
    // Input and output move tile by tile: [1, 1024] tiles, one per core.
    expect(res.program.inputs).toHaveLength(1);
    expect(res.program.inputs[0].name).toBe('x');
    expect(res.program.inputs[0].tiling).toMatchObject({ rows: 16, cols: 1024, tileRows: 1, tileCols: 1024 });
    expect(res.program.outputs[0].name).toBe('y');
    expect(res.program.outputs[0].tiling).toMatchObject({ rows: 16, cols: 1024, tileRows: 1, tileCols: 1024 });

    const run = emulate(res.program, { mode: 'functional', inputs: new Map([['x', xData]]) });
    expect(run.prediction.firstDivergence).toBeUndefined();
    expect(run.prediction.matched).toBe(true);
    expect(run.totalCycles).toBe(expected);
    const got = new Tensor('float32', run.outputs![0].shape, run.outputs![0].data);
    const ref = evaluateGraph(res.graph, new Map([['x', Tensor.from('float32', [16, 1024], xData)]])).get('y')!;
    expect(got.shape).toEqual([16, 1024]);
    expect(compareTensors(got, ref, { rtol: 1e-3, atol: 1e-4 }).ok).toBe(true);
  });

  it('compiles to identical bytes twice', () => {
    const a = encodeProgram(compile(chain(), { target }).program);
    const b = encodeProgram(compile(chain(), { target }).program);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('still refuses (W3002) when there are more tiles than cores (unless the batch split fits), or a reader is not row-separable', () => {
    const code = (f: () => unknown) => {
      try { f(); } catch (e) { return e instanceof DiagnosticError ? e.diagnostics[0].code : String(e); }
      return 'ok';
    };
    // (layout 'single': with the default 'auto', distributed mode takes over where tiling stops.)
    // On 2x2 the 16 tiles exceed the cores, and so do the batch split's pieces of the four ops
    // (kernels/batch-split.ts: [4,1024] pieces of x, y and two temporaries do not fit a core) ...
    expect(code(() => compile(chain(), { target: resolveTarget('mesh:2x2'), layout: 'single', fuse: false }))).toBe('W3002');
    // ... but fused into one op (input and output only), the chain runs as four batch-split pieces.
    const fused = compile(chain(), { target: resolveTarget('mesh:2x2'), layout: 'single' });
    expect(fused.mesh.ops.map((o) => o.params.pin)).toEqual([0, 1, 2, 3]);
    const run = emulate(fused.program, { mode: 'functional', inputs: new Map([['x', xData]]) });
    expect(run.prediction.matched).toBe(true);
    const ref = evaluateGraph(fused.graph, new Map([['x', Tensor.from('float32', [16, 1024], xData)]])).get('y')!;
    expect(compareTensors(new Tensor('float32', run.outputs![0].shape, run.outputs![0].data), ref, { rtol: 1e-3, atol: 1e-4 }).ok).toBe(true);
    const mm = parseGraph(`graph @mm opset 18 {
      input %x : f32[16,1024]
      input %w : f32[1024,2]
      %y : f32[16,2] = MatMul(%x, %w) @mm
      output %y
    }`);
    expect(code(() => compile(mm, { target, layout: 'single' }))).toBe('W3002');
  });
});

describe('tiled Gather of whole dim-0 slices', () => {
  it('reads each slice on its own core', () => {
    const g = parseGraph(`graph @slices opset 18 {
      input %x : f32[4,4,512]
      const %i0 : i64[] = dense<[0]>
      const %i1 : i64[] = dense<[1]>
      const %i2 : i64[] = dense<[2]>
      const %i3 : i64[] = dense<[-1]>
      %g0 : f32[4,512] = Gather(%x, %i0) {axis = 0 : int} @g0
      %g1 : f32[4,512] = Gather(%x, %i1) {axis = 0 : int} @g1
      %g2 : f32[4,512] = Gather(%x, %i2) {axis = 0 : int} @g2
      %g3 : f32[4,512] = Gather(%x, %i3) {axis = 0 : int} @g3
      %s : f32[4,512] = Sub(%g0, %g1) @s
      %t : f32[4,512] = Mul(%g2, %g3) @t
      %y : f32[4,512] = Add(%s, %t) @y
      output %y
    }`);
    const target = resolveTarget('mesh:4x4');
    const res = compile(g, { target });
    expect(res.program.inputs[0].tiling).toMatchObject({ rows: 16, cols: 512, tileRows: 4, tileCols: 512 });
    const data = Float32Array.from({ length: 8192 }, (_, i) => ((i * 13) % 29) / 7 - 2);
    const run = emulate(res.program, { mode: 'functional', inputs: new Map([['x', data]]) });
    expect(run.prediction.matched).toBe(true);
    expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
    const got = new Tensor('float32', run.outputs![0].shape, run.outputs![0].data);
    const ref = evaluateGraph(res.graph, new Map([['x', Tensor.from('float32', [4, 4, 512], data)]])).get('y')!;
    expect(compareTensors(got, ref, { rtol: 1e-3, atol: 1e-4 }).ok).toBe(true);
  });
});
