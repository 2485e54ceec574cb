/**
 * Distributed GEMM, the common part: the problem (C[M×N] = A[M×K]·B[K×N] on a P×P region of cores,
 * each holding one tile of A, B and C), its validation, the machine figures the cost functions read
 * (all from the Target, docs/runtime-model.md). The algorithms live in
 * gemm-ring.ts (Cannon and MeshGEMM: a compute-shift on a ring), gemm-summa.ts (SUMMA) and
 * gemm-transposed.ts (C = A·Bᵀ); gemm-program.ts holds the registry and wraps any of them into a
 * standalone program.
 *
 * Tiles: with m = M/P, k = K/P, n = N/P, core (x, y) ends with C tile (y, x) (rows y·m…, columns
 * x·n…). Sizes must divide by P (a W3007 diagnostic otherwise: padding is the caller's choice, made
 * before the kernel, so the kernel never computes on invented zeros it would have to document).
 * Element type: 'f32', or 'f16' for A, B and C alike (the WSE's fp16 FMA, 4 lanes on WSE-2; the
 * emulator accumulates each tile product in float32 and rounds C to f16 once per step).
 * docs/kernels-gemm.md describes every kernel and derives its cost.
 */
import { diag } from '../../ir/diagnostics.js';
import { lanesFor, matmulCycles } from '../../ir/program-cost.js';
import { wordsFor, type MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';

export type GemmType = 'f32' | 'f16';

/** The GEMM a kernel computes, on a P×P region. */
export interface GemmShape {
  M: number;
  K: number;
  N: number;
  /** Cores per side of the square region. */
  P: number;
  type: GemmType;
  /**
   * 'f32': A and B are f16 but C accumulates in an f32 buffer (the fp16-with-fp32-accumulation FMA:
   * `flopsPerCycle.float16Acc32`), so the product is rounded to f16 once, by the caller (the
   * transposed GEMM's partial sums then travel in f32). Default: C is `type`.
   */
  acc?: 'f32';
}

/** Largest tile side the kernels accept (a guard against sizes no SRAM holds, before any arithmetic). */
const MAX_SIDE = 1 << 24;

/** Checks a GEMM shape for a P×P region: positive integers, divisibility by P. */
export function checkGemmShape(s: GemmShape, where: string): void {
  const bad: string[] = [];
  for (const [name, v] of [['M', s.M], ['K', s.K], ['N', s.N], ['P', s.P]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > MAX_SIDE) bad.push(`${name} = ${v} is not an integer from 1 to ${MAX_SIDE}`);
  }
  if (s.type !== 'f32' && s.type !== 'f16') bad.push(`type '${String(s.type)}' is not f32 or f16`);
  if (s.acc !== undefined && !(s.acc === 'f32' && s.type === 'f16')) bad.push(`accumulation '${String(s.acc)}' needs f16 operands and is 'f32'`);
  if (bad.length) throw diag('W3007', `GEMM ${where}: ${bad.join('; ')}`, where, 'give positive integer sizes and a P×P region');
  const nd = (['M', 'K', 'N'] as const).filter((d) => s[d] % s.P !== 0);
  if (nd.length) {
    throw diag('W3007', `GEMM ${where}: ${nd.map((d) => `${d} = ${s[d]}`).join(', ')} not divisible by the region side P = ${s.P}`, where,
      'pad the operands to a multiple of P (zero rows / columns), or choose a region whose side divides the sizes');
  }
}

/** Tile sides of a shape. */
export function tiles(s: GemmShape): { m: number; k: number; n: number } {
  return { m: s.M / s.P, k: s.K / s.P, n: s.N / s.P };
}

/**
 * The figures of a target every GEMM cost function uses, named as docs/kernels-gemm.md names them.
 * `post` is the cycle a transfer instruction posts at, counted from its issue (issue + comm).
 */
export interface Figures {
  issue: number;
  comm: number;
  loop: number;
  post: number;
  ramp: number;
  hop: number;
  relay: number;
  queueWords: number;
  /** 32-bit words a link moves per cycle. */
  wpc: number;
  /** FMA lanes of a matmul whose operands are all of the GEMM's type. */
  lanes: number;
  R: number;
  W: number;
}

export function figures(t: Target, type: MemType, acc: MemType = type): Figures {
  return {
    issue: t.overhead.issue,
    comm: t.overhead.comm,
    loop: t.overhead.loop,
    post: t.overhead.issue + t.overhead.comm,
    ramp: t.link.rampLatency,
    hop: t.link.hopLatency,
    relay: t.relayCycles,
    queueWords: t.router.queueWords,
    wpc: t.link.bitsPerCycle / 32,
    lanes: lanesFor(t, [type, type], acc),
    R: t.sram.readWordsPerCycle,
    W: t.sram.writeWordsPerCycle,
  };
}

/** Cycles of a matmul m×k×n beyond its issue (docs/runtime-model.md, the matmul row). */
export function matmulCost(f: Figures, m: number, k: number, n: number, accumulate: boolean): number {
  return matmulCycles(m, k, n, accumulate, f.lanes, f.R, f.W);
}

/** Cycles a stream of `elems` elements of `type` occupies each link (its duration D). */
export function streamCycles(f: Figures, type: MemType, elems: number): number {
  return Math.ceil(wordsFor(type, elems) / f.wpc);
}

/** Peak FLOP per cycle of one core for a GEMM of this type (the efficiency denominator). */
export function peakFlopsPerCycle(t: Target, type: GemmType): number {
  return type === 'f16' ? t.flopsPerCycle.float16 : t.flopsPerCycle.float32;
}
