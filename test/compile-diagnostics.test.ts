/**
 * The back end's diagnostics on purpose-built cases: an op too large for a core (W3002, naming the op
 * and its tensors with bytes), a model too large for the mesh (W3003, with the fullest core's
 * breakdown), colour exhaustion (W3004, naming the router and the competing transfer), a memory map
 * larger than a core (W3005, per-core breakdown), and values SRAM cannot hold (W3006).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.js';
import { allocateSram } from '../compiler/passes/allocate-sram.js';
import { DiagnosticError, type Diagnostic } from '../ir/diagnostics.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { emulate } from '../runtime/emulate.js';

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const model = () => readFileSync(join(ROOT, 'examples/tiny-attention/model.onnx'));

function target(spec: string, sram?: number, colours?: number): Target {
  const t = resolveTarget(spec);
  if (sram !== undefined) t.sram.bytesPerCore = sram;
  if (colours !== undefined) t.router.colours = colours;
  return t;
}

function diagnostics(f: () => unknown): Diagnostic[] {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics;
    throw e;
  }
  throw new Error('expected a diagnostic');
}

describe('SRAM overflow', () => {
  it('W3002 names the op and breaks its tensors down by bytes', () => {
    const [d] = diagnostics(() => compile(model(), { target: target('mesh:4x4', 1600) }));
    expect(d.code).toBe('W3002');
    expect(d.message).toBe("op 'q' (MatMul) needs 2048 B of SRAM for its inputs and outputs; a core has 1600 B");
    expect(d.location).toBe("op 'q', core (1,0): %wq 1024 B (const), %h 512 B (temp), %q 512 B (temp); total 2048 B of 1600 B");
  });

  it('W3003 when the model needs more cores than the mesh has, with the fullest core', () => {
    const [d] = diagnostics(() => compile(model(), { target: target('mesh:2x1', 5000) }));
    expect(d.code).toBe('W3003');
    expect(d.message).toMatch(/^the model needs \d+ cores of 5000 B SRAM \(\d+ B in all\), but mesh:2x1 has 2$/);
    expect(d.location).toMatch(/^fullest core \(\d,\d\): %w\w+ 1024 B \(const\), .* total \d+ B of 5000 B$/);
  });

  it('W3005 when a memory map does not fit, with a per-core breakdown', () => {
    const res = compile(model(), { target: target('mesh:4x4') });
    const [d] = diagnostics(() => allocateSram(res.mesh, target('mesh:4x4', 4000)));
    expect(d.code).toBe('W3005');
    expect(d.message).toMatch(/^the memory map of core \(0,0\) needs \d+ B, but a core has 4000 B$/);
    expect(d.location).toMatch(/^core \(0,0\): %w_down 2048 B \(const\), %w_up 2048 B \(const\), .*; \d+ B in all, at most \d+ B live at once, of 4000 B$/);
  });
});

/** A value read on two other cores whose XY routes share router (1,0)'s west input with different exits. */
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
  for (const n of ['w1', 'w2', 'w3']) {
    g.constants.set(n, Tensor.from('float32', [8, 64], Array.from({ length: 512 }, (_, i) => (i % 5) - 2)));
    g.types.set(n, { dtype: 'float32', shape: [8, 64] });
  }
  return g;
}

describe('colour exhaustion', () => {
  it('W3004 names the router and the competing transfer', () => {
    const [d] = diagnostics(() => compile(fanGraph(), { target: target('mesh:4x4', 3000, 1) }));
    expect(d.code).toBe('W3004');
    expect(d.message).toBe("no colour left for transfer 'a->1,1' from core (0,0) to (1,1): router (1,0) entering from west is taken on its only colour by 'a->1,0'");
    expect(d.location).toBe('router (1,0), colours 0..0');
  });

  it('two colours are not enough either; three are', () => {
    // 2800 B cores: each MatMul sits on a core of its own, so p1, p2 and p3 all travel to (0,1).
    const [d] = diagnostics(() => compile(fanGraph(), { target: target('mesh:4x4', 2800, 2) }));
    expect(d.code).toBe('W3004');
    expect(d.message).toMatch(/^no colour left for transfer 'p1->0,1' from core \(0,0\) to \(0,1\): router \(0,0\) entering from ramp is taken on all 2 colours by 'a->1,0', 'a->1,1'$/);
    const ok = compile(fanGraph(), { target: target('mesh:4x4', 2800, 3) });
    expect(new Set(ok.state.routes!.map((r) => r.colour))).toEqual(new Set([0, 1, 2]));
    const run = emulate(ok.program, { mode: 'timing' });
    expect(run.totalCycles).toBe(ok.program.predicted!.totalCycles);
    expect(run.prediction.matched).toBe(true);
  });
});

describe('values SRAM cannot hold', () => {
  it('W3006 for an integer constant outside the int32 range', () => {
    const g = parseGraph(`graph @big opset 18 {
      input %x : i64[2]
      const %c : i64[2] = dense<[4294967296, 1]>
      %y : i64[2] = Add(%x, %c) @add
      output %y
    }`);
    const [d] = diagnostics(() => compile(g, { target: target('mesh:2x2') }));
    expect(d.code).toBe('W3006');
    expect(d.location).toBe("node 'add'");
  });

  it('clamps Slice bounds beyond int32 (INT64_MAX means "to the end")', () => {
    const g = parseGraph(`graph @s opset 18 {
      input %x : f32[2,6]
      const %st : i64[1] = dense<[2]>
      const %en : i64[1] = dense<[9223372036854775807]>
      const %ax : i64[1] = dense<[1]>
      %y : f32[2,4] = Slice(%x, %st, %en, %ax) @slice
      output %y
    }`);
    const res = compile(g, { target: target('mesh:2x2') });
    const x = Float32Array.from({ length: 12 }, (_, i) => i);
    const run = emulate(res.program, { mode: 'functional', inputs: new Map([['x', x]]) });
    expect(Array.from(run.outputs![0].data)).toEqual([2, 3, 4, 5, 8, 9, 10, 11]);
    expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
  });
});
