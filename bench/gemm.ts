/**
 * `npm run bench -- gemm`: MeshGEMM vs Cannon vs SUMMA on the `wse2` target, fp16, square GEMMs of
 * 2160, 4320 and 8640 on 180², 360², 540² and 720² cores, timing only. Cycles come from the kernels'
 * exact cost functions (compiler/kernels/gemm-*.ts); the emulator runs the programs of the smallest
 * configurations (see EMULATED) and the table says, row by row, whether it did and whether the
 * measured cycles equal the predicted ones. Cannon and MeshGEMM include their data skew (the inputs
 * arrive in the block layout, as activations do); SUMMA needs none.
 *
 * Columns: cycles and time at the target's clock; compute efficiency = useful FLOPs (2·n³) /
 * (cycles × cores × peak fp16 FLOP/cycle of a core); comm share = the fraction of the cores' cycles
 * not spent in compute instructions (posting transfers, waiting, schedule padding); compile = wall
 * time to generate the program (gemmProgram: code, routes, tilings, validation).
 *
 * The closing lines check the behaviour published for WSE-2 (HARDWARE.md: MeshGEMM ahead of both at
 * 720², at least 70% efficiency there, SUMMA and Cannon slowing from 360² to 720² on the 2K GEMM)
 * against this model, and say with numbers where the model disagrees. The machine figures are the
 * preset's; nothing here tunes them.
 */
import { gemmCost, gemmProgram, type GemmKernel } from '../compiler/kernels/gemm-program.js';
import { matmulCost, peakFlopsPerCycle, tiles, type GemmShape } from '../compiler/kernels/gemm.js';
import { ringCost } from '../compiler/kernels/gemm-ring-cost.js';
import { resolveTarget } from '../ir/target-presets.js';
import { emulate } from '../runtime/emulate.js';
import { table } from './machine.js';

const ALGORITHMS: GemmKernel[] = ['meshgemm', 'cannon', 'summa'];
const SIZES = [2160, 4320, 8640];
const SIDES = [180, 360, 540, 720];
/** The emulator takes about a minute per 180² run; these rows fit a few minutes. */
const EMULATED = (size: number, side: number) => process.env.GEMM_BENCH_NO_EMULATION === undefined && size === 2160 && side === 180;

export interface GemmBenchRow {
  algorithm: GemmKernel;
  size: number;
  /** Side of the square core region. */
  cores: number;
  cycles: number;
  seconds: number;
  /** Useful FLOPs / (cycles × cores × peak FLOP per cycle), 0..1. */
  efficiency: number;
  /** Fraction of the cores' cycles outside compute instructions, 0..1. */
  commShare: number;
  compileSeconds: number;
  /** Whether the emulator ran the program; then whether it measured exactly the predicted cycles. */
  emulated: boolean;
  emulatedMatches?: boolean;
}

export function runGemmBench(): { text: string; json: GemmBenchRow[] } {
  const target = resolveTarget('wse2');
  const peak = peakFlopsPerCycle(target, 'f16');
  const rows: GemmBenchRow[] = [];
  for (const size of SIZES) {
    for (const side of SIDES) {
      for (const algorithm of ALGORITHMS) {
        const shape: GemmShape = { M: size, K: size, N: size, P: side, type: 'f16' };
        const t0 = performance.now();
        const program = gemmProgram(algorithm, shape, target, { skew: 'data' });
        const compileSeconds = (performance.now() - t0) / 1000;
        const cost = gemmCost(algorithm, shape, target, { skew: 'data' });
        const cores = side * side;
        const row: GemmBenchRow = {
          algorithm, size, cores: side, cycles: cost.cycles, seconds: cost.cycles / target.clockHz,
          efficiency: (2 * size ** 3) / (cost.cycles * cores * peak),
          commShare: 1 - cost.computeCoreCycles / (cores * cost.cycles),
          compileSeconds, emulated: false,
        };
        if (EMULATED(size, side)) {
          const r = emulate(program, { mode: 'timing' });
          row.emulated = true;
          row.emulatedMatches = r.totalCycles === cost.cycles && r.prediction.matched && Math.abs(r.share.compute - (1 - row.commShare)) < 1e-9;
        }
        rows.push(row);
      }
    }
  }
  const f = target;
  const text = [
    `target: ${f.name} (${f.width}×${f.height} cores, ${f.clockHz / 1e9} GHz, fp16 ${peak} FLOP/cycle/core, SRAM ${f.sram.readWordsPerCycle} reads + ` +
      `${f.sram.writeWordsPerCycle} write/cycle, link ${f.link.bitsPerCycle} bit/cycle, α ${f.link.hopLatency}, ramp ${f.link.rampLatency}, ` +
      `issue ${f.overhead.issue}, comm ${f.overhead.comm}, loop ${f.overhead.loop}, ${f.router.colours} colours)`,
    'GEMM: C = A·B, square n×n×n, fp16 (A, B, C), P×P cores, tiles n/P; Cannon and MeshGEMM include the data skew; timing only',
    table(
      ['algorithm', 'size', 'cores', 'tile', 'cycles', 'time µs', 'efficiency', 'comm share', 'compile s', 'emulated == predicted'],
      rows.map((r) => [r.algorithm, r.size, `${r.cores}²`, tiles({ M: r.size, K: r.size, N: r.size, P: r.cores, type: 'f16' }).m, r.cycles,
        (r.seconds * 1e6).toFixed(1), `${(100 * r.efficiency).toFixed(1)}%`, `${(100 * r.commShare).toFixed(1)}%`, r.compileSeconds.toFixed(3),
        r.emulated ? (r.emulatedMatches ? 'yes' : 'NO (mismatch)') : 'not run']),
    ),
    'emulated rows: the 2160 GEMM on 180² cores (each about a minute of emulation); the others are the exact cost functions, which the tests hold equal to the emulator',
    'with pre-aligned inputs (skew \'tiling\', e.g. weights placed once) Cannon and MeshGEMM skip the skew rounds (cycles):',
    table(['size', 'cores', 'meshgemm', 'cannon', 'summa'], SIZES.flatMap((size) => SIDES.map((side) => {
      const shape: GemmShape = { M: size, K: size, N: size, P: side, type: 'f16' };
      const c = (k: GemmKernel) => gemmCost(k, shape, target, { skew: 'tiling' }).cycles;
      return [size, `${side}²`, c('meshgemm'), c('cannon'), c('summa')];
    }))),
    ...verdict(rows),
  ].join('\n');
  return { text, json: rows };
}

/** One line: MeshGEMM's step and skew cycles for a GEMM of `size` on side² cores (wse2). */
function explainMeshgemm(size: number, side: number): string {
  const target = resolveTarget('wse2');
  const shape: GemmShape = { M: size, K: size, N: size, P: side, type: 'f16' };
  const c = ringCost('meshgemm', shape, target, { skew: 'data' });
  const f = c.figures, b = size / side;
  const mm = matmulCost(f, b, b, b, true);
  const step = Math.max(4 * f.post + c.gap + 2 * f.issue + mm, c.worstComm);
  const skew = c.skewRounds > 0 ? f.issue + c.skewRounds * (f.loop + Math.max(4 * f.post + c.gap + f.issue, c.worstComm) + 2 * f.issue) : 0;
  return `${size} (${b}×${b} tiles): a step takes ${step} cycles (+${f.loop / 2} loop) of which the matmul ${mm} (${(100 * mm / step).toFixed(0)}%); ` +
    `the skew takes ${c.skewRounds} rounds, ${skew} cycles (${(100 * skew / c.cycles).toFixed(0)}% of ${c.cycles})`;
}

/** The smallest tile side b for which MeshGEMM (data skew) on side² wse2 cores is at least 70% efficient. */
function smallestTile70(side: number): number {
  const target = resolveTarget('wse2');
  const peak = peakFlopsPerCycle(target, 'f16');
  for (let b = 1; b < 256; b++) {
    const n = b * side;
    const c = gemmCost('meshgemm', { M: n, K: n, N: n, P: side, type: 'f16' }, target, { skew: 'data' });
    if ((2 * n ** 3) / (c.cycles * side * side * peak) >= 0.7) return b;
  }
  return Infinity;
}

/** The published WSE-2 behaviour, checked against this model's rows. */
function verdict(rows: GemmBenchRow[]): string[] {
  const at = (a: GemmKernel, size: number, side: number) => rows.find((r) => r.algorithm === a && r.size === size && r.cores === side)!;
  const out = ['published behaviour (WaferLLM, WSE-2) vs this model:'];
  const ahead = SIZES.filter((s) => ALGORITHMS.every((a) => a === 'meshgemm' || at('meshgemm', s, 720).cycles < at(a, s, 720).cycles));
  out.push(`  MeshGEMM ahead of Cannon and SUMMA at 720² for every size: ${ahead.length === SIZES.length ? 'yes' : `no (only ${ahead.join(', ') || 'none'})`}`);
  const effs = SIZES.map((s) => at('meshgemm', s, 720));
  const low = effs.filter((r) => r.efficiency < 0.7);
  out.push(`  MeshGEMM at least 70% efficient at 720²: ${low.length === 0 ? 'yes' : 'no'} (${effs.map((r) => `${r.size}: ${(100 * r.efficiency).toFixed(1)}%`).join(', ')})`);
  if (low.length) {
    out.push('    the model disagrees for the smaller GEMMs; where MeshGEMM\'s cycles go at 720² (a shift step: 4 postings, the matmul, the');
    out.push('    wait, half a loop iteration; then the data skew\'s rounds of one ring step each):');
    for (const r of effs) out.push(`      ${explainMeshgemm(r.size, 720)}`);
    const b70 = smallestTile70(720);
    out.push(`    at 720² the model first reaches 70% with ${b70}×${b70} tiles (a ${720 * b70} GEMM); HARDWARE.md does not say at which sizes the`);
    out.push('    published 70% was measured');
  }
  const others = SIZES.flatMap((s) => (['summa', 'cannon'] as GemmKernel[]).map((a) => at(a, s, 720)));
  out.push(`  SUMMA and Cannon below 50% at 720²: ${others.every((r) => r.efficiency < 0.5) ? 'yes' : 'no'} (${others.map((r) => `${r.algorithm} ${r.size}: ${(100 * r.efficiency).toFixed(1)}%`).join(', ')})`);
  const slower = ['summa', 'cannon'].map((a) => {
    const r360 = at(a as GemmKernel, 2160, 360), r720 = at(a as GemmKernel, 2160, 720);
    return `${a} ${r360.cycles} → ${r720.cycles} cycles (${(r720.cycles / r360.cycles).toFixed(2)}×)`;
  });
  const bothSlower = ['summa', 'cannon'].every((a) => at(a as GemmKernel, 2160, 720).cycles > at(a as GemmKernel, 2160, 360).cycles);
  out.push(`  SUMMA and Cannon slower on 720² than on 360² for the 2160 GEMM: ${bothSlower ? 'yes' : 'no'} (${slower.join('; ')})`);
  const m = [at('meshgemm', 2160, 360).cycles, at('meshgemm', 2160, 720).cycles];
  out.push(`  MeshGEMM on the 2160 GEMM from 360² to 720²: ${m[0]} → ${m[1]} cycles (${(m[1] / m[0]).toFixed(2)}×)`);
  return out;
}
