/**
 * Layout grids in the mesh IR (ir/mesh.ts LayoutGrid): their text form (` grid [dims] perm [perm]
 * rows N y div/mod x div/mod` after the tile) round-trips exactly and leaves grid-less text unchanged,
 * malformed grids are parse errors at their location, and the verifier accepts the grids of
 * docs/mesh-ir.md's attention example while rejecting each broken field with its own message.
 */
import { describe, expect, it } from 'vitest';
import type { DimMap, LayoutGrid, MeshGraph, MeshValue } from '../ir/mesh.js';
import { parseMesh, printMesh } from '../ir/mesh-text.js';
import { fuzzMeshText, parseError, roundTrip } from './helpers/mesh-text.js';
import { verifyMesh } from '../ir/mesh-verify.js';

const P = 64;
const region = { x: 0, y: 0, width: P, height: P };

/** A value on the 64×64 region with `grid` and the all-`r` summary the distributed planner writes. */
function gridValue(shape: number[], grid: LayoutGrid | undefined, dims?: DimMap[], tile?: number[]): MeshValue {
  return { type: { dtype: 'float32', shape }, mem: 'f16', layout: { region: { ...region }, dims: dims ?? shape.map((): DimMap => 'r'), tile: tile ?? [...shape], ...(grid ? { grid } : {}) } };
}

/** Attention's Q: rows (batch, seq), columns (head, dim), one 32×16 tile per core. */
const qGrid = (): LayoutGrid => ({ dims: [2, 2, 1024, 512], perm: [0, 2, 1, 3], rows: 2, y: { div: 1, mod: 64 }, x: { div: 1, mod: 64 } });
/** The RoPE table without batch and head: replicated where Q's tile coordinates repeat. */
const ropeGrid = (): LayoutGrid => ({ dims: [1, 1, 1024, 512], perm: [0, 2, 1, 3], rows: 2, y: { div: 1, mod: 32 }, x: { div: 1, mod: 32 } });
/** A per-head slope [1,2,1,1]: core column x holds head (x div 32) mod 2, every row the same. */
const slopeGrid = (): LayoutGrid => ({ dims: [1, 2, 1, 1], perm: [0, 2, 1, 3], rows: 2, y: { div: 1, mod: 1 }, x: { div: 32, mod: 2 } });

function attention(): MeshGraph {
  const g: MeshGraph = { name: 'attn', opset: 18, target: 'mesh:64x64', inputs: ['q', 'rope', 'slope'], outputs: ['o'], values: new Map(), constants: new Map(), ops: [] };
  g.values.set('q', gridValue([2, 2, 1024, 512], qGrid()));
  g.values.set('rope', gridValue([1, 1, 1024, 512], ropeGrid()));
  g.values.set('slope', gridValue([1, 2, 1, 1], slopeGrid()));
  // a grid whose refinement splits a shape dim ([2,1024,1024] → [2,1024,2,512]) and carries an extra 1
  g.values.set('qt', gridValue([2, 1024, 1024], { dims: [2, 1024, 1, 2, 512], perm: [0, 1, 2, 3, 4], rows: 2, y: { div: 1, mod: 64 }, x: { div: 1, mod: 64 } }));
  g.values.set('o', gridValue([2, 2, 1024, 512], qGrid()));
  g.ops.push({ name: 'rope_mul', kernel: 'dist.eltwise', op: 'Mul', domain: '', attrs: {}, inputs: ['q', 'rope'], outputs: ['qt'], region: { ...region }, params: {} });
  g.ops.push({ name: 'scale', kernel: 'dist.eltwise', op: 'Mul', domain: '', attrs: {}, inputs: ['qt', 'slope'], outputs: ['o'], region: { ...region }, params: {} });
  return g;
}

describe('grid text form', () => {
  it('prints a grid after the tile and reads it back exactly', () => {
    const text = roundTrip(attention());
    expect(text).toContain('input %q : f32[2,2,1024,512] in f16 at (0,0 64x64) [r,r,r,r] tile [2,2,1024,512] grid [2,2,1024,512] perm [0,2,1,3] rows 2 y 1/64 x 1/64\n');
    expect(text).toContain('input %rope : f32[1,1,1024,512] in f16 at (0,0 64x64) [r,r,r,r] tile [1,1,1024,512] grid [1,1,1024,512] perm [0,2,1,3] rows 2 y 1/32 x 1/32\n');
    expect(text).toContain('input %slope : f32[1,2,1,1] in f16 at (0,0 64x64) [r,r,r,r] tile [1,2,1,1] grid [1,2,1,1] perm [0,2,1,3] rows 2 y 1/1 x 32/2\n');
    expect(text).toContain('%qt : f32[2,1024,1024] in f16 at (0,0 64x64) [r,r,r] tile [2,1024,1024] grid [2,1024,1,2,512] perm [0,1,2,3,4] rows 2 y 1/64 x 1/64 = dist.eltwise Mul(%q, %rope)');
  });

  it('round-trips scalars, empty grids, summaries with split dims, and invalid grids as they are', () => {
    const g = attention();
    g.values.set('q', gridValue([2, 2, 1024, 512], qGrid(), ['y', 'y', 'x', 'x'], [1, 2, 32, 256]));
    g.values.set('rope', gridValue([], { dims: [], perm: [], rows: 0, y: { div: 1, mod: 1 }, x: { div: 1, mod: 1 } }));
    g.values.set('slope', gridValue([1, 2, 1, 1], { dims: [0, -3], perm: [7], rows: -1, y: { div: -2, mod: 0 }, x: { div: 0, mod: -5 } }));
    const text = roundTrip(g);
    expect(text).toContain('[y,y,x,x] tile [1,2,32,256] grid [2,2,1024,512]');
    expect(text).toContain('in f16 at (0,0 64x64) [] tile [] grid [] perm [] rows 0 y 1/1 x 1/1\n');
    expect(text).toContain('grid [0,-3] perm [7] rows -1 y -2/0 x 0/-5\n');
  });

  it('leaves layouts without a grid byte-identical', () => {
    const g = attention();
    for (const v of g.values.values()) delete v.layout.grid;
    const text = roundTrip(g);
    expect(text).not.toContain('grid');
    expect(text).toContain('input %q : f32[2,2,1024,512] in f16 at (0,0 64x64) [r,r,r,r] tile [2,2,1024,512]\n');
  });

  it('accepts free spacing between the grid fields, and comments after an axis', () => {
    const text = `mesh @g opset 18 target "mesh:4x4" {\n  input %x : f32[4,4] in f32 at (0,0 4x4) [r,r] tile [4,4]\n    grid [ 4 , 4 ]\n perm [1,0] rows\t1 y\t2/2 // rows\n x 1/4\n  output %x\n}\n`;
    const back = parseMesh(text);
    expect(back.values.get('x')!.layout.grid).toEqual({ dims: [4, 4], perm: [1, 0], rows: 1, y: { div: 2, mod: 2 }, x: { div: 1, mod: 4 } });
    expect(printMesh(back)).toContain('tile [4,4] grid [4,4] perm [1,0] rows 1 y 2/2 x 1/4\n');
  });

  it('fuzz: every mutation of text with grids gives a mesh graph or a W2004 diagnostic', () => {
    const text = roundTrip(attention());
    fuzzMeshText(text, 20261122, ['/', '//', ' ', '\n', 'grid', 'perm', 'rows', 'x', 'y', '1', '0', '-', '[', ']', ',', '.', 'tile', '1/2']);
  });

  const head = 'mesh @g opset 18 target "mesh:2x2" {\n  input %x : f32[4] in f32 at (0,0 2x2) [r] tile [4] ';
  const cases: [string, string, RegExp, string][] = [
    ['a missing perm', 'grid [4] rows 1 y 1/2 x 1/2\n}', /expected 'perm \[permutation\]'/, 'line 2, column 63'],
    ['a float grid dim', 'grid [4.0] perm [0] rows 1 y 1/2 x 1/2\n}', /expected a refined dim \(an integer\), found '4.0'/, 'line 2, column 60'],
    ['a missing row count', 'grid [4] perm [0] rows y 1/2 x 1/2\n}', /expected the grid's row dim count \(an integer\), found 'y'/, 'line 2, column 77'],
    ['the axes swapped', 'grid [4] perm [0] rows 1 x 1/2 y 1/2\n}', /expected 'y div\/mod'/, 'line 2, column 79'],
    ['a missing x axis', 'grid [4] perm [0] rows 1 y 1/2\n}', /expected 'x div\/mod'/, 'line 3, column 1'],
    ['an axis with spaces around /', 'grid [4] perm [0] rows 1 y 1 / 2 x 1/2\n}', /malformed grid axis: expected 'y div\/mod' such as y 1\/64/, 'line 2, column 79'],
    ['an axis without its mod', 'grid [4] perm [0] rows 1 y 1 x 1/2\n}', /malformed grid axis/, 'line 2, column 79'],
    ['an axis with a float', 'grid [4] perm [0] rows 1 y 1/2.5 x 1/2\n}', /malformed grid axis/, 'line 2, column 79'],
    ['an axis running into a word', 'grid [4] perm [0] rows 1 y 1/2x 1/2\n}', /malformed grid axis/, 'line 2, column 79'],
    ['a huge axis number', 'grid [4] perm [0] rows 1 y 1/99999999999999999 x 1/2\n}', /malformed grid axis/, 'line 2, column 79'],
  ];
  for (const [what, tail, message, location] of cases) {
    it(`reports ${what} at its location`, () => {
      const e = parseError(head + tail);
      expect(e.diagnostics).toHaveLength(1);
      const d = e.diagnostics[0];
      expect(d.code).toBe('W2004');
      expect(d.message).toMatch(message);
      expect(d.location).toBe(location);
      expect(d.hint).toBeTruthy();
      expect(d.hint).not.toMatch(/docs\/ir\.md/);
    });
  }
});

describe('grid verifier', () => {
  const opts = { width: P, height: P };
  const messages = (g: MeshGraph): string[] => verifyMesh(g, opts).map((d) => d.message);

  it('accepts the attention grids, parsed back from their text too', () => {
    expect(messages(attention())).toEqual([]);
    expect(messages(parseMesh(printMesh(attention())))).toEqual([]);
  });

  it('accepts a grid summary mapping several dims to one axis (the legacy rule is only for layouts without grids)', () => {
    const g = attention();
    g.values.set('q', gridValue([2, 2, 1024, 512], qGrid(), ['y', 'x', 'y', 'x'], [1, 1, 32, 16]));
    expect(messages(g)).toEqual([]);
    delete g.values.get('q')!.layout.grid;
    expect(messages(g)).toEqual([
      "'%q': 2 dims are split along mesh x; at most one may be",
      "'%q': dims 0, 2 are split along mesh y but not consecutive; a run of consecutive dims may be merged",
    ]);
  });

  it('accepts refinements with extra 1s and shape 1s anywhere, and scalars', () => {
    const g = attention();
    const ok = (shape: number[], dims: number[], rows = 0): void => {
      const perm = dims.map((_, i) => i);
      g.values.set('slope', gridValue(shape, { dims, perm, rows, y: { div: 1, mod: 1 }, x: { div: 1, mod: 1 } }));
      expect(messages(g), `${shape} as ${dims}`).toEqual([]);
    };
    ok([1, 2, 1, 1], [2]);
    ok([1, 2, 1, 1], [1, 1, 2, 1, 1, 1]);
    ok([6, 1, 4], [2, 3, 1, 2, 2]);
    ok([6, 1, 4], [1, 6, 4, 1]);
    ok([], []);
    ok([], [1, 1], 2);
  });

  const bad: [string, Partial<LayoutGrid>, string[]][] = [
    ['a zero dim', { dims: [2, 0, 1024, 512] }, ['grid dims [2,0,1024,512] are not all positive integers']],
    ['a fractional dim', { dims: [2, 2, 1024, 511.5] }, ['grid dims [2,2,1024,511.5] are not all positive integers']],
    ['too few elements', { dims: [2, 2, 1024, 256] }, ['grid dims [2,2,1024,256] hold 1048576 elements but the type has 2097152']],
    ['dims that do not refine the shape', { dims: [4, 1024, 512], perm: [0, 1, 2], rows: 2 }, ['grid dims [4,1024,512] do not refine the shape [2,2,1024,512]; every shape dim is the product of consecutive grid dims']],
    ['dims across a shape boundary', { dims: [2, 2, 512, 1024] }, ['grid dims [2,2,512,1024] do not refine the shape [2,2,1024,512]; every shape dim is the product of consecutive grid dims']],
    ['a repeated perm entry', { perm: [0, 2, 2, 3] }, ['grid perm [0,2,2,3] is not a permutation of 0..3']],
    ['a short perm', { perm: [0, 2, 1] }, ['grid perm [0,2,1] is not a permutation of 0..3']],
    ['a perm entry out of range', { perm: [0, 2, 1, 4] }, ['grid perm [0,2,1,4] is not a permutation of 0..3']],
    ['negative rows', { rows: -1 }, ['grid rows -1 is not between 0 and the 4 grid dims']],
    ['too many rows', { rows: 5 }, ['grid rows 5 is not between 0 and the 4 grid dims']],
    ['a zero divisor', { y: { div: 0, mod: 64 } }, ['grid axis y 0/64 has divisor 0; it is a positive integer']],
    ['a zero mod', { x: { div: 1, mod: 0 } }, ['grid axis x 1/0 has 0 tiles; it is a positive integer']],
    ['a mod that does not divide the rows', { y: { div: 1, mod: 48 } }, ["grid axis y 1/48 splits the matrix's 2048 rows into 48 tiles, which does not divide them"]],
    ['a mod that does not divide the columns', { x: { div: 1, mod: 3 } }, ["grid axis x 1/3 splits the matrix's 1024 columns into 3 tiles, which does not divide them"]],
    ['an axis wider than the region', { x: { div: 2, mod: 64 } }, ["grid axis x 2/64 needs 128 cores along x (div × mod) but the region's width is 64"]],
    ['an axis taller than the region', { y: { div: 1, mod: 128 } }, ["grid axis y 1/128 needs 128 cores along y (div × mod) but the region's height is 64"]],
  ];
  for (const [what, change, expected] of bad) {
    it(`rejects ${what}`, () => {
      const g = attention();
      g.values.set('q', gridValue([2, 2, 1024, 512], { ...qGrid(), ...change }));
      const problems = verifyMesh(g, opts);
      expect(problems.map((d) => d.message)).toEqual(expected.map((m) => `'%q': ${m}`));
      for (const d of problems) {
        expect(d.code).toBe('W3001');
        expect(d.location).toBe("value '%q'");
        expect(d.hint).toBeTruthy();
      }
    });
  }

  it('still checks the summary of a grid layout: rank, dim maps and tiles', () => {
    const g = attention();
    g.values.set('q', gridValue([2, 2, 1024, 512], qGrid(), ['r', 'r', 'y'], [2, 2, 1024]));
    g.values.set('rope', gridValue([1, 1, 1024, 512], ropeGrid(), ['r', 'r', 'r', 'x'], [1, 1, 1000, 0]));
    expect(messages(g)).toEqual([
      "'%q': layout maps 3 dims but the type has rank 4",
      "'%q': tile [2,2,1024] has 3 sizes but the type has rank 4",
      "'%rope': dim 2 is not split ('r') so its tile is the whole dim 1024, not 1000",
      "'%rope': dim 3 (split along x) has tile 0; tiles of split dims are positive integers",
    ]);
  });
});
