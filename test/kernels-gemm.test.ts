/**
 * The distributed GEMM kernels (compiler/kernels/gemm-*.ts): MeshGEMM, Cannon, SUMMA and the
 * transposed GEMM. Each must compute the product (functional emulation against a plain product and
 * the reference MatMul), and its cost function must equal what the emulator measures — the total,
 * every core's finish, and the compute share — on targets whose figures all differ, on WSE-2
 * figures, on degenerate figures (no overheads, wide links, eager buffers), for P = 1 … 8 and
 * rectangular tiles. The schedules are padded to their worst transfer; the tests also hold that
 * worst case tight (the padding is not slack), and check the rings, the colour and rule counts
 * (O(1) in P), the diagnostics and byte-identical rebuilds.
 */
import { describe, expect, it } from 'vitest';
import { evaluateNode } from '../ir/evaluate.js';
import type { Node } from '../ir/graph.js';
import { roundFloat16 } from '../ir/dtype.js';
import { encodeProgram } from '../ir/program-codec.js';
import { ProgramBuilder } from '../ir/program-builder.js';
import { evalExpr, forEachInstr, type Program } from '../ir/program.js';
import { seededFloats } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';
import { emulate } from '../runtime/emulate.js';
import { Executor } from '../runtime/executor.js';
import { loadProgram } from '../runtime/loader.js';
import { gemmColoursNeeded, gemmCost, gemmProgram, gemmSram, emitGemm, type GemmKernel } from '../compiler/kernels/gemm-program.js';
import { cannonRing, hops, maxHops, meshgemmRing, next } from '../compiler/kernels/gemm-rings.js';
import { ringCost } from '../compiler/kernels/gemm-ring-cost.js';
import { summaCost } from '../compiler/kernels/gemm-summa.js';
import { blockAt } from '../compiler/kernels/gemm-ring.js';
import type { GemmShape } from '../compiler/kernels/gemm.js';
import { diagnosticsOf } from './emulator-fixtures.js';

type Skew = 'tiling' | 'data';

/** mesh:PxP with every figure distinct (a formula that swaps two of them fails), rendezvous only. */
function distinct(P: number): Target {
  const t = resolveTarget(`mesh:${P}x${P}`);
  t.overhead = { issue: 1, comm: 3, loop: 2 };
  t.link = { ...t.link, rampLatency: 2, hopLatency: 3 };
  t.relayCycles = 5;
  t.router = { ...t.router, queueWords: 0 };
  return t;
}

const TARGETS: [string, (P: number) => Target][] = [
  ['distinct figures', distinct],
  ['WSE-2 figures', (P) => resolveTarget(`mesh:${P}x${P}`)],
  ['no overheads', (P) => { const t = distinct(P); t.overhead = { issue: 0, comm: 0, loop: 0 }; return t; }],
  ['slow hops and relays', (P) => { const t = distinct(P); t.link.hopLatency = 9; t.link.rampLatency = 4; t.relayCycles = 30; t.overhead = { issue: 2, comm: 7, loop: 3 }; return t; }],
  ['wide links, eager buffers', (P) => { const t = distinct(P); t.link.bitsPerCycle = 96; t.router.queueWords = 64; return t; }],
  ['no ramp latency, free relays', (P) => { const t = distinct(P); t.link.rampLatency = 0; t.link.hopLatency = 1; t.relayCycles = 0; return t; }],
];

const KERNELS: [GemmKernel, Skew][] = [['meshgemm', 'tiling'], ['meshgemm', 'data'], ['cannon', 'tiling'], ['cannon', 'data'], ['summa', 'data'], ['transposed', 'data']];

function shapeOf(P: number, [m, k, n]: number[], type: 'f32' | 'f16'): GemmShape {
  return { M: P * m, K: P * k, N: P * n, P, type };
}

/** Runs the program and returns every core's finish cycle (the executor's own record). */
function finishes(p: Program): Float64Array {
  const ex = new Executor(loadProgram(p), { functional: false, bucketCycles: 256, maxEvents: 1e9 });
  ex.run();
  return ex.cs.finish;
}

function inputs(kernel: GemmKernel, s: GemmShape): { A: Float32Array; B: Float32Array } {
  const r = (v: Float32Array) => (s.type === 'f16' ? v.map(roundFloat16) : v);
  return { A: r(seededFloats(11, s.M * s.K)), B: r(seededFloats(12, s.K * s.N)) };
}

/** C = A·B (or A·Bᵀ with B [N, K]) in float64, and Σ|a·b| per element (for the f16 error bound). */
function product(kernel: GemmKernel, s: GemmShape, A: Float32Array, B: Float32Array): { C: Float64Array; mag: Float64Array } {
  const C = new Float64Array(s.M * s.N), mag = new Float64Array(s.M * s.N);
  for (let i = 0; i < s.M; i++) {
    for (let j = 0; j < s.N; j++) {
      for (let q = 0; q < s.K; q++) {
        const v = A[i * s.K + q] * (kernel === 'transposed' ? B[j * s.K + q] : B[q * s.N + j]);
        C[i * s.N + j] += v;
        mag[i * s.N + j] += Math.abs(v);
      }
    }
  }
  return { C, mag };
}

describe('GEMM kernels compute the product', () => {
  const cases: [GemmKernel, Skew, number, number[], 'f32' | 'f16'][] = [];
  for (const [kernel, skew] of KERNELS) {
    for (const P of [1, 2, 3, 4, 5]) {
      cases.push([kernel, skew, P, [2, 3, 4], 'f32'], [kernel, skew, P, [3, 2, 2], 'f16']);
    }
  }
  it.each(cases)('%s (%s skew) on %i×%i cores, tiles m×k×n = %j, %s', (kernel, skew, P, tile, type) => {
    const s = shapeOf(P, tile, type);
    const { A, B } = inputs(kernel, s);
    const p = gemmProgram(kernel, s, distinct(P), { skew });
    const res = emulate(p, { mode: 'functional', inputs: new Map([['A', A], ['B', B]]) });
    const got = res.outputs![0].data;
    expect(res.outputs![0].shape).toEqual([s.M, s.N]);
    const { C, mag } = product(kernel, s, A, B);
    // f32: the same sums in another order; f16: C is rounded to f16 once per step (P roundings).
    const tol = (i: number) => (type === 'f32' ? 1e-5 * (1 + mag[i]) : P * 2 ** -10 * (1 + mag[i]));
    for (let i = 0; i < C.length; i++) expect(Math.abs(got[i] - C[i])).toBeLessThanOrEqual(tol(i));
    if (type === 'f32') {
      const bT = kernel === 'transposed' ? new Tensor('float32', [s.N, s.K], B) : new Tensor('float32', [s.K, s.N], B);
      const node: Node = kernel === 'transposed'
        ? { op: 'Gemm', domain: '', name: 'g', inputs: ['A', 'B'], outputs: ['C'], attrs: { transB: { kind: 'int', value: 1 } } }
        : { op: 'MatMul', domain: '', name: 'g', inputs: ['A', 'B'], outputs: ['C'], attrs: {} };
      const ref = evaluateNode(node, [new Tensor('float32', [s.M, s.K], A), bT], 17)[0].data as Float32Array;
      for (let i = 0; i < C.length; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThanOrEqual(1e-5 * (1 + mag[i]));
    }
  });
});

describe('GEMM cost functions equal the emulator', () => {
  const cases: [string, GemmKernel, Skew, number, number[], 'f32' | 'f16'][] = [];
  const tilesFor = [[1, 1, 1], [2, 3, 5], [6, 2, 4]];
  for (const [name] of TARGETS) {
    for (const [kernel, skew] of KERNELS) {
      for (const P of [2, 3, 6, 7]) cases.push([name, kernel, skew, P, tilesFor[P % 3], P % 2 ? 'f16' : 'f32']);
    }
  }
  it.each(cases)('%s: %s (%s skew), %i×%i cores, tiles %j, %s: total, per-core finish and compute share', (name, kernel, skew, P, tile, type) => {
    const t = TARGETS.find((x) => x[0] === name)![1](P);
    const s = shapeOf(P, tile, type);
    const p = gemmProgram(kernel, s, t, { skew });
    const cost = gemmCost(kernel, s, t, { skew });
    const res = emulate(p, { mode: 'timing' });
    expect(res.totalCycles).toBe(cost.cycles);
    expect(p.predicted!.totalCycles).toBe(cost.cycles);
    expect(res.prediction.matched).toBe(true);
    expect(res.share.compute).toBeCloseTo(cost.computeCoreCycles / (P * P * cost.cycles), 12);
    const fin = finishes(p);
    for (let y = 0; y < P; y++) {
      for (let x = 0; x < P; x++) expect(fin[y * t.width + x]).toBe(evalExpr(cost.finish, { x, y, w: P, h: P, i0: 0, i1: 0, i2: 0, i3: 0 }));
    }
  });

  it.each([['meshgemm', 32], ['cannon', 24], ['summa', 32], ['transposed', 24]] as const)('%s on %i² WSE-2 cores (fp16, 4×4 tiles)', (kernel, P) => {
    const t = resolveTarget(`mesh:${P}x${P}`);
    const s = shapeOf(P, [4, 4, 4], 'f16');
    const res = emulate(gemmProgram(kernel, s, t), { mode: 'timing' });
    expect(res.totalCycles).toBe(gemmCost(kernel, s, t).cycles);
  });
});

describe('closed forms', () => {
  // Hand-derived from docs/runtime-model.md for the 'distinct' target: issue 1, comm 3 (post 4),
  // loop 2, ramp 2, α 3; f32 matmul lanes 1, R 2, W 1.
  it('MeshGEMM, tiling skew, P = 4, 2×2×2 f32 tiles', () => {
    const post = 4, I = 1, Lp = 2;
    const mm0 = 8, mm1 = 8; // max(2·2·2 / 1, ⌈(4 + 4 (+ 4)) / 2⌉, 4)
    const DA = 4, DB = 4, H = 2;
    const Wc = 2 * 2 + H * 3 + DB + Math.max(4 * post, 3 * post + DA); // 30
    const step = (mm: number) => Math.max(4 * post + 2 * I + mm, Wc); // 30: communication-bound
    // step 0, one unrolled pair (loop issue + iteration overhead + 2 steps), the last matmul
    const total = step(mm0) + (I + Lp + 2 * step(mm1)) + I + mm1;
    expect(Wc).toBe(30);
    expect(total).toBe(30 + 1 + 2 + 60 + 9);
    const s = shapeOf(4, [2, 2, 2], 'f32');
    expect(gemmCost('meshgemm', s, distinct(4), { skew: 'tiling' }).cycles).toBe(total);
    expect(emulate(gemmProgram('meshgemm', s, distinct(4), { skew: 'tiling' })).totalCycles).toBe(total);
  });

  it('Cannon pays the wrap edge: P − 1 hops per step instead of 2', () => {
    const s = shapeOf(8, [2, 2, 2], 'f32');
    const c = ringCost('cannon', s, distinct(8), { skew: 'tiling' }), m = ringCost('meshgemm', s, distinct(8), { skew: 'tiling' });
    expect(c.worstComm - m.worstComm).toBe((7 - 2) * 3);
  });

  it('SUMMA, P = 3, 2×2×2 f32 tiles: each step waits for the farthest corner of its broadcast', () => {
    const post = 4, I = 1, Lp = 2, a = 3, ramp = 2, DA = 4, DB = 4;
    const Wc = (r: number) => { const d = Math.max(r, 2 - r); return 2 * ramp + d * a + DB + Math.max(2 * post, post + DA + (d - 1) * a); };
    expect([Wc(0), Wc(1), Wc(2)]).toEqual([25, 19, 25]); // 4 + 2·3 + 4 + max(8, 4 + 4 + 3); 4 + 3 + 4 + max(8, 8)
    const step = (r: number, mm: number) => Math.max(2 * post + 2 * I + mm, Wc(r));
    const total = step(0, -I) + step(1, 8) + I + (Lp + step(2, 8)) + I + 8;
    expect(summaCost(shapeOf(3, [2, 2, 2], 'f32'), distinct(3)).cycles).toBe(total);
    expect(emulate(gemmProgram('summa', shapeOf(3, [2, 2, 2], 'f32'), distinct(3))).totalCycles).toBe(total);
  });
});

describe('the padding is the worst case, not slack', () => {
  /** The program without its delay instructions: the first wait then ends at the real completions. */
  function unpadded(p: Program): Program {
    const q = structuredClone(p);
    delete q.predicted;
    const strip = (body: Program['regions'][0]['kernel']['body']) => {
      const kept = body.filter((i) => i.op !== 'delay');
      for (const i of kept) if (i.op === 'loop') i.body = strip(i.body);
      return kept;
    };
    q.regions[0].kernel.body = strip(q.regions[0].kernel.body);
    return q;
  }
  function firstWaitEnd(p: Program): number {
    const lp = loadProgram(p);
    const ex = new Executor(lp, { functional: false, bucketCycles: 256, maxEvents: 1e9, traceCores: lp.usedCores });
    ex.run();
    let first = -1;
    forEachInstr(p.regions[0].kernel.body, (i) => { if (first < 0 && i.op === 'wait') first = i.id; });
    return Math.max(...ex.spans.filter((s) => s.instr === first).map((s) => s.end));
  }
  it.each([[4, 'meshgemm'], [5, 'meshgemm'], [6, 'cannon'], [7, 'cannon']] as const)('ring, P = %i (%s): the latest completion of step 0 is Wc', (P, kernel) => {
    const t = distinct(P), s = shapeOf(P, [1, 2, 3], 'f32');
    const c = ringCost(kernel, s, t, { skew: 'tiling' });
    expect(c.pad0).toBeGreaterThan(0);
    expect(firstWaitEnd(unpadded(gemmProgram(kernel, s, t, { skew: 'tiling' })))).toBe(c.worstComm);
  });
  it.each([3, 4, 7])('SUMMA, P = %i: the prologue broadcast from corner 0 ends at Wc(0)', (P) => {
    const t = distinct(P), s = shapeOf(P, [1, 2, 3], 'f32');
    expect(firstWaitEnd(unpadded(gemmProgram('summa', s, t)))).toBe(summaCost(s, t).worstComm(0));
  });
});

describe('rings, colours and routes', () => {
  it('INTERLEAVE rings follow HARDWARE.md and every edge has at most 2 hops', () => {
    const order = (P: number) => { const r = meshgemmRing(P); const o = [0]; for (let i = 1; i < P; i++) o.push(next(r, o[i - 1], 1)); return o; };
    expect(order(5)).toEqual([0, 2, 4, 3, 1]);
    expect(order(6)).toEqual([0, 2, 4, 5, 3, 1]);
    for (let P = 3; P <= 12; P++) {
      const r = meshgemmRing(P);
      expect(maxHops(r)).toBe(2);
      for (let i = 0; i < P; i++) {
        const from = next(r, i, -1), to = next(r, i, 1);
        if (i === 0) expect(from).toBe(1);
        else if (i === P - 1) expect(P % 2 === 0 ? from : to).toBe(P - 2);
        else if (i % 2 === 0) { expect(from).toBe(Math.max(i - 2, 0)); expect(to).toBe(Math.min(i + 2, P - 1)); }
        else { expect(from).toBe(Math.min(i + 2, P - 1)); expect(to).toBe(Math.max(i - 2, 0)); }
      }
    }
    expect(hops(cannonRing(9), 0, 1)).toBe(8);
    expect(maxHops(cannonRing(9))).toBe(8);
  });

  it('tiles are aligned: A and B blocks agree on every core at every step, and each core sees every block once', () => {
    for (const kind of ['cannon', 'meshgemm'] as const) {
      for (const P of [2, 5, 6]) {
        for (let x = 0; x < P; x++) for (let y = 0; y < P; y++) {
          expect(new Set(Array.from({ length: P }, (_, s) => blockAt(kind, P, x, y, s))).size).toBe(P);
        }
      }
    }
    expect(blockAt('cannon', 5, 1, 2, 0)).toBe(3); // the textbook (x + y + s) mod P
  });

  it.each(['meshgemm', 'cannon', 'summa', 'transposed'] as GemmKernel[])('%s uses O(1) colours and route rules, and loads with exactly the colours it declares', (kernel) => {
    const rules = (P: number) => gemmProgram(kernel, shapeOf(P, [1, 1, 1], 'f32'), resolveTarget(`mesh:${P}x${P}`)).routes.length;
    expect(rules(48)).toBe(rules(24));
    const need = gemmColoursNeeded(kernel, 24, {});
    expect(need).toBe({ meshgemm: 12, cannon: 4, summa: 2, transposed: 5 }[kernel]);
    expect(gemmColoursNeeded(kernel, 48, {})).toBe(need);
    const t = resolveTarget('mesh:9x9');
    t.router.colours = gemmColoursNeeded(kernel, 9, {});
    expect(() => loadProgram(gemmProgram(kernel, shapeOf(9, [1, 1, 1], 'f32'), t))).not.toThrow();
  });

  it('a tiling skew needs half the colours of a data skew', () => {
    expect(gemmColoursNeeded('meshgemm', 8, { skew: 'tiling' })).toBe(6);
    expect(gemmColoursNeeded('cannon', 8, { skew: 'tiling' })).toBe(2);
  });
});

describe('diagnostics and determinism', () => {
  const t = resolveTarget('mesh:4x4');
  it('refuses sizes not divisible by P (W3007, naming them)', () => {
    const d = diagnosticsOf(() => gemmProgram('meshgemm', { M: 8, K: 9, N: 10, P: 4, type: 'f32' }, t));
    expect(d[0].code).toBe('W3007');
    expect(d[0].message).toContain('K = 9, N = 10 not divisible by the region side P = 4');
  });
  it('refuses a kernel that needs more colours than the target has', () => {
    const few = resolveTarget('mesh:4x4');
    few.router.colours = 6;
    expect(diagnosticsOf(() => gemmProgram('meshgemm', shapeOf(4, [1, 1, 1], 'f32'), few, { skew: 'data' }))[0].message).toContain('needs 12 colours per router');
    expect(() => gemmProgram('meshgemm', shapeOf(4, [1, 1, 1], 'f32'), few, { skew: 'tiling' })).not.toThrow();
  });
  it('refuses tiles that do not fit SRAM, with the per-buffer breakdown', () => {
    const d = diagnosticsOf(() => gemmProgram('summa', shapeOf(2, [64, 64, 64], 'f32'), resolveTarget('mesh:2x2')))[0];
    expect(d.code).toBe('W3007');
    expect(d.message).toContain(`needs ${gemmSram('summa', shapeOf(2, [64, 64, 64], 'f32')).reduce((a, b) => a + b.bytes, 0)} bytes`);
    expect(d.location).toBe('A 16384 B, B 16384 B, C 16384 B, Ar 32768 B, Br 32768 B');
  });
  it('refuses a region that is not P×P, and too few colours handed to the generator', () => {
    const pb = new ProgramBuilder('g', t);
    const r = pb.region('g', { x: 0, y: 0, width: 4, height: 2 });
    const A = r.buffer('A', 'f32', 1), B = r.buffer('B', 'f32', 1), C = r.buffer('C', 'f32', 1);
    const env = { target: t, region: r, width: 4, height: 2, colours: { colours: [0, 1] }, loc: 'g' };
    expect(diagnosticsOf(() => emitGemm('summa', env, shapeOf(4, [1, 1, 1], 'f32'), { A, B, C }))[0].message).toContain('the region is 4×2 cores');
    expect(diagnosticsOf(() => emitGemm('cannon', { ...env, height: 4 }, shapeOf(4, [1, 1, 1], 'f32'), { A, B, C }))[0].message).toContain('needs 4 colours, 2 were given');
  });
  it('builds byte-identical programs', () => {
    for (const [kernel, skew] of KERNELS) {
      const a = encodeProgram(gemmProgram(kernel, shapeOf(5, [2, 3, 1], 'f16'), resolveTarget('mesh:5x5'), { skew }));
      const b = encodeProgram(gemmProgram(kernel, shapeOf(5, [2, 3, 1], 'f16'), resolveTarget('mesh:5x5'), { skew }));
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    }
  });
});
