/**
 * A distributed GEMM as a whole program: one P×P region at the mesh origin running one GEMM kernel,
 * with inputs A and B and output C tiled over it, and the kernel's predicted cycles as the program's
 * prediction — what `wafer run` executes and checks (measured == predicted), and what the tests and
 * bench/gemm time. Also the algorithm registry: `gemmCost` prices an algorithm without generating
 * code (for select-kernels and the bench), `emitGemm` generates it into a caller's region.
 *
 * Layouts: C tile (y, x) on core (x, y). A and B: the block layout (tile (y, x)) — except for Cannon
 * and MeshGEMM with skew 'tiling', where they arrive pre-aligned (gemm-ring.ts) — and for the
 * transposed GEMM (C = A·Bᵀ), B is [N, K] in the block layout.
 */
import { diag } from '../../ir/diagnostics.js';
import { ProgramBuilder, X, Y } from '../../ir/program-builder.js';
import type { Expr, Program } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { checkGemmShape, tiles, type GemmShape } from './gemm.js';
import { blockExpr, emitRingGemm, ringColoursNeeded, type GemmBuffers, type Skew } from './gemm-ring.js';
import { ringCost } from './gemm-ring-cost.js';
import { emitSumma, summaColoursNeeded, summaCost } from './gemm-summa.js';
import { emitTransposedGemm, transposedColoursNeeded, transposedCost } from './gemm-transposed.js';
import type { EmittedKernel, KernelEnv } from './kernel.js';

/** Every GEMM kernel by name: the three C = A·B algorithms and the transposed C = A·Bᵀ. */
export const GEMM_KERNELS = ['meshgemm', 'cannon', 'summa', 'transposed'] as const;
export type GemmKernel = (typeof GEMM_KERNELS)[number];

export interface GemmOptions {
  /** Cannon and MeshGEMM: inputs arrive aligned ('tiling', weights) or in the block layout ('data', default). */
  skew?: Skew;
}

/** What a cost function reports, for select-kernels, the bench and the tests. */
export interface GemmCost {
  cycles: number;
  /** Each core's finish offset (x, y). */
  finish: Expr;
  /** Core-cycles the emulator counts as compute (matmul, swap, loop overheads), summed over the P² cores. */
  computeCoreCycles: number;
  /** Core-cycles in matmul instructions, summed over the cores. */
  matmulCoreCycles: number;
}

/** Colours the kernel needs. */
export function gemmColoursNeeded(kernel: GemmKernel, P: number, opts: GemmOptions = {}): number {
  switch (kernel) {
    case 'meshgemm':
    case 'cannon':
      return ringColoursNeeded(kernel, P, opts.skew ?? 'data');
    case 'summa':
      return summaColoursNeeded(P);
    case 'transposed':
      return transposedColoursNeeded(P);
  }
}

/** The exact cost of a GEMM kernel on `target`, without generating it. */
export function gemmCost(kernel: GemmKernel, shape: GemmShape, target: Target, opts: GemmOptions = {}): GemmCost {
  checkGemmShape(shape, kernel);
  switch (kernel) {
    case 'meshgemm':
    case 'cannon':
      return ringCost(kernel, shape, target, { skew: opts.skew ?? 'data' });
    case 'summa':
      return summaCost(shape, target);
    case 'transposed':
      return transposedCost(shape, target);
  }
}

/** Generates a GEMM kernel into env.region (operand tiles at element 0 of the buffers). */
export function emitGemm(kernel: GemmKernel, env: KernelEnv, shape: GemmShape, bufs: GemmBuffers, opts: GemmOptions = {}): EmittedKernel {
  switch (kernel) {
    case 'meshgemm':
    case 'cannon':
      return emitRingGemm(env, kernel, shape, bufs, { skew: opts.skew ?? 'data' });
    case 'summa':
      return emitSumma(env, shape, bufs);
    case 'transposed':
      return emitTransposedGemm(env, shape, bufs);
  }
}

/** The buffers a GEMM kernel keeps on every core (operands and scratch), in bytes as the builder packs them. */
export function gemmSram(kernel: GemmKernel, shape: GemmShape): { name: string; bytes: number }[] {
  const { m, k, n } = tiles(shape);
  const el = shape.type === 'f16' ? 2 : 4;
  const b = (name: string, elems: number) => ({ name, bytes: Math.ceil((elems * el) / 4) * 4 });
  const ops = [b('A', m * k), b('B', k * n), b('C', m * n)];
  if (shape.P === 1) return ops;
  switch (kernel) {
    case 'meshgemm':
    case 'cannon':
      return [...ops, b('A2', m * k), b('B2', k * n)];
    case 'summa':
      return [...ops, b('Ar', 2 * m * k), b('Br', 2 * k * n)];
    case 'transposed':
      return [...ops, b('B2', k * n), b('T', 2 * m * n), b('Tw', m * n)];
  }
}

/** Builds the standalone program of a GEMM kernel on the top-left P×P cores of `target`. */
export function gemmProgram(kernel: GemmKernel, shape: GemmShape, target: Target, opts: GemmOptions = {}): Program {
  if (!(GEMM_KERNELS as readonly string[]).includes(kernel)) {
    throw diag('W3007', `unknown GEMM kernel '${String(kernel)}'`, undefined, `use one of ${GEMM_KERNELS.join(', ')}`);
  }
  checkGemmShape(shape, kernel);
  const { M, K, N, P, type } = shape;
  if (P > target.width || P > target.height) {
    throw diag('W3007', `${kernel} GEMM on ${P}×${P} cores does not fit target ${target.name} (${target.width}×${target.height})`, target.name,
      'choose a smaller P or a larger mesh');
  }
  const need = gemmColoursNeeded(kernel, P, opts);
  if (need > target.router.colours) {
    throw diag('W3007', `${kernel} GEMM needs ${need} colours per router, target ${target.name} has ${target.router.colours}`, target.name,
      kernel === 'meshgemm' || kernel === 'cannon' ? "use skew 'tiling' (half the colours), or a target with more colours" : 'use a target with more colours');
  }
  const { m, k, n } = tiles(shape);
  const sram = gemmSram(kernel, shape);
  const bytes = sram.reduce((t, b) => t + b.bytes, 0);
  if (bytes > target.sram.bytesPerCore) {
    throw diag('W3007', `${kernel} GEMM ${M}×${K}×${N} on ${P}×${P} cores needs ${bytes} bytes of SRAM per core, more than the ${target.sram.bytesPerCore} of ${target.name}`,
      sram.map((b) => `${b.name} ${b.bytes} B`).join(', '), 'use more cores (a larger P), or f16');
  }
  const pb = new ProgramBuilder(`gemm-${kernel}-${M}x${K}x${N}-${type}-p${P}`, target);
  const rb = pb.region(kernel, { x: 0, y: 0, width: P, height: P });
  const A = rb.buffer('A', type, m * k), B = rb.buffer('B', type, k * n), C = rb.buffer('C', type, m * n);
  const colours = Array.from({ length: need }, (_, i) => i);
  const env: KernelEnv = { target, region: rb, width: P, height: P, colours: { colours }, loc: kernel };
  const out = emitGemm(kernel, env, shape, { A, B, C }, opts);
  for (const r of out.routes) rb.route({ colour: r.colour, input: r.input, outputs: r.outputs, guard: r.guard });
  const aligned = (kernel === 'meshgemm' || kernel === 'cannon') && (opts.skew ?? 'data') === 'tiling';
  const blk = aligned ? blockExpr(kernel, P) : X;
  pb.input('A', type, [M, K], { buffer: A, tile: [m, k], at: [Y, blk] });
  if (kernel === 'transposed') pb.input('B', type, [N, K], { buffer: B, tile: [n, k], at: [Y, X] });
  else pb.input('B', type, [K, N], { buffer: B, tile: [k, n], at: [aligned ? blk : Y, X] });
  pb.output('C', type, [M, N], { buffer: C, tile: [m, n], at: [Y, X] });
  pb.predictTotal(out.cycles);
  return pb.build();
}
