/**
 * Per-core buffers (BufferDecl.guard, docs/program-format.md): a guarded buffer exists only on the
 * cores where its guard is non-zero. The codec round-trips it; the loader checks the memory map per
 * core (W5004, W5005 naming a core) and tilings against presence (W5011); the emulator allocates
 * per core only what the core holds, reports an operand or swap on an absent buffer (W6004), and the
 * SRAM statistics count present buffers only.
 */
import { describe, expect, it } from 'vitest';
import { and, eq, ge, gt, I, le, lt, mod, ProgramBuilder, X, Y } from '../ir/program-builder.js';
import { decodeProgram, encodeProgram } from '../ir/program-codec.js';
import { programDiff } from '../ir/program-equal.js';
import { disassemble, programToJson } from '../ir/program-text.js';
import { evalExpr, type Expr } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import { emulate, loadProgram } from '../runtime/emulate.js';
import { allocateMemory } from '../runtime/executor-sram.js';
import { buildPresence } from '../runtime/loader-presence.js';
import { compileExpr } from '../runtime/loader-expr.js';
import { diagnosticsOf, testTarget } from './emulator-fixtures.js';

const CAP = testTarget(2, 1).sram.bytesPerCore;

/** A 2×1 region: core 0 computes 2·x into A, core 1 computes x+10 into B; A and B share offset 0. */
function disjoint() {
  const b = new ProgramBuilder('disjoint', testTarget(2, 1));
  const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
  const A = r.buffer('A', 'f32', 8, { offset: 0, guard: eq(X, 0) });
  const B = r.buffer('B', 'f32', 8, { offset: 0, guard: eq(X, 1) });
  const inp = r.buffer('in', 'f32', 8, { offset: 64 });
  r.unary('scale', A, inp, 8, { scalar: 2, guard: eq(X, 0) });
  r.unary('add_scalar', B, inp, 8, { scalar: 10, guard: eq(X, 1) });
  b.input('x', 'f32', [2, 8], { buffer: inp, tile: [1, 8], at: [X, 0] });
  b.output('ya', 'f32', [1, 8], { buffer: A, tile: [1, 8], at: [0, 0], guard: eq(X, 0) });
  b.output('yb', 'f32', [1, 8], { buffer: B, tile: [1, 8], at: [0, 0], guard: eq(X, 1) });
  return { b, r, A, B, inp };
}

const messages = (fn: () => unknown) => diagnosticsOf(fn).map((d) => `${d.code} ${d.message} @ ${d.location}`);

describe('buffer guards: format', () => {
  it('round-trips through the codec, prints in the listing and the JSON', () => {
    const p = disjoint().b.build();
    expect(p.regions[0].kernel.buffers[0].guard).toEqual(eq(X, 0));
    expect('guard' in p.regions[0].kernel.buffers[2]).toBe(false);
    const q = decodeProgram(encodeProgram(p));
    expect(programDiff(p, q)).toBeUndefined();
    expect('guard' in q.regions[0].kernel.buffers[2]).toBe(false);
    const text = disassemble(q);
    expect(text).toContain('B0  "A"   f32[8]  offset 0   32 B    if x == 0\n');
    expect(text).toContain('B2  "in"  f32[8]  offset 64  32 B\n');
    expect(JSON.parse(programToJson(q)).regions[0].kernel.buffers[1].guard).toEqual({ op: 'eq', a: { v: 'x' }, b: 1 });
  });

  it('a guard reading a loop counter is W5012 (builder, encoder and loader)', () => {
    const b = new ProgramBuilder('bad', testTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    r.buffer('A', 'f32', 8, { guard: eq(I(0), 0) });
    expect(messages(() => b.build())[0]).toMatch(/^W5012 buffer guard: loop counter i0 used in no loop/);
    const p = b.build({ validate: false });
    expect(messages(() => encodeProgram(p))[0]).toMatch(/^W5012 buffer guard: loop counter i0/);
    expect(messages(() => loadProgram(p))).toEqual([
      'W5012 buffer 0 (A) has a guard reading loop counter i0 (a buffer guard is an expression of x, y, w, h) @ region row',
    ]);
  });
});

describe('buffer guards: loader', () => {
  it('buffers sharing bytes on disjoint cores load and run with correct results', () => {
    const { b } = disjoint();
    const lp = loadProgram(b.build());
    const pr = lp.regions[0].kernel.presence!;
    expect(pr.groups).toBe(2);
    expect(Array.from(pr.mask)).toEqual([1, 0, 1, 0, 1, 1]);
    const x = Float32Array.from({ length: 16 }, (_, i) => i);
    const res = emulate(lp, { mode: 'functional', inputs: new Map([['x', x]]) });
    expect(Array.from(res.outputs!.find((o) => o.name === 'ya')!.data)).toEqual([0, 2, 4, 6, 8, 10, 12, 14]);
    expect(Array.from(res.outputs!.find((o) => o.name === 'yb')!.data)).toEqual([18, 19, 20, 21, 22, 23, 24, 25]);
    // Each core's image holds its own buffers only: 8 + 8 elements per core, not 24.
    expect(allocateMemory(lp)[0].mem.length).toBe(32);
  });

  it('W5005: overlap on a core that has both buffers names that core', () => {
    const b = new ProgramBuilder('overlap', testTarget(4, 1));
    const r = b.region('row', { x: 1, y: 0, width: 3, height: 1 });
    r.buffer('A', 'f32', 8, { offset: 0, guard: lt(X, 2) });
    r.buffer('B', 'f32', 8, { offset: 16, guard: gt(X, 0) });
    r.buffer('C', 'f32', 8, { offset: 0, guard: eq(X, 2) });
    expect(messages(() => loadProgram(b.build()))).toEqual([
      'W5005 buffers A [0, 32) and B [16, 48) share bytes while both are live (the whole kernel and the whole kernel) on core (2,0) @ region row, core (2,0)',
      'W5005 buffers B [16, 48) and C [0, 32) share bytes while both are live (the whole kernel and the whole kernel) on core (3,0) @ region row, core (3,0)',
    ]);
  });

  it('W5004: SRAM overflow on one core only names that core', () => {
    const b = new ProgramBuilder('over', testTarget(3, 2));
    const r = b.region('all', { x: 0, y: 0, width: 3, height: 2 });
    r.buffer('small', 'f32', 8);
    r.buffer('big', 'f32', CAP / 4, { offset: 32, guard: and(eq(X, 1), eq(Y, 1)) });
    r.buffer('mid', 'f32', CAP / 8, { offset: 32, guard: eq(Y, 0) });
    expect(messages(() => loadProgram(b.build()))).toEqual([
      `W5004 region all: on core (1,1) the memory map reaches byte ${CAP + 32} but a core has ${CAP} bytes of SRAM; largest buffers there: big ${CAP} B, small 32 B @ region all, core (1,1)`,
    ]);
  });

  it('a map that fits only per core loads: same bytes on disjoint cores, and a buffer on no core', () => {
    const b = new ProgramBuilder('fits', testTarget(2, 2));
    const r = b.region('all', { x: 0, y: 0, width: 2, height: 2 });
    r.buffer('a', 'f32', (CAP * 3) / 16, { offset: 0, guard: eq(X, 0) });
    r.buffer('b', 'f32', (CAP * 3) / 16, { offset: 0, guard: eq(X, 1) });
    r.buffer('never', 'f32', CAP, { offset: 0, guard: 0 });
    const lp = loadProgram(b.build());
    expect(lp.regions[0].kernel.liveHighWater).toBe((CAP * 3) / 4);
    // Without the guards the same map is refused.
    const p = b.build();
    for (const buf of p.regions[0].kernel.buffers) delete buf.guard;
    expect(diagnosticsOf(() => loadProgram(p)).map((d) => d.code)).toEqual(['W5004', 'W5005', 'W5005', 'W5005']);
  });

  it('W5011: a tile on a core where its buffer does not exist', () => {
    const { b, A } = disjoint();
    b.output('bad', 'f32', [2, 8], { buffer: A, tile: [1, 8], at: [X, 0] });
    expect(messages(() => loadProgram(b.build()))).toEqual([
      'W5011 output bad: core (1,0) of region row holds tile (1, 0), but buffer A does not exist on that core (its guard is zero there) @ output bad',
    ]);
  });
});

describe('buffer guards: run time', () => {
  it('W6004: an operand naming a buffer absent on the executing core', () => {
    const { b, r, A, inp } = disjoint();
    r.copy(A, inp, 8, { loc: 'Oops_1' });
    const p = b.build();
    expect(messages(() => emulate(p))).toEqual([
      'W6004 unary operand b: buffer A does not exist on core (1,0) (its guard is zero there) @ core (1,0), instruction #2 (Oops_1)',
    ]);
  });

  it('W6004: a swap of two buffers present on different cores', () => {
    const b = new ProgramBuilder('swap', testTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const P = r.buffer('P', 'f32', 8);
    const Q = r.buffer('Q', 'f32', 8, { guard: eq(X, 0) });
    r.swap(P, Q, { guard: eq(X, 0) });
    expect(() => emulate(b.build())).not.toThrow();
    r.swap(P, Q, { loc: 'Swap_9' });
    expect(messages(() => emulate(b.build()))).toEqual([
      'W6004 swap of buffers P and Q, but only one of them exists on core (1,0) (a swap needs both or neither) @ core (1,0), instruction #1 (Swap_9)',
    ]);
  });

  it('a swap of two buffers with the same guard double-buffers on the cores that hold them', () => {
    const b = new ProgramBuilder('swap2', testTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const P = r.buffer('P', 'f32', 4, { guard: eq(X, 1) });
    const Q = r.buffer('Q', 'f32', 4, { guard: eq(X, 1) });
    const out = r.buffer('out', 'f32', 4);
    r.fill(P, 4, 1, { guard: eq(X, 1) });
    r.fill(Q, 4, 2, { guard: eq(X, 1) });
    r.swap(P, Q);
    r.copy(out, P, 4, { guard: eq(X, 1) });
    r.fill(out, 4, 7, { guard: eq(X, 0) });
    b.output('y', 'f32', [2, 4], { buffer: out, tile: [1, 4], at: [X, 0] });
    const res = emulate(b.build(), { mode: 'functional', inputs: new Map() });
    expect(Array.from(res.outputs![0].data)).toEqual([7, 7, 7, 7, 2, 2, 2, 2]);
  });

  it('the SRAM high-water of a core counts the buffers present on it only', () => {
    const b = new ProgramBuilder('hw', testTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    r.buffer('small', 'f32', 100);
    r.buffer('big', 'f32', Math.floor((CAP * 0.6) / 4), { guard: eq(X, 0) });
    const res = emulate(b.build());
    const bigBytes = Math.floor((CAP * 0.6) / 4) * 4;
    expect(res.sram.maxBytes).toBe(400 + bigBytes);
    expect(res.sram.maxCore).toEqual({ x: 0, y: 0 });
    expect(res.sram.histogram).toEqual([1, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  });
});

describe('buffer guards: grouping cores', () => {
  it('groups match a per-core evaluation of every guard', () => {
    const guards: (Expr | undefined)[] = [
      undefined, eq(X, 2), lt(Y, 3), eq(mod(X, 2), mod(Y, 2)), 1, 0, ge(X, 3), le(Y, 1), and(eq(X, 0), eq(Y, 0)), gt(X, Y),
    ];
    const width = 7, height = 5;
    const pr = buildPresence(guards.map((g) => (g === undefined ? null : compileExpr(g).fn)), guards, width, height);
    const masks = new Set<string>();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const want = guards.map((g) => (g === undefined || evalExpr(g, { x, y, w: width, h: height, i0: 0, i1: 0, i2: 0, i3: 0 }) !== 0 ? 1 : 0));
        const g = pr.groupOf[y * width + x];
        expect(Array.from(pr.mask.subarray(g * guards.length, (g + 1) * guards.length))).toEqual(want);
        masks.add(want.join(''));
      }
    }
    expect(pr.groups).toBe(masks.size);
    expect(Array.from(pr.count).reduce((s, n) => s + n, 0)).toBe(width * height);
    // Groups are numbered in the row-major order of their first core.
    expect(Array.from(pr.first)).toEqual([...pr.first].sort((a, b) => a - b));
  });

  it('loads a full wse2 region with hundreds of row and column buffers quickly', () => {
    const t = resolveTarget('wse2');
    const b = new ProgramBuilder('wafer', t);
    const r = b.region('all', { x: 0, y: 0, width: t.width, height: t.height });
    // 50 column buffers and 50 row buffers, sharing their bytes with other columns' / rows' ones.
    for (let k = 0; k < 50; k++) {
      r.buffer(`c${k}`, 'f32', 4, { offset: 16 * (k % 4), guard: eq(mod(X, 50), k) });
      r.buffer(`r${k}`, 'f32', 4, { offset: 64 + 16 * (k % 4), guard: eq(mod(Y, 50), k) });
    }
    const t0 = performance.now();
    const lp = loadProgram(b.build());
    expect(lp.regions[0].kernel.presence!.groups).toBe(50 * 50);
    expect(lp.regions[0].kernel.liveHighWater).toBe(32);
    expect(performance.now() - t0).toBeLessThan(20_000);
  }, 60_000);
});
