/**
 * The program level: what the emulator loads and the compiler emits. In-memory types; the wire
 * format is program.proto (codec in program-codec.ts), the exact execution semantics are in
 * docs/runtime-model.md and in runtime/ (the emulator is the living definition).
 *
 * A program is a set of regions (rectangles of cores), each running one SPMD kernel whose operands
 * and guards are expressions of the core's coordinates; router colour configuration given by rules
 * over rectangles (not per-core lists); an SRAM memory map per kernel (a buffer may exist on only some
 * of the region's cores, BufferDecl.guard); constants stored once with a
 * tiling rule; program inputs/outputs with the same tiling rules; and the compiler's predicted timing.
 * Program size grows with the number of distinct kernels and rules, not with the number of cores.
 *
 * Besides the machine's own instructions, `call` runs one graph-IR op (ir/ops, the reference
 * semantics) on tensors in a core's SRAM — how an op without a distributed kernel runs on a single
 * core — and `delay` idles a core for a number of cycles, which the compiler's scheduler uses to make
 * every core of a region leave a kernel at the same cycle.
 */
import type { DType } from './dtype.js';
import type { Attrs } from './graph.js';
import type { Target } from './target.js';

export const PROGRAM_FORMAT_VERSION = 1;

/** The ai.onnx opset `call` instructions follow when a program does not say (Program.opset). */
export const DEFAULT_OPSET = 18;

// ---- expressions ----------------------------------------------------------------------------

/**
 * Variables of an expression: the core's coordinates relative to its region's origin (x, y), the
 * region's size (w, h), the enclosing loops' iteration counters from the outermost (i0, i1, ...).
 */
export type ExprVar = 'x' | 'y' | 'w' | 'h' | 'i0' | 'i1' | 'i2' | 'i3';

/** Binary operators; `div` floors and `mod` is Euclidean (result in [0, |b|)); comparisons give 0/1. */
export type ExprOp = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'min' | 'max' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge' | 'and' | 'or';

/** An integer expression, evaluated per core (and per loop iteration). */
export type Expr =
  | number
  | { v: ExprVar }
  | { op: ExprOp; a: Expr; b: Expr }
  | { op: 'select'; c: Expr; a: Expr; b: Expr };

// ---- memory ---------------------------------------------------------------------------------

/** Element types held in SRAM. f16 takes 2 bytes; f32 and i32 take 4. */
export type MemType = 'f32' | 'f16' | 'i32';

export const MEM_TYPE_BYTES: Record<MemType, number> = { f32: 4, f16: 2, i32: 4 };

/**
 * A buffer of a kernel's SRAM memory map. The layout is the same on every core of the region, but a
 * buffer with a `guard` exists only on the cores where the guard is non-zero: it takes SRAM there
 * only, and two buffers that no core has both of may share bytes.
 */
export interface BufferDecl {
  name: string;
  type: MemType;
  /** Byte offset in the core's SRAM. */
  offset: number;
  /** Number of elements. */
  length: number;
  /**
   * Instruction ids (inclusive) between which the buffer holds live data. Two buffers whose byte
   * ranges overlap must have disjoint live ranges. Omitted: live for the whole kernel.
   */
  live?: [number, number];
  /**
   * The buffer exists only on the cores of the region where this expression of x, y, w, h (no loop
   * counters) is non-zero. Omitted: on every core.
   */
  guard?: Expr;
}

/** A place in a buffer: element `offset` of buffer number `buf` (index into the kernel's buffers). */
export interface Operand {
  buf: number;
  offset: Expr;
}

/**
 * A tensor operand of `call`: a graph tensor of `dtype` and `shape`, stored row-major, one value per
 * buffer element, from element `offset` of buffer `buf`. Which buffer types may hold which dtypes:
 * callStorageTypes (ir/program-call.ts).
 */
export interface CallTensor {
  buf: number;
  offset: Expr;
  dtype: DType;
  shape: number[];
}

// ---- instructions ---------------------------------------------------------------------------

export type UnaryFn = 'copy' | 'neg' | 'abs' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'recip' | 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'silu' | 'square' | 'scale' | 'add_scalar';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';
/** How operand b of a binary op is read over a rows×cols a: whole, one row repeated, one value per row, one value. */
export type Broadcast = 'none' | 'row' | 'col' | 'scalar';
export type ReduceFn = 'sum' | 'max';
export type CombineFn = 'none' | 'add' | 'max';

interface InstrCommon {
  /** Unique id within the program (pre-order over regions, then nested loop bodies). */
  id: number;
  /** The IR location this instruction implements (op / node name), for reports and traces. */
  loc: string;
  /** Executes only on cores (and iterations) where the guard is non-zero. Omitted: always. */
  guard?: Expr;
}

export type Instr = InstrCommon & (
  /** c[m×n] (+)= a[m×k] · b[k×n] (b read as bᵀ[n×k] when transB). */
  | { op: 'matmul'; a: Operand; b: Operand; c: Operand; m: Expr; k: Expr; n: Expr; accumulate: boolean; transB: boolean }
  /** dst[i] = fn(src[i]) for i < n; `scalar` parameterizes scale / add_scalar. */
  | { op: 'unary'; fn: UnaryFn; src: Operand; dst: Operand; n: Expr; scalar: number }
  /** dst[r,c] = a[r,c] fn b[...] over rows×cols, b broadcast as `bcast`. */
  | { op: 'binary'; fn: BinaryFn; a: Operand; b: Operand; dst: Operand; rows: Expr; cols: Expr; bcast: Broadcast }
  /** dst[r] (fn)= reduce over c of src[r,c] (axis 'cols'), or dst[c] over rows (axis 'rows'). */
  | { op: 'reduce'; fn: ReduceFn; src: Operand; dst: Operand; rows: Expr; cols: Expr; axis: 'rows' | 'cols'; accumulate: boolean }
  /** dst[i] = value for i < n. */
  | { op: 'fill'; dst: Operand; n: Expr; value: number }
  /** Asynchronously send n elements of src on a colour. */
  | { op: 'send'; src: Operand; n: Expr; colour: Expr }
  /** Asynchronously receive n elements from a colour into dst, combining with dst's values unless combine is 'none'. */
  | { op: 'recv'; dst: Operand; n: Expr; colour: Expr; combine: CombineFn }
  /** Stream n elements from inColour to outColour through the core: out[i] = in[i] combine buf[i] (or in[i] for 'none'). */
  | { op: 'forward'; buf: Operand; n: Expr; inColour: Expr; outColour: Expr; combine: CombineFn }
  /** Block until every send / recv / forward this core has posted is complete. */
  | { op: 'wait' }
  /** Repeat the body `count` times; the iteration counter is the variable i<depth>. */
  | { op: 'loop'; count: Expr; body: Instr[] }
  /** Exchange the bindings of two buffers of equal type and length (double buffering). */
  | { op: 'swap'; a: number; b: number }
  /**
   * Run graph op `opType` of `domain` ('' is ai.onnx) with `attrs` on tensors in SRAM, with the
   * reference semantics of ir/ops at the program's opset; null marks an omitted optional input or
   * output. Cost: callCost (ir/program-cost.ts).
   */
  | { op: 'call'; opType: string; domain: string; attrs: Attrs; inputs: (CallTensor | null)[]; outputs: (CallTensor | null)[] }
  /** Do nothing for exactly max(0, cycles) cycles (no issue cost): the scheduler's padding. */
  | { op: 'delay'; cycles: Expr }
);

export type Opcode = Instr['op'];

// ---- regions, routes, data ------------------------------------------------------------------

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Kernel {
  buffers: BufferDecl[];
  body: Instr[];
}

export interface Region {
  name: string;
  rect: Rect;
  kernel: Kernel;
}

/** Router ports. 'ramp' is the link between a router and its own core. */
export type Port = 'north' | 'south' | 'east' | 'west' | 'ramp';

/**
 * Router configuration for one colour over a rectangle of routers: a wavelet of `colour` entering
 * a router through `input` leaves through every port of `outputs` (more than one: multicast).
 * `guard` (over the router's x, y relative to `rect`, and w, h of `rect`) selects a subset.
 * North is y−1, south y+1, west x−1, east x+1 (y grows downward, as rows of the mesh).
 */
export interface RouteRule {
  colour: number;
  rect: Rect;
  input: Port;
  outputs: Port[];
  guard?: Expr;
}

/**
 * Which tile of a 2-D tensor [rows, cols] a core of the region holds: rows are cut into tiles of
 * `tileRows`, cols into `tileCols`; the core holds row-tile `rowTile` and col-tile `colTile`
 * (expressions of x, y: e.g. y and x for a block layout, (x + y) mod w for a skewed one). The tile
 * is stored row-major at element 0 of `buffer` in every core of `region`.
 *
 * The [rows, cols] matrix is the tensor's row-major data as is, unless `view` says otherwise: then
 * the data is reshaped to `view.dims`, permuted by `view.perm` (dim i of the permuted tensor is
 * dims[perm[i]]) and the permuted tensor's row-major data is the matrix (rows·cols = product of
 * dims). E.g. Q [2,2,1024,512] (batch, head, seq, dim) with dims [2,2,1024,512], perm [0,2,1,3] and
 * a 2048×1024 matrix has rows (batch, seq) and cols (head, dim).
 */
export interface Tiling {
  region: number;
  buffer: number;
  rows: number;
  cols: number;
  tileRows: number;
  tileCols: number;
  rowTile: Expr;
  colTile: Expr;
  /** Cores where the guard is zero hold no tile. */
  guard?: Expr;
  /** How the tensor's row-major data maps onto the matrix (absent: identity). */
  view?: TilingView;
}

/** A Tiling's reshape (`dims`, positive, product rows·cols) and permutation (`perm` of 0..dims.length−1). */
export interface TilingView {
  dims: number[];
  perm: number[];
}

/** A constant stored once; `data` holds rows×cols values of `type` little-endian, in row-major order before any tiling view (absent: shapes-only program). */
export interface ConstantDecl {
  name: string;
  type: MemType;
  tiling: Tiling;
  data?: Uint8Array;
}

/** A program input or output: a 2-D view of a graph tensor, moved between host and SRAM by tiles. */
export interface IoDecl {
  /** Graph value name. */
  name: string;
  type: MemType;
  /** Shape of the graph tensor (its row-major data is viewed as rows × cols, through tiling.view if any). */
  shape: number[];
  tiling: Tiling;
}

/** Predicted start cycle of one instruction on every core (and iteration) where it runs. */
export interface InstrPrediction {
  instr: number;
  start: Expr;
}

export interface Prediction {
  /** Cycle at which the last core finishes (excluding host I/O). */
  totalCycles: number;
  instructions: InstrPrediction[];
}

export interface Program {
  version: number;
  name: string;
  /** The target the program was compiled for (the emulator runs it on exactly this machine). */
  target: Target;
  /** Version of the default (ai.onnx) op set whose semantics `call` instructions follow (DEFAULT_OPSET when unsaid). */
  opset: number;
  /**
   * The graph IR text (docs/ir.md) the program was compiled from, after the graph passes, constants
   * included; absent when unknown. `wafer run --check` evaluates it to check the emulated outputs.
   */
  source?: string;
  regions: Region[];
  routes: RouteRule[];
  constants: ConstantDecl[];
  inputs: IoDecl[];
  outputs: IoDecl[];
  predicted?: Prediction;
}

// ---- helpers --------------------------------------------------------------------------------

/** Visits every instruction (pre-order, loop bodies after their loop). */
export function forEachInstr(body: Instr[], f: (i: Instr, depth: number) => void, depth = 0): void {
  for (const i of body) {
    f(i, depth);
    if (i.op === 'loop') forEachInstr(i.body, f, depth + 1);
  }
}

export function bufferBytes(b: BufferDecl): number {
  return b.length * MEM_TYPE_BYTES[b.type];
}

/** 32-bit fabric words needed to carry n elements of a type (f16 packs two per word). */
export function wordsFor(type: MemType, n: number): number {
  return Math.ceil((n * MEM_TYPE_BYTES[type]) / 4);
}

/** Evaluates an expression given variable values (x, y, w, h, i0..i3 in that order). */
export function evalExpr(e: Expr, env: ExprEnv): number {
  if (typeof e === 'number') return e;
  if ('v' in e) return env[e.v];
  if (e.op === 'select') return evalExpr(e.c, env) !== 0 ? evalExpr(e.a, env) : evalExpr(e.b, env);
  const a = evalExpr(e.a, env);
  const b = evalExpr(e.b, env);
  switch (e.op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return b === 0 ? 0 : Math.floor(a / b);
    case 'mod': {
      if (b === 0) return 0;
      const r = a % b;
      return r < 0 ? r + Math.abs(b) : r;
    }
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
    case 'eq': return a === b ? 1 : 0;
    case 'ne': return a !== b ? 1 : 0;
    case 'lt': return a < b ? 1 : 0;
    case 'le': return a <= b ? 1 : 0;
    case 'gt': return a > b ? 1 : 0;
    case 'ge': return a >= b ? 1 : 0;
    case 'and': return a !== 0 && b !== 0 ? 1 : 0;
    case 'or': return a !== 0 || b !== 0 ? 1 : 0;
  }
}

export type ExprEnv = Record<ExprVar, number>;
