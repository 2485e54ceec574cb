/**
 * Distributed GEMV on a P×P region (decode: y[N] = x[K]·W[K×N]), the MeshGEMV scheme of WaferLLM
 * (HARDWARE.md, "Distributed GEMV and allreduce"): W is split in P×P tiles, x along one mesh axis
 * and replicated along the other; every core multiplies its x tile by its W tile (`matmul` with
 * m = 1), then the partial sums are allreduced along the axis x is split on (allreduce.ts: K-tree,
 * chain or ring), leaving y split along the other axis.
 *
 * Layouts, with kt = ⌈K/P⌉, nt = ⌈N/P⌉ and reduceAxis 'y' (the default; 'x' swaps the roles of the
 * mesh axes):
 *   x  [K]    core (cx, cy) holds x[cy·kt …] (split along mesh y, replicated along x);
 *   W  [K×N]  core (cx, cy) holds the tile (cy, cx), kt × nt;
 *   y  [N]    core (cx, cy) ends with y[cx·nt …] (split along mesh x, replicated along y) — with
 *             `broadcast: false`, only the cores of the root row have it.
 * So a GEMV reducing along y turns "split along y" into "split along x", and the next one, reducing
 * along x, turns it back: WaferLLM's alternation, which keeps the residual add free of data movement.
 * Edge tiles are clipped (the tiles past K or N hold zeros, which add nothing).
 *
 * The cost is exact: matmul (docs/runtime-model.md) then the allreduce's exact cost, every core
 * starting the allreduce at the same cycle.
 */
import { diag } from '../../ir/diagnostics.js';
import { and, eq, lt, ProgramBuilder, X, Y, type BufferRef, type RegionBuilder } from '../../ir/program-builder.js';
import { lanesFor, matmulCycles } from '../../ir/program-cost.js';
import { MEM_TYPE_BYTES, type Program } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { allreduceCost, emitAllreduce, type AllreduceAlgorithm, type AllreduceCost, type KTreeOptions, type MeshAxis } from './allreduce.js';
import { piecewiseLinear } from './allreduce-emit.js';
import type { EmittedKernel, KernelEnv } from './kernel.js';
import { scratchBuffer } from './kernel.js';

export type GemvType = 'f32' | 'f16';

export interface GemvShape {
  K: number;
  N: number;
  /** Cores per side of the square region. */
  P: number;
  type: GemvType;
  /** Mesh axis the partial sums are reduced along (the axis x is split on); default 'y'. */
  reduceAxis?: MeshAxis;
  /** 'f32': x and W f16, the partial sums and y in f32 (fp16 FMA with fp32 accumulation; y rounded by the caller). */
  acc?: 'f32';
  /** y on every core of each reduction line (default), or only on the root's row / column. */
  broadcast?: boolean;
  ktree?: KTreeOptions;
}

/** Tile sizes and tile counts of a GEMV (gk ≤ P tiles of x / rows of W, gn ≤ P tiles of y / columns of W). */
export interface GemvTiles {
  kt: number;
  nt: number;
  gk: number;
  gn: number;
}

const MAX_SIZE = 1 << 26;

export function gemvTiles(s: GemvShape): GemvTiles {
  const kt = Math.ceil(s.K / s.P), nt = Math.ceil(s.N / s.P);
  return { kt, nt, gk: Math.ceil(s.K / kt), gn: Math.ceil(s.N / nt) };
}

export function checkGemvShape(s: GemvShape, where: string): void {
  const bad: string[] = [];
  for (const [name, v, max] of [['K', s.K, MAX_SIZE], ['N', s.N, MAX_SIZE], ['P', s.P, 1 << 12]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > max) bad.push(`${name} = ${v} is not an integer from 1 to ${max}`);
  }
  if (s.type !== 'f32' && s.type !== 'f16') bad.push(`type '${String(s.type)}' is not f32 or f16`);
  if (s.reduceAxis !== undefined && s.reduceAxis !== 'x' && s.reduceAxis !== 'y') bad.push(`reduceAxis '${String(s.reduceAxis)}' is not x or y`);
  if (s.acc !== undefined && !(s.acc === 'f32' && s.type === 'f16')) bad.push(`accumulation '${String(s.acc)}' needs f16 operands and is 'f32'`);
  if (bad.length) throw diag('W3007', `GEMV ${where}: ${bad.join('; ')}`, where, 'give positive integer sizes and a P×P region');
}

/** Exact cost and footprint of a GEMV. */
export interface GemvCost {
  cycles: number;
  /** Cycles of the local matmul, issue included (every core alike). */
  matmulCycles: number;
  allreduce: AllreduceCost;
  /** SRAM a core needs (x, W, partial, y and the allreduce's scratch, each 4-byte aligned). */
  sramBytes: number;
  fitsSram: boolean;
  tiles: GemvTiles;
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

export function gemvCost(target: Target, algorithm: AllreduceAlgorithm, s: GemvShape, where = 'gemv'): GemvCost {
  checkGemvShape(s, where);
  const tiles = gemvTiles(s);
  const { kt, nt } = tiles;
  const acc = s.acc ?? s.type;
  const mm = target.overhead.issue + matmulCycles(1, kt, nt, false, lanesFor(target, [s.type, s.type], acc), target.sram.readWordsPerCycle, target.sram.writeWordsPerCycle);
  const ar = allreduceCost(target, s.P, { algorithm, axis: s.reduceAxis ?? 'y', fn: 'sum', n: nt, type: acc, broadcast: s.broadcast, ktree: s.ktree }, where);
  const b = MEM_TYPE_BYTES[s.type], ba = MEM_TYPE_BYTES[acc];
  const sramBytes = align4(kt * b) + align4(kt * nt * b) + 2 * align4(nt * ba) + align4(ar.scratchElements * ba);
  return { cycles: mm + ar.cycles, matmulCycles: mm, allreduce: ar, sramBytes, fitsSram: sramBytes <= target.sram.bytesPerCore, tiles };
}

export interface GemvBuffers {
  /** kt elements: this core's x tile. */
  x: BufferRef;
  /** kt × nt elements: this core's W tile, row-major. */
  W: BufferRef;
  /** nt elements: the result tile. */
  y: BufferRef;
}

export interface EmittedGemv extends EmittedKernel {
  cost: GemvCost;
}

/**
 * Emits the GEMV into env.region (a P×P region): the matmul into a partial, then the allreduce into
 * y. `known`: its cost if the caller has computed it already (gemvCost of the same shape).
 */
export function emitGemv(env: KernelEnv, algorithm: AllreduceAlgorithm, s: GemvShape, bufs: GemvBuffers, known?: GemvCost): EmittedGemv {
  const where = env.loc || 'gemv';
  const cost = known ?? gemvCost(env.target, algorithm, s, where);
  if (env.width !== s.P || env.height !== s.P) {
    throw diag('W3007', `GEMV ${where}: the region is ${env.width}×${env.height} cores, the kernel needs ${s.P}×${s.P}`, where, 'give the kernel a square region of side P');
  }
  const { kt, nt } = cost.tiles;
  const acc = s.acc ?? s.type;
  for (const [name, b, len, type] of [['x', bufs.x, kt, s.type], ['W', bufs.W, kt * nt, s.type], ['y', bufs.y, nt, acc]] as const) {
    if (b.type !== type || b.length < len) throw diag('W3007', `GEMV ${where}: buffer ${b.name} (${name}) is ${b.length} × ${b.type}, the tile needs ${len} × ${type}`, where);
  }
  const rb: RegionBuilder = env.region;
  rb.setLoc(env.loc);
  const part = scratchBuffer(env, `${env.loc}.partial`, acc, nt);
  rb.matmul(part, bufs.x, bufs.W, 1, kt, nt);
  const ar = emitAllreduce(env, { algorithm, axis: s.reduceAxis ?? 'y', fn: 'sum', n: nt, type: acc, broadcast: s.broadcast, ktree: s.ktree, src: part, dst: bufs.y }, cost.allreduce);
  const pos = (s.reduceAxis ?? 'y') === 'y' ? Y : X;
  const finish = piecewiseLinear(pos, cost.allreduce.finish.map((f) => f + cost.matmulCycles));
  return { routes: ar.routes, scratch: [part, ...ar.scratch], cycles: cost.cycles, finish, cost };
}

export interface GemvProgramOptions {
  /** 'root' (default): y read from the root's row (or column); 'all': also y.<i> from every line position i (tests). */
  outputs?: 'root' | 'all';
}

/**
 * A standalone GEMV program on the P×P region at the mesh origin: inputs x [K] and W [K, N] tiled
 * as above, output y [N], the predicted total set. Throws W3007 when the region, the colours or a
 * core's tiles (with the kernel's scratch) do not fit the target.
 */
export function gemvProgram(algorithm: AllreduceAlgorithm, s: GemvShape, target: Target, opts: GemvProgramOptions = {}): Program {
  const where = `gemv-${algorithm}`;
  const cost = gemvCost(target, algorithm, s, where);
  const { P, type } = s;
  if (P > target.width || P > target.height) {
    throw diag('W3007', `GEMV ${where}: a ${P}×${P} region does not fit the ${target.width}×${target.height} mesh of target ${target.name}`, where, 'use a smaller P or a larger target');
  }
  if (!cost.fitsSram) {
    throw diag('W3007', `GEMV ${where}: a core needs ${cost.sramBytes} bytes (x ${cost.tiles.kt}, W ${cost.tiles.kt}×${cost.tiles.nt}, partial and y ${cost.tiles.nt} ${type} elements and ${cost.allreduce.scratchElements} of scratch), the target has ${target.sram.bytesPerCore}`,
      where, 'use more cores (a larger P) or a smaller matrix');
  }
  if (cost.allreduce.colours > target.router.colours) {
    throw diag('W3007', `GEMV ${where}: the allreduce needs ${cost.allreduce.colours} colours, target ${target.name} has ${target.router.colours}`, where, 'use fewer K-tree levels');
  }
  const { kt, nt, gk, gn } = cost.tiles;
  const b = new ProgramBuilder(`${where}-${s.K}x${s.N}-p${P}-${type}`, target);
  const r = b.region('gemv', { x: 0, y: 0, width: P, height: P });
  const x = r.buffer('x', type, kt), W = r.buffer('W', type, kt * nt), y = r.buffer('y', type, nt);
  const colours = Array.from({ length: target.router.colours }, (_, i) => i);
  const e = emitGemv({ target, region: r, width: P, height: P, colours: { colours }, loc: 'gemv' }, algorithm, s, { x, W, y }, cost);
  for (const rule of e.routes) r.route(rule);
  const alongY = (s.reduceAxis ?? 'y') === 'y';
  // kPos: the core's coordinate along the reduced axis (its x tile); nPos: along the other (its y tile).
  const kPos = alongY ? Y : X, nPos = alongY ? X : Y;
  b.input('x', type, [s.K], { buffer: x, tile: [1, kt], at: [0, kPos], view: [1, s.K], guard: lt(kPos, gk) });
  b.input('W', type, [s.K, s.N], { buffer: W, tile: [kt, nt], at: [kPos, nPos], guard: and(lt(kPos, gk), lt(nPos, gn)) });
  const root = cost.allreduce.root;
  b.output('y', type, [s.N], { buffer: y, tile: [1, nt], at: [0, nPos], view: [1, s.N], guard: and(lt(nPos, gn), eq(kPos, root)) });
  if (opts.outputs === 'all' && (s.broadcast ?? true)) {
    for (let i = 0; i < P; i++) {
      b.output(`y.${i}`, type, [s.N], { buffer: y, tile: [1, nt], at: [0, nPos], view: [1, s.N], guard: and(lt(nPos, gn), eq(kPos, i)) });
    }
  }
  b.predictTotal(e.cycles);
  return b.build();
}
