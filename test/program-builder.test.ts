/**
 * The kernel builder: pre-order instruction ids independent of emission order, packed and aligned
 * buffer offsets, live ranges and predictions resolved to ids, loop counters by depth, literal
 * folding with the evaluator's semantics, constant data bytes, tiling defaults, and the misuse
 * diagnostics.
 */
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import {
  H, I, ProgramBuilder, W, X, Y, add, and, div, eq, ge, gt, le, lt, max, min, mod, mul, ne, or, select, sub,
} from '../ir/program-builder.js';
import { evalExpr, forEachInstr, type Expr, type ExprEnv, type Instr } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';

const target = () => resolveTarget('mesh:8x8');

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return `${e.diagnostics[0].code}: ${e.diagnostics[0].message}`;
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}

const env = (x: number, y: number, w = 8, h = 1, ...i: number[]): ExprEnv =>
  ({ x, y, w, h, i0: i[0] ?? 0, i1: i[1] ?? 0, i2: i[2] ?? 0, i3: i[3] ?? 0 });

const ids = (body: Instr[]) => {
  const out: [number, string][] = [];
  forEachInstr(body, (i) => out.push([i.id, i.op]));
  return out;
};

describe('expressions', () => {
  it('folds literal-only operations with the evaluator semantics (floor div, Euclidean mod)', () => {
    expect(add(1, 2, 3)).toBe(6);
    expect(div(-7, 2)).toBe(-4);
    expect(mod(-7, 3)).toBe(2);
    expect(div(5, 0)).toBe(0);
    expect(mul(0, -1)).toBe(0);
    expect(Object.is(mul(0, -1), -0)).toBe(false);
    expect(select(1, X, Y)).toBe(X);
    expect(select(0, X, Y)).toBe(Y);
    expect(min(4, 9, 2)).toBe(2);
    expect(and(1, 0)).toBe(0);
  });

  it('builds trees that evaluate per core', () => {
    const notLast = lt(X, sub(W, 1));
    expect([0, 1, 6, 7].map((x) => evalExpr(notLast, env(x, 0)))).toEqual([1, 1, 1, 0]);
    const ring = select(eq(mod(X, 2), 0), min(add(X, 2), sub(W, 1)), max(sub(X, 2), 0));
    expect([0, 1, 2, 5, 6, 7].map((x) => evalExpr(ring, env(x, 0)))).toEqual([2, 0, 4, 3, 7, 5]);
    const e: Expr = or(and(ge(Y, 1), le(Y, 2)), ne(add(X, I(1)), H));
    expect(evalExpr(e, env(3, 0, 8, 4, 0, 1))).toBe(0);
    expect(evalExpr(e, env(3, 0, 8, 5, 0, 1))).toBe(1);
    expect(gt(X, 0)).toEqual({ op: 'gt', a: { v: 'x' }, b: 0 });
    expect(add(X, 1, Y)).toEqual({ op: 'add', a: { op: 'add', a: X, b: 1 }, b: Y });
  });

  it('has four loop counters', () => {
    expect(I(3)).toEqual({ v: 'i3' });
    expect(codeOf(() => I(4))).toMatch(/^W5012: loop counter i4 does not exist/);
  });
});

describe('ids, buffers, loops', () => {
  it('numbers instructions in pre-order over regions, whatever order they were emitted in', () => {
    const b = new ProgramBuilder('ids', target());
    const r1 = b.region('a', { x: 0, y: 0, width: 2, height: 1 });
    const r2 = b.region('b', { x: 2, y: 0, width: 2, height: 1 });
    const buf1 = r1.buffer('t', 'f32', 4);
    const buf2 = r2.buffer('t', 'f32', 4);
    const w2 = r2.wait();
    const s1 = r1.send(buf1, 4, 0);
    const l = r1.loop(3, (body, i0) => {
      body.fill(buf1.at(i0), 1, 1);
      body.loop(2, (inner, i1) => inner.fill(buf1.at(add(i0, i1)), 1, 2));
    });
    r2.recv(buf2, 4, 0);
    r1.wait();
    const p = b.build();
    expect(ids(p.regions[0].kernel.body)).toEqual([[0, 'send'], [1, 'loop'], [2, 'fill'], [3, 'loop'], [4, 'fill'], [5, 'wait']]);
    expect(ids(p.regions[1].kernel.body)).toEqual([[6, 'wait'], [7, 'recv']]);
    expect([s1.id, l.id, w2.id]).toEqual([0, 1, 6]);
    const inner = p.regions[0].kernel.body[1];
    expect(inner.op === 'loop' && inner.body[1].op === 'loop' && inner.body[1].body[0]).toMatchObject({
      op: 'fill', dst: { buf: 0, offset: { op: 'add', a: { v: 'i0' }, b: { v: 'i1' } } },
    });
  });

  it('packs buffers at 4-byte-aligned offsets, or at an explicit offset', () => {
    const b = new ProgramBuilder('mem', target());
    const r = b.region('r', { x: 0, y: 0, width: 1, height: 1 });
    r.buffer('h', 'f16', 3); // 6 bytes → next at 8
    r.buffer('f', 'f32', 5); // 8..28
    r.buffer('o', 'f32', 2, { offset: 100 }); // 100..108
    r.buffer('g', 'f16', 1); // 108..110
    r.buffer('i', 'i32', 1); // 112
    r.wait();
    const bufs = b.build().regions[0].kernel.buffers;
    expect(bufs.map((x) => [x.name, x.type, x.offset, x.length])).toEqual([
      ['h', 'f16', 0, 3], ['f', 'f32', 8, 5], ['o', 'f32', 100, 2], ['g', 'f16', 108, 1], ['i', 'i32', 112, 1],
    ]);
    expect(bufs.every((x) => !('live' in x))).toBe(true);
  });

  it('resolves live ranges and predictions to instruction ids', () => {
    const b = new ProgramBuilder('live', target());
    const r = b.region('r', { x: 0, y: 0, width: 4, height: 1 });
    const a = r.buffer('a', 'f32', 8);
    const c = r.buffer('c', 'f32', 8);
    r.fill(c, 8, 0);
    const f = r.fill(a, 8, 1);
    let inner!: ReturnType<typeof r.send>;
    r.loop(2, (l) => { inner = l.send(a, 8, 3); });
    const w = r.wait();
    a.live(f, w);
    b.predictTotal(99).predict(inner, add(mul(I(0), 10), X)).predict(f, 1);
    const p = b.build();
    expect(p.regions[0].kernel.buffers.map((x) => x.live)).toEqual([[1, 4], undefined]);
    expect(p.predicted).toEqual({ totalCycles: 99, instructions: [{ instr: 3, start: add(mul(I(0), 10), X) }, { instr: 1, start: 1 }] });
  });

  it('gives each loop body its counter and refuses a fifth level', () => {
    const b = new ProgramBuilder('loops', target());
    const r = b.region('r', { x: 0, y: 0, width: 1, height: 1 });
    const counters: Expr[] = [];
    expect(codeOf(() => r.loop(1, (l0, i0) => {
      counters.push(i0);
      l0.loop(1, (l1, i1) => {
        counters.push(i1);
        l1.loop(1, (l2, i2) => {
          counters.push(i2);
          l2.loop(1, (l3, i3) => {
            counters.push(i3);
            expect(l3.depth).toBe(4);
            l3.loop(1, () => undefined);
          });
        });
      });
    }))).toMatch(/^W5012: loops nest deeper than 4/);
    expect(counters).toEqual([I(0), I(1), I(2), I(3)]);
  });

  it('applies setLoc to later instructions of the region, including loop bodies; loc overrides', () => {
    const b = new ProgramBuilder('loc', target());
    const r = b.region('r', { x: 0, y: 0, width: 1, height: 1 });
    r.wait();
    r.setLoc('Gemm_1');
    r.loop(1, (l) => { l.wait(); l.wait({ loc: 'x' }); });
    const locs: string[] = [];
    forEachInstr(b.build().regions[0].kernel.body, (i) => locs.push(i.loc));
    expect(locs).toEqual(['', 'Gemm_1', 'Gemm_1', 'x']);
  });
});

describe('data, tilings, routes', () => {
  it('stores constant values little-endian in the declared type', () => {
    const b = new ProgramBuilder('data', target());
    const r = b.region('r', { x: 0, y: 0, width: 2, height: 1 });
    const f = r.buffer('f', 'f32', 2);
    const h = r.buffer('h', 'f16', 2);
    const i = r.buffer('i', 'i32', 2);
    const raw = r.buffer('raw', 'f32', 1);
    r.wait();
    b.constant('f', 'f32', [1, 2], { buffer: f, tile: [1, 2], at: [0, 0] }, [1, -2]);
    b.constant('h', 'f16', [1, 2], { buffer: h, tile: [1, 2], at: [0, 0] }, new Float32Array([1, 65504]));
    b.constant('i', 'i32', [1, 2], { buffer: i, tile: [1, 2], at: [0, 0] }, new Int32Array([-1, 258]));
    b.constant('raw', 'f32', [1, 1], { buffer: raw, tile: [1, 1], at: [0, 0] }, new Uint8Array([0, 0, 0x80, 0x3f]));
    const c = b.build().constants;
    expect([...c[0].data!]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    expect([...c[1].data!]).toEqual([0x00, 0x3c, 0xff, 0x7b]);
    expect([...c[2].data!]).toEqual([0xff, 0xff, 0xff, 0xff, 2, 1, 0, 0]);
    expect([...c[3].data!]).toEqual([0, 0, 0x80, 0x3f]);
    expect(c[0].tiling).toEqual({ region: 0, buffer: 0, rows: 1, cols: 2, tileRows: 1, tileCols: 2, rowTile: 0, colTile: 0 });
  });

  it('views an input as [leading dims, last dim] unless told otherwise', () => {
    const b = new ProgramBuilder('io', target());
    b.region('unused', { x: 0, y: 0, width: 1, height: 1 });
    const r = b.region('r', { x: 1, y: 0, width: 2, height: 3 });
    const t = r.buffer('t', 'f32', 4 * 4);
    r.wait();
    b.input('a', 'f32', [2, 3, 8], { buffer: t, tile: [3, 4], at: [Y, X] });
    b.input('s', 'f32', [], { buffer: t, tile: [1, 1], at: [0, 0], guard: eq(add(X, Y), 0) });
    b.output('o', 'f32', [6, 8], { buffer: t, tile: [2, 8], at: [Y, 0], view: [12, 4] });
    const p = b.build();
    expect(p.inputs[0].tiling).toEqual({ region: 1, buffer: 0, rows: 6, cols: 8, tileRows: 3, tileCols: 4, rowTile: Y, colTile: X });
    expect(p.inputs[1].tiling).toMatchObject({ rows: 1, cols: 1, guard: eq(add(X, Y), 0) });
    expect(p.outputs[0].tiling).toMatchObject({ rows: 12, cols: 4 });
  });

  it('defaults a region route rule to the region rectangle and accepts one output or several', () => {
    const b = new ProgramBuilder('routes', target());
    const r = b.region('r', { x: 2, y: 3, width: 4, height: 1 });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east' });
    b.route({ colour: 2, rect: { x: 0, y: 0, width: 1, height: 8 }, input: 'north', outputs: ['south', 'ramp'], guard: lt(Y, 7) });
    expect(b.build().routes).toEqual([
      { colour: 1, rect: { x: 2, y: 3, width: 4, height: 1 }, input: 'ramp', outputs: ['east'] },
      { colour: 2, rect: { x: 0, y: 0, width: 1, height: 8 }, input: 'north', outputs: ['south', 'ramp'], guard: lt(Y, 7) },
    ]);
  });
});

describe('build', () => {
  it('returns independent programs on each call', () => {
    const b = new ProgramBuilder('twice', target());
    const r = b.region('r', { x: 0, y: 0, width: 1, height: 1 });
    const a = r.buffer('a', 'f32', 4);
    r.fill(a, 4, 0);
    b.constant('k', 'f32', [1, 4], { buffer: a, tile: [1, 4], at: [0, 0] }, [1, 2, 3, 4]);
    const p1 = b.build();
    const p2 = b.build();
    expect(p2).toStrictEqual(p1);
    p1.constants[0].data![0] = 7;
    p1.regions[0].rect.width = 3;
    p1.target.width = 1;
    expect(p2.constants[0].data![0]).toBe(0);
    expect(p2.regions[0].rect.width).toBe(1);
    expect(b.build().target.width).toBe(8);
  });

  it('reports misuse as W5012 diagnostics', () => {
    const b = new ProgramBuilder('bad', target());
    const r1 = b.region('one', { x: 0, y: 0, width: 1, height: 1 });
    const r2 = b.region('two', { x: 1, y: 0, width: 1, height: 1 });
    const a = r1.buffer('a', 'f32', 4);
    const c = r1.buffer('c', 'f16', 4);
    expect(codeOf(() => r2.send(a, 4, 0))).toBe('W5012: buffer "a" belongs to region "one", not "two"');
    r1.swap(a, c);
    expect(codeOf(() => b.build())).toMatch(/^W5012: swap of unequal buffers 0 \(f32\[4\]\) and 1 \(f16\[4\]\)/);
    expect(b.build({ validate: false }).regions[0].kernel.body[0]).toMatchObject({ op: 'swap', a: 0, b: 1 });
    const b2 = new ProgramBuilder('pred', target());
    const w = b2.region('r', { x: 0, y: 0, width: 1, height: 1 }).wait();
    b2.predict(w, 0);
    expect(codeOf(() => b2.build())).toMatch(/^W5012: instruction predictions without a total/);
    const b3 = new ProgramBuilder('foreign', target());
    b3.region('r', { x: 0, y: 0, width: 1, height: 1 }).wait();
    b3.predictTotal(1).predict(w, 0);
    expect(codeOf(() => b3.build())).toMatch(/^W5012: prediction names an instruction that is not part of this program/);
    const b4 = new ProgramBuilder('unbuilt', target());
    const ref = b4.region('r', { x: 0, y: 0, width: 1, height: 1 }).wait();
    expect(() => ref.id).toThrow(/only after ProgramBuilder.build/);
  });
});
