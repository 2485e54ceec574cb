/**
 * The tile shift between regions (compiler/kernels/shift.ts): every core x < P of a 2P-wide region
 * hands its tile to core x + P. Checked in the emulator: the exact values arrive (f32 and f16, values
 * exact in both), the measured cycles equal the predicted ones, the kernel touches `src` only on
 * x < P and `dst` only on x ≥ P (both exist only there), and it runs unchanged inside a coordinate
 * scope (stage 1 → 2 of a 3-stage layout: columns [4, 12) of a 16-wide region).
 */
import { describe, expect, it } from 'vitest';
import type { KernelEnv } from '../compiler/kernels/kernel.js';
import { emitShiftEast, shiftEastCost, shiftTiming } from '../compiler/kernels/shift.js';
import { ProgramBuilder, X, Y, and, ge, lt, sub } from '../ir/program-builder.js';
import type { Expr, MemType } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import { emulate } from '../runtime/emulate.js';

interface Case {
  target: string;
  rows: number;
  P: number;
  n: number;
  type: MemType;
  /** The two stages' first column in a region `width` wide (default 0, the region 2P wide). */
  x0?: number;
  width?: number;
  /** Other machine figures than the preset's. */
  figures?: { issue: number; comm: number; loop: number; bitsPerCycle: number; hop: number; ramp: number; queueWords: number };
}

/** Values exact in f16 and f32 (multiples of 1/8 below 256). */
const values = (len: number, seed: number) => Float32Array.from({ length: len }, (_, i) => (((i * 37 + seed * 11) % 2001) - 1000) / 8);

function run(c: Case) {
  const target = resolveTarget(c.target);
  if (c.figures) {
    const f = c.figures;
    target.overhead = { ...target.overhead, issue: f.issue, comm: f.comm, loop: f.loop };
    target.link = { ...target.link, bitsPerCycle: f.bitsPerCycle, hopLatency: f.hop, rampLatency: f.ramp };
    target.router = { ...target.router, queueWords: f.queueWords };
  }
  const { rows, P, n, type } = c;
  const x0 = c.x0 ?? 0, width = c.width ?? 2 * P;
  const b = new ProgramBuilder('shift', target);
  const r = b.region('stages', { x: 0, y: 0, width, height: rows });
  const inLeft = and(ge(X, x0), lt(X, x0 + P)), inRight = and(ge(X, x0 + P), lt(X, x0 + 2 * P));
  const src = r.buffer('src', type, n, { guard: inLeft });
  const dst = r.buffer('dst', type, n, { guard: inRight });
  const env: KernelEnv = { target, region: r, width: 2 * P, height: rows, colours: { colours: [3, 5] }, loc: 'shift' };
  const s = { P, n, type };
  const emit = () => emitShiftEast(env, s, src, dst);
  const e = x0 === 0 && width === 2 * P ? emit() : r.scoped({ vars: { x: sub(X, x0), w: 2 * P }, guard: and(ge(X, x0), lt(X, x0 + 2 * P)) }, emit);
  for (const rule of e.routes) r.route({ ...rule, rect: { x: x0, y: 0, width: 2 * P, height: rows } });
  const rel: Expr = sub(X, x0);
  b.input('S', type, [rows, P * n], { buffer: src, tile: [1, n], at: [Y, rel], guard: inLeft });
  b.output('D', type, [rows, P * n], { buffer: dst, tile: [1, n], at: [Y, sub(rel, P)], guard: inRight });
  const cost = shiftEastCost(target, s);
  b.predictTotal(cost);
  const input = values(rows * P * n, P + n);
  const result = emulate(b.build(), { mode: 'functional', inputs: new Map([['S', input]]) });
  return { e, cost, input, result, target };
}

const cases: Case[] = [
  { target: 'mesh:8x4', rows: 4, P: 4, n: 16, type: 'f32' },
  { target: 'mesh:8x4', rows: 4, P: 4, n: 33, type: 'f16' },
  { target: 'mesh:8x4', rows: 4, P: 4, n: 3, type: 'f32' },
  { target: 'mesh:8x4', rows: 2, P: 1, n: 8, type: 'f32' },
  { target: 'mesh:8x4', rows: 3, P: 2, n: 20, type: 'f16' },
  { target: 'mesh:8x4', rows: 4, P: 3, n: 12, type: 'f32' },
  { target: 'mesh:16x16', rows: 8, P: 8, n: 24, type: 'f32' },
  { target: 'mesh:16x16', rows: 8, P: 8, n: 7, type: 'f16' },
  { target: 'mesh:16x16', rows: 5, P: 7, n: 10, type: 'f32' },
  // Stage 1 → 2 of three 4-wide stages (columns [4, 12) of a 16-wide region).
  { target: 'mesh:16x16', rows: 4, P: 4, n: 16, type: 'f32', x0: 4, width: 16 },
  { target: 'mesh:16x16', rows: 6, P: 4, n: 9, type: 'f16', x0: 4, width: 16 },
  // Zero issue and comm costs (every posting on one cycle), wide links, slow hops, big colour buffers.
  { target: 'mesh:8x4', rows: 4, P: 4, n: 16, type: 'f32', figures: { issue: 0, comm: 0, loop: 0, bitsPerCycle: 64, hop: 3, ramp: 2, queueWords: 64 } },
  { target: 'mesh:8x4', rows: 4, P: 3, n: 11, type: 'f16', figures: { issue: 3, comm: 0, loop: 5, bitsPerCycle: 128, hop: 2, ramp: 0, queueWords: 0 } },
  { target: 'mesh:16x16', rows: 3, P: 6, n: 40, type: 'f32', figures: { issue: 2, comm: 7, loop: 1, bitsPerCycle: 32, hop: 1, ramp: 3, queueWords: 4 } },
];

describe('tile shift between regions', () => {
  const label = (c: Case) => `${c.target} ${c.rows} rows, P = ${c.P}, ${c.n} × ${c.type}${c.x0 ? `, columns [${c.x0}, ${c.x0 + 2 * c.P}) of ${c.width}` : ''}${c.figures ? `, figures ${JSON.stringify(c.figures)}` : ''}`;
  it.each(cases.map((c) => [label(c), c] as const))('%s: moves every tile P columns east in the predicted cycles', (_, c) => {
    const { e, cost, input, result } = run(c);
    expect(e.cycles).toBe(cost);
    expect(e.finish).toBe(cost);
    expect(result.totalCycles).toBe(cost);
    expect(result.prediction.matched).toBe(true);
    expect(Array.from(result.outputs![0].data)).toEqual(Array.from(input));
  });

  it('costs P rounds of 2·post + max(issue, 2ρ + α + D), plus the loop overheads', () => {
    const target = resolveTarget('mesh:8x4');
    const { issue: I, comm, loop } = target.overhead;
    const post = I + comm, rho = target.link.rampLatency, alpha = target.link.hopLatency;
    for (const [P, n] of [[1, 4], [2, 1], [4, 16], [5, 100], [8, 64]]) {
      const round = 2 * post + Math.max(I, 2 * rho + alpha + n);
      const pairs = Math.floor(Math.max(0, P - 2) / 2);
      expect(shiftEastCost(target, { P, n, type: 'f32' })).toBe(P * round + (pairs > 0 ? I + pairs * loop : 0));
      expect(shiftTiming(target, { P, n, type: 'f32' }).round).toBe(round);
    }
    // f16 tiles move two elements per word.
    expect(shiftEastCost(target, { P: 4, n: 33, type: 'f16' })).toBe(shiftEastCost(target, { P: 4, n: 17, type: 'f32' }));
  });

  it('refuses a region narrower than 2P, a wrong buffer or no colour (W3007)', () => {
    const target = resolveTarget('mesh:8x4');
    const b = new ProgramBuilder('bad', target);
    const r = b.region('g', { x: 0, y: 0, width: 8, height: 4 });
    const a = r.buffer('a', 'f32', 8), d = r.buffer('d', 'f32', 8), h = r.buffer('h', 'f16', 8);
    const env = (width: number, colours: number[]): KernelEnv => ({ target, region: r, width, height: 4, colours: { colours }, loc: 'bad' });
    expect(() => emitShiftEast(env(6, [0]), { P: 4, n: 8, type: 'f32' }, a, d)).toThrow(/W3007.*8/);
    expect(() => emitShiftEast(env(8, [0]), { P: 4, n: 8, type: 'f32' }, a, h)).toThrow(/W3007.*h \(dst\)/);
    expect(() => emitShiftEast(env(8, [0]), { P: 4, n: 9, type: 'f32' }, a, d)).toThrow(/W3007.*a \(src\)/);
    expect(() => emitShiftEast(env(8, []), { P: 4, n: 8, type: 'f32' }, a, d)).toThrow(/W3007.*colour/);
  });
});
