/**
 * Tiling views (Tiling.view, docs/program-format.md): a tensor's row-major data reshaped to `dims`
 * and permuted by `perm` is the matrix that is tiled. Inputs and constants are loaded through the
 * view, outputs read back through its inverse; the codec round-trips the field, the listing prints it,
 * and the validator (W5012) and the loader (W5011) refuse a malformed one.
 */
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, X, Y } from '../ir/program-builder.js';
import { decodeProgram, encodeProgram } from '../ir/program-codec.js';
import { messageToProgram, programToMessage } from '../ir/program-codec-message.js';
import { validateProgram } from '../ir/program-codec-validate.js';
import { programDiff } from '../ir/program-equal.js';
import { disassemble, programToJson } from '../ir/program-text.js';
import type { Program } from '../ir/program.js';
import { emulate, loadProgram } from '../runtime/emulate.js';
import { compileView, matrixToTensor, tensorToMatrix } from '../runtime/loader-view.js';
import { diagnosticsOf, testTarget } from './emulator-fixtures.js';

/** Distinct values k, k+1, ... (so any misplaced element shows). */
const ramp = (n: number, k = 1): Float32Array => Float32Array.from({ length: n }, (_, i) => i + k);

/** The reference permutation: out (row-major over dims[perm[i]]) of a row-major tensor over dims. */
function permuted(t: Float32Array, dims: number[], perm: number[]): Float32Array {
  const n = dims.length;
  const stride = new Array<number>(n);
  for (let d = n - 1, s = 1; d >= 0; d--) { stride[d] = s; s *= dims[d]; }
  const shape = perm.map((d) => dims[d]);
  const out = new Float32Array(t.length);
  const idx = new Array<number>(n).fill(0);
  for (let m = 0; m < t.length; m++) {
    let rest = m;
    for (let i = n - 1; i >= 0; i--) { idx[i] = rest % shape[i]; rest = Math.floor(rest / shape[i]); }
    out[m] = t[idx.reduce((s, v, i) => s + v * stride[perm[i]], 0)];
  }
  return out;
}

type View = { dims: number[]; perm: number[] };

/**
 * A 2×2 region; input `x` of `shape` is tiled as a rows×cols matrix in [rows/2, cols/2] tiles at
 * (Y, X) through `inView`, copied per core, and written to output `y` of `outShape` through `outView`.
 */
function copyProgram(shape: number[], rows: number, cols: number, outShape: number[], inView?: View, outView?: View): Program {
  const b = new ProgramBuilder('view', testTarget(2, 2));
  const r = b.region('sq', { x: 0, y: 0, width: 2, height: 2 });
  const n = (rows / 2) * (cols / 2);
  const src = r.buffer('src', 'f32', n), dst = r.buffer('dst', 'f32', n);
  r.copy(dst, src, n);
  const tile = (buffer: typeof src, view?: View) => ({
    buffer, tile: [rows / 2, cols / 2] as [number, number], at: [Y, X] as [typeof Y, typeof X], view: [rows, cols] as [number, number],
    ...(view ? { perm: view } : {}),
  });
  b.input('x', 'f32', shape, tile(src, inView));
  b.output('y', 'f32', outShape, tile(dst, outView));
  return b.build();
}

function run(p: Program, x: Float32Array): Float32Array {
  const res = emulate(p, { mode: 'functional', inputs: new Map([['x', x]]) });
  return res.outputs![0].data;
}

const Q = { dims: [2, 2, 3, 4], perm: [0, 2, 1, 3] }; // (batch, head, seq, dim) → rows (batch, seq), cols (head, dim)

describe('tiling views: emulation', () => {
  it('an input loaded through a view lands in the tiles permuted', () => {
    const x = ramp(48);
    const p = copyProgram([2, 2, 3, 4], 6, 8, [6, 8], Q, undefined);
    expect(Array.from(run(p, x))).toEqual(Array.from(permuted(x, Q.dims, Q.perm)));
  });

  it('an output read through a view comes back in the tensor order', () => {
    const x = ramp(48);
    const p = copyProgram([6, 8], 6, 8, [2, 2, 3, 4], undefined, Q);
    const y = run(p, permuted(x, Q.dims, Q.perm));
    expect(Array.from(y)).toEqual(Array.from(x));
  });

  it('the same view on input and output is the identity end to end; a [2,3,4] swap of the leading dims too', () => {
    const x = ramp(48, 0.5);
    expect(Array.from(run(copyProgram([2, 2, 3, 4], 6, 8, [2, 2, 3, 4], Q, Q), x))).toEqual(Array.from(x));
    const v = { dims: [2, 3, 4], perm: [1, 0, 2] };
    const t = ramp(24);
    expect(Array.from(run(copyProgram([2, 3, 4], 6, 4, [6, 4], v, undefined), t))).toEqual(Array.from(permuted(t, v.dims, v.perm)));
  });

  it('a refined reshape: a [4,6] tensor viewed as its transpose through dims [4,2,3], perm [1,2,0]', () => {
    const v = { dims: [4, 2, 3], perm: [1, 2, 0] };
    const t = ramp(24);
    const y = run(copyProgram([4, 6], 6, 4, [6, 4], v, undefined), t);
    // Matrix row j·3+k, col i is t[i, j·3+k]: the transpose.
    const want = new Float32Array(24);
    for (let i = 0; i < 4; i++) for (let c = 0; c < 6; c++) want[c * 4 + i] = t[i * 6 + c];
    expect(Array.from(y)).toEqual(Array.from(want));
  });

  it('constant data (row-major, tensor order) is placed through the view', () => {
    const v = { dims: [2, 3, 4], perm: [2, 1, 0] };
    const data = ramp(24, 2);
    const b = new ProgramBuilder('const', testTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const c = r.buffer('c', 'f32', 12), o = r.buffer('o', 'f32', 12);
    r.copy(o, c, 12);
    b.constant('w', 'f32', [4, 6], { buffer: c, tile: [2, 6], at: [X, 0], perm: v }, data);
    b.output('y', 'f32', [4, 6], { buffer: o, tile: [2, 6], at: [X, 0] });
    const res = emulate(b.build(), { mode: 'functional' });
    expect(Array.from(res.outputs![0].data)).toEqual(Array.from(permuted(data, v.dims, v.perm)));
  });
});

describe('tiling views: the permutation', () => {
  it('compiles an identity (or unit-dim shuffle) to no copy, merges adjacent dims, and inverts exactly', () => {
    expect(compileView(undefined)).toBeNull();
    expect(compileView({ dims: [2, 3, 4], perm: [0, 1, 2] })).toBeNull();
    expect(compileView({ dims: [1, 6, 1, 4], perm: [2, 1, 0, 3] })).toBeNull();
    expect(compileView(Q)).toEqual({ shape: [2, 3, 2, 4], stride: [24, 4, 12, 1], size: 48 });
    expect(compileView({ dims: [2, 3, 4, 5], perm: [2, 3, 0, 1] })).toEqual({ shape: [20, 6], stride: [1, 20], size: 120 });
    for (const v of [Q, { dims: [3, 1, 5, 2, 2], perm: [4, 2, 0, 3, 1] }, { dims: [2, 3, 4, 5], perm: [3, 1, 2, 0] }]) {
      const n = v.dims.reduce((a, b) => a * b, 1);
      const t = ramp(n);
      const m = tensorToMatrix(compileView(v), t);
      expect(Array.from(m)).toEqual(Array.from(permuted(t, v.dims, v.perm)));
      expect(Array.from(matrixToTensor(compileView(v), m))).toEqual(Array.from(t));
    }
  });
});

describe('tiling views: format', () => {
  it('round-trips through the codec and prints in the listing and the JSON', () => {
    const p = copyProgram([2, 2, 3, 4], 6, 8, [2, 2, 3, 4], Q, undefined);
    expect(p.inputs[0].tiling.view).toEqual(Q);
    expect('view' in p.outputs[0].tiling).toBe(false);
    const q = decodeProgram(encodeProgram(p));
    expect(programDiff(p, q)).toBeUndefined();
    expect('view' in q.outputs[0].tiling).toBe(false);
    expect(disassemble(q)).toContain('at (y, x)  view [2,2,3,4] perm [0,2,1,3]\n');
    expect(JSON.parse(programToJson(q)).inputs[0].tiling.view).toEqual(Q);
  });

  it('a program without views encodes as before the field existed (no view bytes)', () => {
    const plain = copyProgram([6, 8], 6, 8, [6, 8]);
    const viewed = copyProgram([6, 8], 6, 8, [6, 8], { dims: [6, 8], perm: [0, 1] });
    // Tags of fields 10 and 11 (wire type 2, packed): 0x52, 0x5a, each followed by the length and the values.
    expect(encodeProgram(viewed).length - encodeProgram(plain).length).toBe(2 * (2 + 2));
  });

  const bad = (view: View) => {
    const p = copyProgram([2, 3, 4], 6, 4, [6, 4]);
    p.inputs[0].tiling.view = view;
    return p;
  };
  const messages = (fn: () => unknown) => diagnosticsOf(fn).map((d) => `${d.code} ${d.message}`);

  it('the validator refuses a non-permutation, a product mismatch, dims without perm (W5012)', () => {
    expect(messages(() => encodeProgram(bad({ dims: [2, 3, 4], perm: [1, 1, 2] }))))
      .toEqual(['W5012 tiling view perm [1,1,2] is not a permutation of 0..2 (input "x")']);
    expect(messages(() => encodeProgram(bad({ dims: [2, 3, 4], perm: [0, 1, 3] })))[0]).toMatch(/perm \[0,1,3\] is not a permutation of 0\.\.2/);
    expect(messages(() => encodeProgram(bad({ dims: [2, 3, 5], perm: [1, 0, 2] }))))
      .toEqual(['W5012 tiling view dims [2,3,5] hold 30 elements but the tiling views 6x4 = 24 (input "x")']);
    expect(messages(() => encodeProgram(bad({ dims: [2, 3, 4], perm: [] })))[0]).toMatch(/dims \[2,3,4\] and perm \[\]: give both or neither/);
    expect(messages(() => encodeProgram(bad({ dims: [24], perm: [0, 1] })))[0]).toMatch(/perm \[0,1\] has 2 entries but dims \[24\] has 1/);
    expect(messages(() => encodeProgram(bad({ dims: [0, 24], perm: [0, 1] })))[0]).toMatch(/view dim 0 is not an integer/);
    expect(messages(() => encodeProgram(bad({ dims: [], perm: [] })))[0]).toMatch(/no dims \(omit the view for the identity\)/);
  });

  it('a file with view dims but no view perm decodes to a view the validator refuses', () => {
    const m = programToMessage(copyProgram([2, 2, 3, 4], 6, 8, [6, 8], Q));
    delete m.inputs[0].tiling!.viewPerm;
    const p = messageToProgram(m);
    expect(p.inputs[0].tiling.view).toEqual({ dims: Q.dims, perm: [] });
    expect(messages(() => validateProgram(p, 'f.wafer'))[0]).toMatch(/^W5012 tiling view has dims \[2,2,3,4\] and perm \[\]: give both or neither/);
  });

  it('the loader refuses a malformed view of an unvalidated program (W5011)', () => {
    expect(messages(() => loadProgram(bad({ dims: [2, 3, 4], perm: [2, 2, 0] }))))
      .toEqual(['W5011 input x: tiling view perm [2,2,0] is not a permutation of 0..2']);
  });
});
