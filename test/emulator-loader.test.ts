/**
 * The loader (runtime/loader.ts) refuses a program that does not fit its target, with one distinct
 * code per problem (docs/diagnostics.md W5003–W5013) and the offending region, router, core, colour
 * or instruction named; every problem is reported at once. It stays fast at wafer scale.
 */
import { describe, expect, it } from 'vitest';
import { and, eq, gt, I, lt, mod, ProgramBuilder, sub, W, X, Y } from '../ir/program-builder.js';
import type { Program } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import { loadProgram } from '../runtime/emulate.js';
import { diagnosticsOf, testTarget } from './emulator-fixtures.js';

/** A row of P cores where core 0 sends 8 floats to core 1 on colour 1 (a valid program to break). */
function pair(P = 2, over: { colours?: number } = {}) {
  const b = new ProgramBuilder('pair', testTarget(P, 1, over));
  const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
  const c = r.buffer('c', 'f32', 8);
  return { b, r, c };
}

function shiftRoutes(r: ReturnType<typeof pair>['r']) {
  r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
  r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
}

const codes = (p: Program) => diagnosticsOf(() => loadProgram(p)).map((d) => d.code);

describe('loader diagnostics', () => {
  it('accepts a valid program', () => {
    const { b, r, c } = pair();
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.wait();
    shiftRoutes(r);
    const lp = loadProgram(b.build());
    expect(lp.usedCores).toBe(2);
    expect(Array.from(lp.coreRegion)).toEqual([0, 0]);
  });

  it('W5004: SRAM overflow names the region, the bytes needed vs capacity and the largest buffers', () => {
    const { b, r } = pair();
    r.buffer('big', 'f32', 12_000);
    r.buffer('bigger', 'f16', 10_000);
    const [d] = diagnosticsOf(() => loadProgram(b.build()));
    expect(d.code).toBe('W5004');
    expect(d.message).toBe('region row: the memory map reaches byte 68032 but a core has 49152 bytes of SRAM; largest buffers: big 48000 B, bigger 20000 B, c 32 B');
    expect(d.location).toBe('region row, core (0,0) and every core of the region');
  });

  it('W5005: buffers sharing bytes while both live; disjoint live ranges may share', () => {
    const { b, r } = pair();
    const a = r.buffer('a', 'f32', 16, { offset: 32 });
    const o = r.buffer('o', 'f32', 16, { offset: 64 });
    const f1 = r.fill(a, 16, 0);
    const f2 = r.fill(o, 16, 0);
    const [d] = diagnosticsOf(() => loadProgram(b.build()));
    expect(d).toMatchObject({ code: 'W5005', location: 'region row' });
    expect(d.message).toBe('buffers a [32, 96) and o [64, 128) share bytes while both are live (the whole kernel and the whole kernel)');
    a.live(f1, f1);
    o.live(f2, f2);
    // c (32 bytes) is live throughout; a and o never at once.
    expect(loadProgram(b.build()).regions[0].kernel.liveHighWater).toBe(32 + 64);
  });

  it('W5006: too many colours on a router names the router and its colours', () => {
    const { b, r, c } = pair(3, { colours: 2 });
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.send(c, 8, 2, { guard: eq(X, 0) });
    r.send(c, 8, 3, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.recv(c, 8, 2, { guard: eq(X, 1) });
    r.recv(c, 8, 3, { guard: eq(X, 2) });
    r.wait();
    for (const colour of [1, 2]) {
      r.route({ colour, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
      r.route({ colour, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    }
    r.route({ colour: 3, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 3, input: 'west', outputs: 'east', guard: eq(X, 1) });
    r.route({ colour: 3, input: 'west', outputs: 'ramp', guard: eq(X, 2) });
    const ds = diagnosticsOf(() => loadProgram(b.build()));
    expect(ds.map((d) => d.message)).toEqual([
      'router (0,0) has 3 colours configured (1, 2, 3); the target allows 2',
      'router (1,0) has 3 colours configured (1, 2, 3); the target allows 2',
    ]);
    expect(ds[0]).toMatchObject({ code: 'W5006', location: 'router (0,0)' });
  });

  it('W5007: a rule whose output leaves the mesh, or whose rectangle is off the mesh', () => {
    const { b, r, c } = pair();
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: ['ramp', 'east'], guard: eq(X, 1) });
    const [d] = diagnosticsOf(() => loadProgram(b.build()));
    expect(d).toMatchObject({ code: 'W5007', location: 'router (1,0), colour 1' });
    expect(d.message).toBe('route rule 1 sends colour 1 off the mesh: at router (1,0) its output east leads outside the 2×1 mesh');
    const { b: b2, r: r2 } = pair();
    r2.route({ colour: 4, rect: { x: 1, y: 0, width: 2, height: 1 }, input: 'west', outputs: 'ramp' });
    const [d2] = diagnosticsOf(() => loadProgram(b2.build({ validate: false })));
    expect(d2.code).toBe('W5007');
    expect(d2.message).toContain('route rule 0 (colour 4) covers routers (1,0)..(2,0), outside the 2×1 mesh');
  });

  it('W5008: two rules for one router, colour and input (guards evaluated where the rectangles meet)', () => {
    const { b, r, c } = pair(4);
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    shiftRoutes(r);
    // Disjoint by guard: fine. Overlapping at x = 2: refused.
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 3) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: gt(X, 1) });
    const [d] = diagnosticsOf(() => loadProgram(b.build()));
    expect(d).toMatchObject({ code: 'W5008', location: 'router (3,0), colour 1' });
    expect(d.message).toBe('route rules 2 and 3 both configure colour 1 entering router (3,0) through its west port');
  });

  it('W5009: a stream that loops, returns to its sender, or dead-ends — with the sending core and colour', () => {
    const b = new ProgramBuilder('loop', testTarget(2, 2));
    const r = b.region('sq', { x: 0, y: 0, width: 2, height: 2 });
    const c = r.buffer('c', 'f32', 4);
    r.send(c, 4, 1, { guard: and(eq(X, 0), eq(Y, 0)), loc: 'go' });
    r.route({ colour: 1, rect: { x: 0, y: 0, width: 1, height: 1 }, input: 'ramp', outputs: 'east' });
    r.route({ colour: 1, rect: { x: 1, y: 0, width: 1, height: 1 }, input: 'west', outputs: 'south' });
    r.route({ colour: 1, rect: { x: 1, y: 1, width: 1, height: 1 }, input: 'north', outputs: 'west' });
    r.route({ colour: 1, rect: { x: 0, y: 1, width: 1, height: 1 }, input: 'east', outputs: 'north' });
    r.route({ colour: 1, rect: { x: 0, y: 0, width: 1, height: 1 }, input: 'south', outputs: 'east' });
    const [d] = diagnosticsOf(() => loadProgram(b.build()));
    expect(d.code).toBe('W5009');
    expect(d.message).toBe('a stream sent by core (0,0) on colour 1 loops: it enters router (1,0) through its west port twice');
    expect(d.location).toBe('core (0,0), colour 1, region sq, instruction #0 (go)');

    const { b: b2, r: r2, c: c2 } = pair();
    r2.send(c2, 8, 1, { guard: eq(X, 0) });
    r2.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r2.route({ colour: 1, input: 'west', outputs: 'west', guard: eq(X, 1) });
    r2.route({ colour: 1, input: 'east', outputs: 'ramp', guard: eq(X, 0) });
    expect(diagnosticsOf(() => loadProgram(b2.build()))[0].message).toContain('on colour 1 returns to its sender');

    const { b: b3, r: r3, c: c3 } = pair();
    r3.send(c3, 8, 1, { guard: eq(X, 0) });
    r3.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    expect(diagnosticsOf(() => loadProgram(b3.build()))[0].message)
      .toBe('a stream sent by core (0,0) on colour 1 dead-ends at router (1,0): no rule for colour 1 takes it in through the west port');
  });

  it('W5009: the colour of a send inside a loop is evaluated per iteration', () => {
    const { b, r, c } = pair();
    r.loop(3, (body, i) => {
      body.send(c, 8, add1(mod(i, 3)), { guard: eq(X, 0) });
      body.recv(c, 8, add1(mod(i, 3)), { guard: eq(X, 1) });
      body.wait();
    });
    for (const colour of [1, 2]) {
      r.route({ colour, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
      r.route({ colour, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    }
    const ds = diagnosticsOf(() => loadProgram(b.build()));
    expect(ds.map((d) => [d.code, d.location])).toEqual([
      ['W5009', 'core (0,0), colour 3, region row, instruction #1 ()'],
      ['W5010', 'core (1,0), colour 3, region row, instruction #2 ()'],
    ]);
    void I;
  });

  it('W5010: a receive that no route can deliver names the core and colour', () => {
    const { b, r, c } = pair();
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.recv(c, 8, 1, { guard: eq(X, 0), loc: 'lonely' });
    shiftRoutes(r);
    const [d] = diagnosticsOf(() => loadProgram(b.build()));
    expect(d.code).toBe('W5010');
    expect(d.message).toBe('core (0,0) receives on colour 1, but no route delivers that colour to it from any core that sends on it');
    expect(d.location).toBe('core (0,0), colour 1, region row, instruction #2 (lonely)');
  });

  it('W5011: a tiling that addresses a tile outside the tensor', () => {
    const { b, c } = pair();
    b.input('x', 'f32', [1, 8], { buffer: c, tile: [1, 8], at: [X, 0] });
    const [d] = diagnosticsOf(() => loadProgram(b.build()));
    expect(d.code).toBe('W5011');
    expect(d.message).toBe('input x: core (1,0) of region row holds tile (1, 0), outside the 1×1 grid of 1×8 tiles of the 1×8 tensor');
    const { b: b2, c: c2 } = pair();
    b2.output('y', 'f32', [2, 16], { buffer: c2, tile: [1, 16], at: [X, 0] });
    expect(diagnosticsOf(() => loadProgram(b2.build()))[0].message).toContain('a 1×16 tile (16 elements) does not fit buffer c of region row (8 elements)');
  });

  it('W5012: malformed instructions, named by id', () => {
    const { b, r, c } = pair();
    const d2 = r.buffer('d', 'f32', 4);
    r.swap(c, d2);
    const [d] = diagnosticsOf(() => loadProgram(b.build({ validate: false })));
    expect(d).toMatchObject({ code: 'W5012', location: 'region row, instruction #0 ()' });
    expect(d.message).toBe('swap of buffers c (f32[8]) and d (f32[4]) of unequal type or length');
  });

  it('W5013: regions outside the mesh or overlapping', () => {
    const b = new ProgramBuilder('regions', testTarget(4, 4));
    b.region('a', { x: 0, y: 0, width: 3, height: 3 });
    b.region('b', { x: 2, y: 2, width: 2, height: 2 });
    b.region('c', { x: 3, y: 0, width: 2, height: 1 });
    const ds = diagnosticsOf(() => loadProgram(b.build({ validate: false })));
    expect(ds.map((d) => d.message)).toEqual([
      'regions a and b overlap, e.g. at core (2,2)',
      'region c covers cores (3,0)..(4,0), outside the 4×4 mesh of target mesh:4x4',
    ]);
  });

  it('reports every problem at once', () => {
    const { b, r, c } = pair();
    r.buffer('huge', 'f32', 20_000);
    r.recv(c, 8, 9);
    b.region('off', { x: 5, y: 0, width: 1, height: 1 });
    expect(codes(b.build({ validate: false }))).toEqual(['W5013', 'W5004', 'W5010']);
  });

  it('W5003 and W5001: newer format versions and broken targets are refused first', () => {
    const { b } = pair();
    const p = b.build();
    expect(diagnosticsOf(() => loadProgram({ ...p, version: 99 }))[0].code).toBe('W5003');
    const bad = { ...p, target: { ...p.target, link: { ...p.target.link, bitsPerCycle: 0 } } };
    expect(diagnosticsOf(() => loadProgram(bad))[0]).toMatchObject({ code: 'W5001', message: 'target.link.bitsPerCycle is 0; expected a finite positive number' });
  });

  it('validates a full wse2 program with a handful of rules quickly', () => {
    const t = resolveTarget('wse2');
    const b = new ProgramBuilder('wafer', t);
    const r = b.region('all', { x: 0, y: 0, width: t.width, height: t.height });
    const v = r.buffer('v', 'f32', 16);
    r.send(v, 16, 0, { guard: lt(X, sub(W, 1)) });
    r.recv(v, 16, 0, { guard: gt(X, 0) });
    r.wait();
    r.route({ colour: 0, input: 'ramp', outputs: 'east', guard: lt(X, sub(W, 1)) });
    r.route({ colour: 0, input: 'west', outputs: 'ramp', guard: gt(X, 0) });
    const t0 = performance.now();
    const lp = loadProgram(b.build());
    expect(lp.usedCores).toBe(750 * 994);
    expect(performance.now() - t0).toBeLessThan(20_000);
  }, 60_000);
});

function add1(e: ReturnType<typeof mod>) {
  return sub(e, -1);
}
