/**
 * Kernels on sub-regions (RegionBuilder.scoped): a GEMM kernel written for a Q×Q region runs on every
 * Q×Q sub-square of a 2Q×2Q region at once — four independent products (a batched MatMul whose batch
 * occupies the sub-squares) — with x → x mod Q, y → y mod Q, and its route rules repeated on each
 * sub-square. Each product must be right, and the whole must take exactly the kernel's own cost (the
 * sub-squares' streams never meet).
 */
import { describe, expect, it } from 'vitest';
import { GEMM_KERNELS, emitGemm, gemmColoursNeeded, gemmCost } from '../compiler/kernels/gemm-program.js';
import type { KernelEnv } from '../compiler/kernels/kernel.js';
import { evaluateNode } from '../ir/evaluate.js';
import { ProgramBuilder, W, X, Y, add, div, eq, lt, mod, mul } from '../ir/program-builder.js';
import { seededFloats } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { emulate } from '../runtime/emulate.js';

const Q = 4, M = 16, K = 8, N = 12;

describe('a kernel on every sub-square of a region', () => {
  it.each(GEMM_KERNELS)('%s: four batched products on the 4×4 sub-squares of an 8×8 region, in the kernel\'s own cycles', (kernel) => {
    const target = resolveTarget('mesh:8x8');
    const b = new ProgramBuilder(`sub-${kernel}`, target);
    const r = b.region('grid', { x: 0, y: 0, width: 2 * Q, height: 2 * Q });
    const m = M / Q, k = K / Q, n = N / Q;
    const [A, B, C] = [r.buffer('A', 'f32', m * k), r.buffer('B', 'f32', k * n), r.buffer('C', 'f32', m * n)];
    const colours = Array.from({ length: gemmColoursNeeded(kernel, Q) }, (_, i) => i);
    const env: KernelEnv = { target, region: r, width: Q, height: Q, colours: { colours }, loc: kernel };
    const shape = { M, K, N, P: Q, type: 'f32' as const };
    const e = r.scoped({ vars: { x: mod(X, Q), y: mod(Y, Q), w: Q, h: Q } }, () => emitGemm(kernel, env, shape, { A, B, C }));
    for (let sy = 0; sy < 2; sy++) {
      for (let sx = 0; sx < 2; sx++) {
        for (const rule of e.routes) b.route({ colour: rule.colour, rect: { x: sx * Q, y: sy * Q, width: Q, height: Q }, input: rule.input, outputs: rule.outputs, guard: rule.guard });
      }
    }
    // Batch b = 2·(y div Q) + (x div Q) sits on its sub-square; within it the kernel's own tiling.
    const batch = add(mul(div(Y, Q), 2), div(X, Q));
    const bRows = kernel === 'transposed' ? N : K, bCols = kernel === 'transposed' ? K : N;
    const bTile: [number, number] = kernel === 'transposed' ? [n, k] : [k, n];
    b.input('A', 'f32', [4, M, K], { buffer: A, tile: [m, k], at: [add(mul(batch, Q), mod(Y, Q)), mod(X, Q)] });
    b.input('B', 'f32', [4, bRows, bCols], { buffer: B, tile: bTile, at: [add(mul(batch, Q), mod(Y, Q)), mod(X, Q)] });
    b.output('C', 'f32', [4, M, N], { buffer: C, tile: [m, n], at: [add(mul(batch, Q), mod(Y, Q)), mod(X, Q)] });
    const cost = gemmCost(kernel, shape, target);
    b.predictTotal(cost.cycles);
    const program = b.build();
    const a = seededFloats(1, 4 * M * K), w = seededFloats(2, 4 * bRows * bCols);
    const run = emulate(program, { mode: 'functional', inputs: new Map([['A', a], ['B', w]]) });
    expect(run.totalCycles).toBe(cost.cycles);
    expect(run.prediction.matched).toBe(true);
    const out = run.outputs![0].data;
    for (let bi = 0; bi < 4; bi++) {
      const at = new Tensor('float32', [M, K], a.slice(bi * M * K, (bi + 1) * M * K));
      let bt = new Tensor('float32', [bRows, bCols], w.slice(bi * bRows * bCols, (bi + 1) * bRows * bCols));
      if (kernel === 'transposed') bt = evaluateNode({ op: 'Transpose', domain: '', name: 't', inputs: ['b'], outputs: ['t'], attrs: {} }, [bt], 18)[0];
      const ref = evaluateNode({ op: 'MatMul', domain: '', name: 'mm', inputs: ['a', 'b'], outputs: ['c'], attrs: {} }, [at, bt], 18)[0];
      const got = out.slice(bi * M * N, (bi + 1) * M * N);
      for (let i = 0; i < M * N; i++) expect(Math.abs(got[i] - (ref.data[i] as number))).toBeLessThan(1e-4);
    }
  });

  it('scoped() substitutes x, y, w, h in every expression, ANDs its guard into the top-level instructions, and does not nest', () => {
    const target = resolveTarget('mesh:8x8');
    const b = new ProgramBuilder('scope', target);
    const r = b.region('g', { x: 0, y: 0, width: 8, height: 8 });
    const buf = r.buffer('a', 'f32', 64);
    r.scoped({ vars: { x: mod(X, 4), w: 4 }, guard: lt(Y, 4) }, () => {
      r.fill(buf.at(X), W, 1, { guard: eq(X, 0) });
      r.loop(2, (body) => body.fill(buf.at(X), 1, 2));
      expect(() => r.scoped({ vars: {} }, () => 0)).toThrow(/W5012.*do not nest/);
    });
    r.fill(buf, W, 3);
    const [fill, loop, plain] = b.build({ validate: false }).regions[0].kernel.body;
    expect(fill).toMatchObject({ op: 'fill', n: 4, dst: { offset: { op: 'mod', a: { v: 'x' }, b: 4 } } });
    expect(fill.guard).toEqual({ op: 'and', a: { op: 'lt', a: { v: 'y' }, b: 4 }, b: { op: 'eq', a: { op: 'mod', a: { v: 'x' }, b: 4 }, b: 0 } });
    expect(loop.guard).toEqual({ op: 'lt', a: { v: 'y' }, b: 4 });
    expect(loop.op === 'loop' && loop.body[0].guard).toBeUndefined();
    expect(loop.op === 'loop' && loop.body[0].op === 'fill' && loop.body[0].dst.offset).toEqual({ op: 'mod', a: { v: 'x' }, b: 4 });
    expect(plain).toMatchObject({ op: 'fill', n: { v: 'w' } });
    expect(plain.guard).toBeUndefined();
  });
});

