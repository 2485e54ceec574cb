/**
 * The allreduce kernels along one mesh axis (compiler/kernels/allreduce*.ts): plans, closed-form
 * cycle counts checked against hand derivations from docs/runtime-model.md, the exact cost functions
 * checked core by core against the emulator (rendezvous and eager messages, several machines, both
 * axes, K-tree levels and group counts), values (sum, max, root-only), the reductions along an axis
 * (sum, max, mean of a tile), and the W3007 diagnostics.
 */
import { describe, expect, it } from 'vitest';
import { ALLREDUCE_ALGORITHMS, allreduceColours, allreduceCost, emitAllreduce, type AllreduceShape } from '../compiler/kernels/allreduce.js';
import { chainPlan, defaultGroups, endHeavySizes, ktreePlan } from '../compiler/kernels/allreduce-plan.js';
import { axisReduceCost, reduceAlongAxis, type AxisReduceShape } from '../compiler/kernels/allreduce-reduce.js';
import { ProgramBuilder } from '../ir/program-builder.js';
import { evalExpr, type Expr, type MemType, type Program } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { emulate, loadProgram } from '../runtime/emulate.js';
import { Executor } from '../runtime/executor.js';
import { ALPHA, BETA, diagnosticsOf, ISSUE, POST, RAMP, testTarget } from './emulator-fixtures.js';

const COLOURS = [3, 1, 4, 9, 5, 6, 7, 8, 2, 10, 11, 12, 13, 14, 15];

interface Built {
  program: Program;
  cycles: number;
  finish: number[];
  finishExpr: Expr;
  root: number;
}

/** A w×h region at (1, 1) running one allreduce of `src` into `dst`; inputs `src`, outputs `dst.<x>.<y>`. */
function build(t: Target, w: number, h: number, s: AllreduceShape, outputs = false): Built {
  const b = new ProgramBuilder('allreduce', t);
  const r = b.region('r', { x: 1, y: 1, width: w, height: h });
  const src = r.buffer('src', s.type, s.n), dst = r.buffer('dst', s.type, s.n);
  const e = emitAllreduce({ target: t, region: r, width: w, height: h, colours: { colours: COLOURS }, loc: 'ar' }, { ...s, src, dst });
  for (const rule of e.routes) r.route(rule);
  if (outputs) {
    b.input('src', s.type, [h * w, s.n], { buffer: src, tile: [1, s.n], at: [{ op: 'add', a: { op: 'mul', a: { v: 'y' }, b: w }, b: { v: 'x' } }, 0] });
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      b.output(`dst.${x}.${y}`, s.type, [s.n], { buffer: dst, tile: [1, s.n], at: [0, 0], view: [1, s.n], guard: { op: 'and', a: { op: 'eq', a: { v: 'x' }, b: x }, b: { op: 'eq', a: { v: 'y' }, b: y } } });
    }
  }
  b.predictTotal(e.cycles);
  return { program: b.build(), cycles: e.cycles, finish: e.cost.finish, finishExpr: e.finish, root: e.cost.root };
}

/** Each core's finish cycle as the emulator measures it (timing-only run), by region coordinates. */
function measuredFinish(p: Program): (x: number, y: number) => number {
  const ex = new Executor(loadProgram(p), { functional: false, bucketCycles: 256, maxEvents: 1e8 });
  ex.run();
  const { rect } = p.regions[0];
  return (x, y) => ex.cs.finish[(rect.y + y) * p.target.width + rect.x + x];
}

/** Checks the prediction core by core (and the finish expression) against the emulator. */
function expectExact(t: Target, L: number, s: AllreduceShape): void {
  const w = s.axis === 'x' ? L : 2, h = s.axis === 'x' ? 2 : L;
  const bt = build(t, w, h, s);
  const at = measuredFinish(bt.program);
  const got: number[] = [], want: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const p = s.axis === 'x' ? x : y;
    got.push(at(x, y));
    want.push(bt.finish[p]);
    expect(evalExpr(bt.finishExpr, { x, y, w, h, i0: 0, i1: 0, i2: 0, i3: 0 })).toBe(bt.finish[p]);
  }
  expect(got).toEqual(want);
  expect(Math.max(...got)).toBe(bt.cycles);
  const res = emulate(bt.program);
  expect(res.totalCycles).toBe(bt.cycles);
  expect(res.prediction.matched).toBe(true);
}

describe('plans', () => {
  it('the chain streams every core toward the last one', () => {
    expect(chainPlan(4)).toEqual({ length: 4, levels: [[{ root: 3, left: [0, 1, 2], right: [] }]], root: 3 });
    expect(chainPlan(1)).toEqual({ length: 1, levels: [], root: 0 });
  });

  it('group sizes differ by one, the larger ones farthest from the middle group', () => {
    expect(endHeavySizes(720, 27)).toEqual([...Array(9).fill(27), ...Array(9).fill(26), ...Array(9).fill(27)]);
    expect(endHeavySizes(3, 2)).toEqual([1, 2]);
    expect(endHeavySizes(10, 4)).toEqual([3, 2, 2, 3]);
    expect(defaultGroups(720, 2)).toBe(27);
    expect(defaultGroups(729, 3)).toBe(81);
    expect(defaultGroups(16, 2)).toBe(4);
    expect(defaultGroups(17, 2)).toBe(5);
  });

  it('K = 2 on 720 cores: 27 groups of 26 or 27 around middle roots, then the 27 roots around the global root', () => {
    const p = ktreePlan(720, 2);
    expect(p.levels).toHaveLength(2);
    expect(p.levels[0]).toHaveLength(27);
    expect(p.levels[0].map((g) => Math.max(g.left.length, g.right.length))).toEqual(Array(27).fill(13));
    expect(p.levels[1]).toEqual([{ root: p.root, left: p.levels[0].slice(0, 13).map((g) => g.root), right: p.levels[0].slice(14).map((g) => g.root).reverse() }]);
    expect(p.root).toBe(243 + 4 * 26 + 12);
  });
});

describe('closed forms (testTarget: issue 1, comm 3, ramp 2, α 3, β 5, rendezvous only)', () => {
  const t = testTarget(40, 12);

  it.each([2, 3, 7, 16])('chain over %i cores: 2·post + (L−1)(2ρ+α) + (L−2)β + D + max(2ρ + (L−1)α + D, copy + I)', (L) => {
    const n = 24; // f32: D = 24 words; the root's copy costs issue + 24, then its closing wait one issue
    const s: AllreduceShape = { algorithm: 'chain', axis: 'x', fn: 'sum', n, type: 'f32' };
    const D = n, copy = ISSUE + n;
    const formula = 2 * POST + (L - 1) * (2 * RAMP + ALPHA) + (L - 2) * BETA + D + Math.max(2 * RAMP + (L - 1) * ALPHA + D, copy + ISSUE);
    expect(allreduceCost(t, L, s).cycles).toBe(formula);
    expectExact(t, L, s);
  });

  it('K-tree, 9 cores in 3 groups of 3: two levels of two-sided single hops, ramp-serialized, then the multicast', () => {
    const n = 20, D = 20; // f32, rendezvous
    const combine = ISSUE + n; // binary add of n f32: max(n/1 lane, 2n/2 reads, n/1 write)
    const side = (hops: number) => POST + Math.max(POST, D) + 2 * RAMP + hops * ALPHA + D; // + side enters the root's ramp after the − side
    const T1 = side(1) + combine;
    const T2 = T1 + side(3) + combine;
    const total = T2 + POST + 2 * RAMP + 4 * ALPHA + D;
    const s: AllreduceShape = { algorithm: 'ktree', axis: 'y', fn: 'sum', n, type: 'f32', ktree: { k: 2, groups: 3 } };
    expect(allreduceCost(t, 9, s).cycles).toBe(total);
    expect(total).toBe(190);
    expectExact(t, 9, s);
  });

  it('ring over 2 cores: copy, two steps of {send, recv, wait} in two loops, copy back', () => {
    const n = 10, c = 5, D = 5; // f32
    const copy = ISSUE + n;
    const step = 2 * POST + 2 * RAMP + ALPHA + c; // both post, the stream starts at the receive's posting
    const formula = copy + ISSUE + 2 + step + ISSUE + 2 + step + copy; // loop: issue, then 2 per iteration
    const s: AllreduceShape = { algorithm: 'ring', axis: 'x', fn: 'max', n, type: 'f32' };
    expect(allreduceCost(t, 2, s).cycles).toBe(formula);
    expect(D).toBe(c);
    expectExact(t, 2, s);
  });
});

describe('exact against the emulator, core by core', () => {
  const machines: [string, Target][] = [
    ['testTarget, rendezvous', testTarget(40, 40)],
    ['testTarget, 4-word colour buffers', testTarget(40, 40, { queueWords: 4 })],
    ['mesh:40x40 (wse2 figures: eager up to 8 words)', resolveTarget('mesh:40x40')],
  ];
  for (const [name, t] of machines) {
    for (const algorithm of ALLREDUCE_ALGORITHMS) {
      it(`${algorithm} on ${name}`, () => {
        for (const L of [2, 3, 5, 8, 13, 21]) {
          for (const n of [1, 9, 24]) {
            for (const type of ['f32', 'f16'] as MemType[]) {
              const axis = (L + n) % 2 === 0 ? 'x' : 'y';
              expectExact(t, L, { algorithm, axis, fn: 'sum', n, type, broadcast: n !== 9 });
            }
          }
        }
      });
    }
  }

  it('K-tree levels and group counts: k = 1, 2, 3 and 2 groups, L/2 groups, L groups', () => {
    const t = resolveTarget('mesh:40x40');
    for (const L of [4, 9, 17, 30]) {
      for (const ktree of [{ k: 1 }, { k: 3 }, { k: 2, groups: 2 }, { k: 2, groups: L >> 1 }, { k: 2, groups: L }]) {
        for (const n of [2, 40]) expectExact(t, L, { algorithm: 'ktree', axis: 'x', fn: 'max', n, type: 'f16', ktree });
      }
    }
  });
});

describe('values', () => {
  const t = resolveTarget('mesh:12x12');
  const W = 5, H = 4, n = 6;
  const data = Float32Array.from({ length: W * H * n }, (_, i) => ((i * 37) % 23) - 11 + 0.25 * (i % 3));

  for (const algorithm of ALLREDUCE_ALGORITHMS) {
    for (const [fn, axis] of [['sum', 'x'], ['max', 'y']] as const) {
      it(`${algorithm} ${fn} along ${axis}: every core of each line holds the line's ${fn}`, () => {
        for (const type of ['f32', 'f16'] as const) {
          const vals = type === 'f16' ? data.map((v) => Math.round(v * 4) / 4) : data;
          const bt = build(t, W, H, { algorithm, axis, fn, n, type }, true);
          const res = emulate(bt.program, { mode: 'functional', inputs: new Map([['src', vals]]) });
          expect(res.totalCycles).toBe(bt.cycles);
          for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
            const out = res.outputs!.find((o) => o.name === `dst.${x}.${y}`)!.data;
            for (let i = 0; i < n; i++) {
              const line = axis === 'x' ? Array.from({ length: W }, (_, xx) => vals[(y * W + xx) * n + i]) : Array.from({ length: H }, (_, yy) => vals[(yy * W + x) * n + i]);
              const want = fn === 'sum' ? line.reduce((a, b) => a + b, 0) : Math.max(...line);
              expect(out[i]).toBe(want); // small integers and quarters: exact in f16 and f32
            }
          }
        }
      });
    }
  }

  it('broadcast: false leaves the sum on the root only (chain: the last core; K-tree: the middle group root)', () => {
    for (const algorithm of ['chain', 'ktree'] as const) {
      const bt = build(t, W, H, { algorithm, axis: 'x', fn: 'sum', n, type: 'f32', broadcast: false }, true);
      expect(bt.root).toBe(algorithm === 'chain' ? W - 1 : ktreePlan(W, 2).root);
      const res = emulate(bt.program, { mode: 'functional', inputs: new Map([['src', data]]) });
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const out = res.outputs!.find((o) => o.name === `dst.${x}.${y}`)!.data;
        const want = Array.from({ length: W }, (_, xx) => data[(y * W + xx) * n]).reduce((a, b) => a + b, 0);
        expect(out[0]).toBe(x === bt.root ? want : 0);
      }
    }
  });
});

describe('reductions along an axis', () => {
  const t = resolveTarget('mesh:12x12');
  const W = 4, H = 3, rows = 3, cols = 5;
  const tile = rows * cols;
  const data = Float32Array.from({ length: W * H * tile }, (_, i) => ((i * 13) % 17) - 8);

  function run(s: AxisReduceShape) {
    const b = new ProgramBuilder('reduce', t);
    const r = b.region('r', { x: 0, y: 0, width: W, height: H });
    const src = r.buffer('src', s.type, tile);
    const n = s.tileAxis === 'cols' ? rows : cols;
    const dst = r.buffer('dst', s.type, n);
    const e = reduceAlongAxis({ target: t, region: r, width: W, height: H, colours: { colours: COLOURS }, loc: 'red' }, { ...s, src, dst });
    for (const rule of e.routes) r.route(rule);
    b.input('src', s.type, [H * W, tile], { buffer: src, tile: [1, tile], at: [{ op: 'add', a: { op: 'mul', a: { v: 'y' }, b: W }, b: { v: 'x' } }, 0] });
    b.output('dst', s.type, [H * W, n], { buffer: dst, tile: [1, n], at: [{ op: 'add', a: { op: 'mul', a: { v: 'y' }, b: W }, b: { v: 'x' } }, 0] });
    b.predictTotal(e.cycles);
    const p = b.build();
    const res = emulate(p, { mode: 'functional', inputs: new Map([['src', data]]) });
    const at = measuredFinish(p);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) expect(at(x, y)).toBe(e.cost.finish[s.axis === 'x' ? x : y]);
    expect(res.totalCycles).toBe(e.cycles);
    return { out: res.outputs![0].data, n, cost: e.cost };
  }

  it('row max of a matrix split along x (softmax): local reduce over cols, then a max allreduce along x', () => {
    const { out, n } = run({ fn: 'max', axis: 'x', type: 'f32', rows, cols, tileAxis: 'cols' });
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let rr = 0; rr < n; rr++) {
      let m = -Infinity;
      for (let xx = 0; xx < W; xx++) for (let c = 0; c < cols; c++) m = Math.max(m, data[(y * W + xx) * tile + rr * cols + c]);
      expect(out[(y * W + x) * n + rr]).toBe(m);
    }
  });

  it('column mean of a matrix split along y (mean over rows): sum, allreduce along y, scale by 1/count', () => {
    const count = rows * H;
    const { out, n, cost } = run({ fn: 'mean', axis: 'y', type: 'f32', rows, cols, tileAxis: 'rows', count, algorithm: 'chain' });
    expect(cost.algorithm).toBe('chain');
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < n; c++) {
      let s = 0;
      for (let yy = 0; yy < H; yy++) for (let rr = 0; rr < rows; rr++) s += data[(yy * W + x) * tile + rr * cols + c];
      expect(out[(y * W + x) * n + c]).toBeCloseTo(s / count, 5);
    }
  });

  it("'auto' picks the algorithm with the fewest cycles", () => {
    const s: AxisReduceShape = { fn: 'sum', axis: 'x', type: 'f16', rows: 8, cols: 8, tileAxis: 'cols' };
    const auto = axisReduceCost(resolveTarget('wse2'), 720, s);
    const each = ALLREDUCE_ALGORITHMS.map((algorithm) => axisReduceCost(resolveTarget('wse2'), 720, { ...s, algorithm }).cycles);
    expect(auto.cycles).toBe(Math.min(...each));
    expect(auto.algorithm).toBe('ktree');
  });
});

describe('colours and diagnostics', () => {
  const t = resolveTarget('mesh:16x16');

  it('colours: chain 2, ring 1, K-tree 2 per level with two-sided groups + 1 for the broadcast', () => {
    const s = (algorithm: AllreduceShape['algorithm'], extra: Partial<AllreduceShape> = {}): AllreduceShape => ({ algorithm, axis: 'x', fn: 'sum', n: 4, type: 'f32', ...extra });
    expect(allreduceColours(16, s('chain'))).toBe(2);
    expect(allreduceColours(16, s('chain', { broadcast: false }))).toBe(1);
    expect(allreduceColours(16, s('ring'))).toBe(1);
    expect(allreduceColours(16, s('ktree'))).toBe(5);
    expect(allreduceColours(720, s('ktree', { ktree: { k: 3 } }))).toBe(7);
  });

  it('W3007 for too few colours, dst overlapping src, bad K-tree parameters, and a K-tree plan with no exact schedule', () => {
    const b = new ProgramBuilder('bad', t);
    const r = b.region('r', { x: 0, y: 0, width: 8, height: 8 });
    const src = r.buffer('src', 'f32', 16), dst = r.buffer('dst', 'f32', 8);
    const env = (colours: number[]) => ({ target: t, region: r, width: 8, height: 8, colours: { colours }, loc: 'ar' });
    const shape: AllreduceShape = { algorithm: 'ktree', axis: 'x', fn: 'sum', n: 8, type: 'f32' };
    const few = diagnosticsOf(() => emitAllreduce(env([1, 2]), { ...shape, src, dst }));
    expect(few[0].code).toBe('W3007');
    expect(few[0].message).toContain('needs 5 colours, 2 were given');
    expect(diagnosticsOf(() => emitAllreduce(env(COLOURS), { ...shape, src, dst: src.at(4) }))[0].message).toContain('dst overlaps src');
    expect(diagnosticsOf(() => allreduceCost(t, 8, { ...shape, ktree: { k: 1, groups: 3 } }))[0].code).toBe('W3007');
    expect(diagnosticsOf(() => allreduceCost(t, 8, { ...shape, ktree: { k: 2, groups: 9 } }))[0].message).toContain('groups = 9');
    expect(diagnosticsOf(() => allreduceCost(t, 8, { ...shape, n: 0 }))[0].message).toContain('n = 0');
    const odd = diagnosticsOf(() => allreduceCost(resolveTarget('wse2'), 30, { ...shape, n: 1, type: 'f16', ktree: { k: 5, groups: 10 } }));
    expect(odd[0].code).toBe('W3007');
    expect(odd[0].message).toContain('has no exact schedule');
  });
});
