/**
 * A fluent builder for wafer programs, for kernels written by hand (tests, examples, research) and
 * for the compiler's emitter. It removes the bookkeeping, not the control:
 *
 * - expressions are written with helpers (X, Y, W, H, I(d), add, sub, …, select); literal-only
 *   operations fold at construction;
 * - buffers are packed in declaration order at 4-byte-aligned offsets (or put at an explicit offset);
 * - instruction ids are assigned at build() in pre-order (regions in order, loop bodies after their
 *   loop), so ids never depend on the order in which regions were filled; an instruction is named
 *   by the InstrRef its emitter returns (for live ranges and predictions), whose `id` is known after
 *   build();
 * - loops take a callback that receives the body builder and the loop's counter expression;
 * - `call` takes its tensors as `buf.tensor(dtype, shape)` (or `buf.at(off).tensor(...)`), null for an
 *   omitted one; tensor attributes are copied (and stay Tensors) at build; the program's opset is a
 *   constructor option (default 18);
 * - tilings name a buffer (its region follows) and give the tile shape and the tile coordinates
 *   (and, optionally, the view `perm: { dims, perm }` through which the tensor becomes the matrix);
 * - build() returns a fresh Program and, unless told not to, runs the structural checks of the codec
 *   (so a program that builds also encodes).
 *
 * Example (docs/program-format.md has more): every core of a row sends its 64 floats east.
 *   const b = new ProgramBuilder('shift', target);
 *   const r = b.region('row', { x: 0, y: 0, width: 8, height: 1 });
 *   const a = r.buffer('a', 'f32', 64), c = r.buffer('c', 'f32', 64);
 *   r.send(a, 64, 1, { guard: lt(X, sub(W, 1)) });
 *   r.recv(c, 64, 1, { guard: gt(X, 0) });
 *   r.wait();
 *   r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: lt(X, sub(W, 1)) });
 *   r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: gt(X, 0) });
 *   const p = b.build();
 */
import { diag } from './diagnostics.js';
import { numberToFloat16Bits, type DType } from './dtype.js';
import type { Attrs } from './graph.js';
import { reviveAttrs } from './program-call.js';
import { validateProgram } from './program-codec-validate.js';
import {
  DEFAULT_OPSET, MEM_TYPE_BYTES, PROGRAM_FORMAT_VERSION, evalExpr, forEachInstr,
  type BinaryFn, type Broadcast, type BufferDecl, type CallTensor, type CombineFn, type ConstantDecl, type Expr, type ExprOp, type ExprVar, type Instr,
  type IoDecl, type MemType, type Operand, type Port, type Program, type Rect, type ReduceFn, type Region, type RouteRule, type Tiling, type UnaryFn,
} from './program.js';
import type { Target } from './target.js';

// ---- expressions --------------------------------------------------------------------------------

/** The core's column within its region. */
export const X: Expr = { v: 'x' };
/** The core's row within its region. */
export const Y: Expr = { v: 'y' };
/** The region's width. */
export const W: Expr = { v: 'w' };
/** The region's height. */
export const H: Expr = { v: 'h' };

/** The counter of the loop at nesting depth `depth` (0: outermost). */
export function I(depth: number): Expr {
  if (!Number.isInteger(depth) || depth < 0 || depth > 3) throw diag('W5012', `loop counter i${depth} does not exist (i0..i3)`);
  return { v: `i${depth}` as ExprVar };
}

const ZERO_ENV = { x: 0, y: 0, w: 0, h: 0, i0: 0, i1: 0, i2: 0, i3: 0 };

function binop(op: ExprOp, a: Expr, b: Expr, more: readonly Expr[]): Expr {
  let e: Expr = typeof a === 'number' && typeof b === 'number' ? evalExpr({ op, a, b }, ZERO_ENV) + 0 : { op, a, b };
  for (const m of more) e = binop(op, e, m, []);
  return e;
}

/** a + b (+ more, left to right). Literal-only operations fold. */
export const add = (a: Expr, b: Expr, ...more: Expr[]): Expr => binop('add', a, b, more);
export const sub = (a: Expr, b: Expr): Expr => binop('sub', a, b, []);
export const mul = (a: Expr, b: Expr, ...more: Expr[]): Expr => binop('mul', a, b, more);
/** Floor division; division by zero gives 0. */
export const div = (a: Expr, b: Expr): Expr => binop('div', a, b, []);
/** Euclidean remainder, in [0, |b|); modulo zero gives 0. */
export const mod = (a: Expr, b: Expr): Expr => binop('mod', a, b, []);
export const min = (a: Expr, b: Expr, ...more: Expr[]): Expr => binop('min', a, b, more);
export const max = (a: Expr, b: Expr, ...more: Expr[]): Expr => binop('max', a, b, more);
export const eq = (a: Expr, b: Expr): Expr => binop('eq', a, b, []);
export const ne = (a: Expr, b: Expr): Expr => binop('ne', a, b, []);
export const lt = (a: Expr, b: Expr): Expr => binop('lt', a, b, []);
export const le = (a: Expr, b: Expr): Expr => binop('le', a, b, []);
export const gt = (a: Expr, b: Expr): Expr => binop('gt', a, b, []);
export const ge = (a: Expr, b: Expr): Expr => binop('ge', a, b, []);
export const and = (a: Expr, b: Expr, ...more: Expr[]): Expr => binop('and', a, b, more);
export const or = (a: Expr, b: Expr, ...more: Expr[]): Expr => binop('or', a, b, more);
/** c ? a : b (c non-zero). A literal condition folds. */
export function select(c: Expr, a: Expr, b: Expr): Expr {
  if (typeof c === 'number') return c !== 0 ? a : b;
  return { op: 'select', c, a, b };
}

// ---- references -------------------------------------------------------------------------------

const assignedIds = new WeakMap<InstrRef, number>();

/** Names an emitted instruction; its id is known once the program is built. */
export class InstrRef {
  constructor(readonly op: Instr['op']) {}
  get id(): number {
    const id = assignedIds.get(this);
    if (id === undefined) throw new Error('InstrRef.id is known only after ProgramBuilder.build()');
    return id;
  }
}

/** A place in a buffer: element `offset` of `buffer`. */
export class BufferSlice {
  constructor(readonly buffer: BufferRef, readonly offset: Expr) {}
  /** A call tensor of `dtype` and `shape` stored from this place. */
  tensor(dtype: DType, shape: readonly number[]): CallArg {
    return { at: this, dtype, shape };
  }
}

/** A declared buffer of a region's memory map. */
export class BufferRef {
  /** @internal set by live() */
  liveRange?: [InstrRef, InstrRef];
  constructor(
    readonly region: RegionBuilder,
    readonly index: number,
    readonly name: string,
    readonly type: MemType,
    readonly length: number,
    readonly offset: number,
    /** Cores of the region where the buffer exists (undefined: every core). */
    readonly guard?: Expr,
  ) {}
  /** Element `offset` of this buffer, as an operand. */
  at(offset: Expr): BufferSlice {
    return new BufferSlice(this, offset);
  }
  /** Bytes the buffer occupies. */
  get bytes(): number {
    return this.length * MEM_TYPE_BYTES[this.type];
  }
  /** Declares that the buffer holds live data only from instruction `from` to `to` (inclusive). */
  live(from: InstrRef, to: InstrRef): this {
    this.liveRange = [from, to];
    return this;
  }
  /** A call tensor of `dtype` and `shape` stored from element 0 of this buffer. */
  tensor(dtype: DType, shape: readonly number[]): CallArg {
    return { at: this, dtype, shape };
  }
}

/** An operand: a buffer (element 0), a slice of one, or a raw {buf, offset} (buf is a buffer index). */
export type OperandLike = BufferRef | BufferSlice | Operand;

/** A tensor operand of call(): where it starts, its graph dtype and shape (`buf.tensor(dtype, shape)` makes one). */
export interface CallArg {
  at: OperandLike;
  dtype: DType;
  shape: readonly number[];
}

export interface InstrOptions {
  /** Run only where this is non-zero. */
  guard?: Expr;
  /** IR location for reports and traces; default: the region's current location (setLoc). */
  loc?: string;
}

type Draft = { op: Instr['op'] } & Record<string, unknown>;
interface Node {
  ref: InstrRef;
  loc: string;
  guard?: Expr;
  draft: Draft;
  body?: Node[];
}

// ---- bodies and regions -------------------------------------------------------------------------

/** Emits instructions into a kernel body (a region's, or a loop's). Every emitter returns an InstrRef. */
export class BodyBuilder {
  /** @internal A region builder passes undefined: it owns itself. */
  constructor(private readonly parent: RegionBuilder | undefined, readonly depth: number, protected readonly nodes: Node[]) {}

  /** The region whose kernel this body belongs to. */
  get owner(): RegionBuilder {
    return this.parent ?? (this as unknown as RegionBuilder);
  }

  private emit(draft: Draft, opts: InstrOptions | undefined, body?: Node[]): InstrRef {
    const ref = new InstrRef(draft.op);
    const scope = this.owner.currentScope;
    let guard = opts?.guard;
    if (scope) {
      draft = substituteDraft(draft, scope.vars);
      if (guard !== undefined) guard = substituteExpr(guard, scope.vars);
      // Only the outermost instruction needs the scope's guard: a loop's body runs where the loop does.
      if (scope.guard !== undefined && this.depth === 0) guard = guard === undefined ? scope.guard : and(scope.guard, guard);
    }
    const node: Node = { ref, loc: opts?.loc ?? this.owner.currentLoc, draft };
    if (guard !== undefined) node.guard = guard;
    if (body) node.body = body;
    this.nodes.push(node);
    return ref;
  }

  private operand(o: OperandLike): Operand {
    const own = (b: BufferRef) => {
      if (b.region !== this.owner) {
        throw diag('W5012', `buffer "${b.name}" belongs to region "${b.region.name}", not "${this.owner.name}"`, `region "${this.owner.name}"`,
          'declare the buffer in the region whose kernel uses it');
      }
      return b.index;
    };
    if (o instanceof BufferRef) return { buf: own(o), offset: 0 };
    if (o instanceof BufferSlice) return { buf: own(o.buffer), offset: o.offset };
    return { buf: o.buf, offset: o.offset };
  }

  /** c[m×n] = a[m×k] · b[k×n] (`accumulate`: +=; `transB`: b is stored as [n×k]). */
  matmul(c: OperandLike, a: OperandLike, b: OperandLike, m: Expr, k: Expr, n: Expr,
    opts?: InstrOptions & { accumulate?: boolean; transB?: boolean }): InstrRef {
    return this.emit({
      op: 'matmul', a: this.operand(a), b: this.operand(b), c: this.operand(c), m, k, n,
      accumulate: opts?.accumulate ?? false, transB: opts?.transB ?? false,
    }, opts);
  }

  /** dst[i] = fn(src[i]) for i < n; `scalar` is the factor of scale and the addend of add_scalar. */
  unary(fn: UnaryFn, dst: OperandLike, src: OperandLike, n: Expr, opts?: InstrOptions & { scalar?: number }): InstrRef {
    return this.emit({ op: 'unary', fn, src: this.operand(src), dst: this.operand(dst), n, scalar: opts?.scalar ?? 0 }, opts);
  }

  /** dst[i] = src[i] for i < n. */
  copy(dst: OperandLike, src: OperandLike, n: Expr, opts?: InstrOptions): InstrRef {
    return this.unary('copy', dst, src, n, opts);
  }

  /** dst[r,c] = a[r,c] fn b[…] over rows×cols, b read as `bcast` (default 'none'). */
  binary(fn: BinaryFn, dst: OperandLike, a: OperandLike, b: OperandLike, rows: Expr, cols: Expr,
    opts?: InstrOptions & { bcast?: Broadcast }): InstrRef {
    return this.emit({
      op: 'binary', fn, a: this.operand(a), b: this.operand(b), dst: this.operand(dst), rows, cols, bcast: opts?.bcast ?? 'none',
    }, opts);
  }

  /** dst (fn)= the reduction of src[rows×cols] along `axis` (default 'cols': one value per row). */
  reduce(fn: ReduceFn, dst: OperandLike, src: OperandLike, rows: Expr, cols: Expr,
    opts?: InstrOptions & { axis?: 'rows' | 'cols'; accumulate?: boolean }): InstrRef {
    return this.emit({
      op: 'reduce', fn, src: this.operand(src), dst: this.operand(dst), rows, cols, axis: opts?.axis ?? 'cols', accumulate: opts?.accumulate ?? false,
    }, opts);
  }

  /** dst[i] = value for i < n. */
  fill(dst: OperandLike, n: Expr, value: number, opts?: InstrOptions): InstrRef {
    return this.emit({ op: 'fill', dst: this.operand(dst), n, value }, opts);
  }

  /** Posts a stream of n elements of src on `colour`. */
  send(src: OperandLike, n: Expr, colour: Expr, opts?: InstrOptions): InstrRef {
    return this.emit({ op: 'send', src: this.operand(src), n, colour }, opts);
  }

  /** Posts a receive of n elements from `colour` into dst (`combine` add/max: dst ⊕= word). */
  recv(dst: OperandLike, n: Expr, colour: Expr, opts?: InstrOptions & { combine?: CombineFn }): InstrRef {
    return this.emit({ op: 'recv', dst: this.operand(dst), n, colour, combine: opts?.combine ?? 'none' }, opts);
  }

  /** Relays n elements from inColour to outColour through the core (`combine`: out = in ⊕ buf). */
  forward(buf: OperandLike, n: Expr, inColour: Expr, outColour: Expr, opts?: InstrOptions & { combine?: CombineFn }): InstrRef {
    return this.emit({ op: 'forward', buf: this.operand(buf), n, inColour, outColour, combine: opts?.combine ?? 'none' }, opts);
  }

  /** Blocks until the core's posted transfers are complete. */
  wait(opts?: InstrOptions): InstrRef {
    return this.emit({ op: 'wait' }, opts);
  }

  /**
   * Runs graph op `opType` (of `opts.domain`, default '' = ai.onnx) with `attrs` on tensors in this
   * core's SRAM: the reference semantics of ir/ops at the program's opset. null marks an omitted
   * optional input or output. Example: `r.call('Softmax', [x.tensor('float32', [4, 8])],
   * [y.tensor('float32', [4, 8])], { axis: { kind: 'int', value: -1 } })`.
   */
  call(opType: string, inputs: readonly (CallArg | null)[], outputs: readonly (CallArg | null)[], attrs: Attrs = {},
    opts?: InstrOptions & { domain?: string }): InstrRef {
    const tensor = (t: CallArg | null): CallTensor | null => {
      if (t === null) return null;
      const o = this.operand(t.at);
      return { buf: o.buf, offset: o.offset, dtype: t.dtype, shape: [...t.shape] };
    };
    return this.emit({
      op: 'call', opType, domain: opts?.domain ?? '', attrs: { ...attrs }, inputs: inputs.map(tensor), outputs: outputs.map(tensor),
    }, opts);
  }

  /** Idles the core for exactly max(0, cycles) cycles, with no issue cost (the scheduler's padding). */
  delay(cycles: Expr, opts?: InstrOptions): InstrRef {
    return this.emit({ op: 'delay', cycles }, opts);
  }

  /** Repeats the body `count` times; `fill` receives the body builder and the loop counter. */
  loop(count: Expr, fill: (body: BodyBuilder, i: Expr) => void, opts?: InstrOptions): InstrRef {
    if (this.depth >= 4) {
      throw diag('W5012', 'loops nest deeper than 4 (counters are i0..i3)', `region "${this.owner.name}"`, 'flatten a loop or unroll one');
    }
    const body: Node[] = [];
    const ref = this.emit({ op: 'loop', count }, opts, body);
    fill(new BodyBuilder(this.owner, this.depth + 1, body), I(this.depth));
    return ref;
  }

  /** Exchanges the bindings of two buffers of equal type and length (double buffering). */
  swap(a: BufferRef, b: BufferRef, opts?: InstrOptions): InstrRef {
    return this.emit({ op: 'swap', a: this.operand(a).buf, b: this.operand(b).buf }, opts);
  }

  /** Sets the location of the region's instructions emitted from now on. */
  setLoc(loc: string): this {
    this.owner.currentLoc = loc;
    return this;
  }

  /**
   * Emits `fill`'s instructions in a coordinate scope: every expression they use (operands, counts,
   * colours, guards) sees `vars` in place of x, y, w, h, and every top-level one also runs only where
   * `guard` holds. This lets a kernel written for a w×h region run on a sub-rectangle, or on every
   * tile of a grid of sub-squares at once (x → x mod Q, y → y mod Q, w = h = Q); the kernel's route
   * rules are the caller's to place on each sub-rectangle. Scopes do not nest.
   */
  scoped<T>(scope: { vars: Partial<Record<'x' | 'y' | 'w' | 'h', Expr>>; guard?: Expr }, fill: () => T): T {
    const owner = this.owner;
    if (owner.currentScope) throw diag('W5012', 'coordinate scopes do not nest', `region "${owner.name}"`);
    owner.currentScope = scope;
    try {
      return fill();
    } finally {
      owner.currentScope = undefined;
    }
  }
}

/** Replaces variables of an expression. */
export function substituteExpr(e: Expr, vars: Partial<Record<ExprVar, Expr>>): Expr {
  if (typeof e === 'number') return e;
  if ('v' in e) return vars[e.v] ?? e;
  if (e.op === 'select') return { op: 'select', c: substituteExpr(e.c, vars), a: substituteExpr(e.a, vars), b: substituteExpr(e.b, vars) };
  return { op: e.op, a: substituteExpr(e.a, vars), b: substituteExpr(e.b, vars) };
}

/** The expression fields of each instruction's draft (operands: their offsets). */
const EXPR_FIELDS: Record<string, string[]> = {
  matmul: ['m', 'k', 'n'], unary: ['n'], binary: ['rows', 'cols'], reduce: ['rows', 'cols'], fill: ['n'], send: ['n', 'colour'],
  recv: ['n', 'colour'], forward: ['n', 'inColour', 'outColour'], loop: ['count'], delay: ['cycles'], swap: [], wait: [], call: [],
};
const OPERAND_FIELDS: Record<string, string[]> = {
  matmul: ['a', 'b', 'c'], unary: ['src', 'dst'], binary: ['a', 'b', 'dst'], reduce: ['src', 'dst'], fill: ['dst'], send: ['src'], recv: ['dst'],
  forward: ['buf'],
};

function substituteDraft(d: Draft, vars: Partial<Record<ExprVar, Expr>>): Draft {
  const out: Draft = { ...d };
  for (const f of EXPR_FIELDS[d.op] ?? []) out[f] = substituteExpr(d[f] as Expr, vars);
  for (const f of OPERAND_FIELDS[d.op] ?? []) {
    const o = d[f] as Operand;
    out[f] = { buf: o.buf, offset: substituteExpr(o.offset, vars) };
  }
  if (d.op === 'call') {
    const t = (x: CallTensor | null) => (x ? { ...x, offset: substituteExpr(x.offset, vars) } : null);
    out.inputs = (d.inputs as (CallTensor | null)[]).map(t);
    out.outputs = (d.outputs as (CallTensor | null)[]).map(t);
  }
  return out;
}

export interface RegionRouteRule {
  colour: number;
  /** Default: the region's rectangle (the guard's x, y, w, h are then the region's). */
  rect?: Rect;
  input: Port;
  outputs: Port | Port[];
  guard?: Expr;
}

/** A region: a rectangle of cores, its memory map and its kernel (the region is the kernel's top body). */
export class RegionBuilder extends BodyBuilder {
  /** @internal */
  currentLoc = '';
  /** @internal The coordinate scope instructions are emitted in (scoped()). */
  currentScope?: { vars: Partial<Record<ExprVar, Expr>>; guard?: Expr };
  /** @internal */
  readonly buffers: BufferRef[] = [];
  private cursor = 0;
  /** @internal */
  readonly top: Node[];

  /** @internal */
  constructor(readonly program: ProgramBuilder, readonly index: number, readonly name: string, readonly rect: Rect) {
    const top: Node[] = [];
    super(undefined, 0, top);
    this.top = top;
  }

  /**
   * Declares a buffer of `length` elements. It is placed after every buffer declared so far, aligned
   * to 4 bytes, unless `offset` (bytes) says where. With `guard` (an expression of x, y, w, h) the
   * buffer exists only on the cores where the guard is non-zero.
   */
  buffer(name: string, type: MemType, length: number, opts?: { offset?: number; guard?: Expr }): BufferRef {
    const offset = opts?.offset ?? this.cursor;
    const ref = new BufferRef(this, this.buffers.length, name, type, length, offset, opts?.guard);
    this.buffers.push(ref);
    this.cursor = Math.max(this.cursor, align4(offset + ref.bytes));
    return ref;
  }

  /** Adds a route rule (program-wide) whose rectangle defaults to this region's. */
  route(rule: RegionRouteRule): this {
    this.program.route({ ...rule, rect: rule.rect ?? this.rect });
    return this;
  }
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

// ---- the program --------------------------------------------------------------------------------

/** Where each core's tile of a 2-D tensor lives: the buffer (its region follows), tile shape and coordinates. */
export interface TileSpec {
  buffer: BufferRef;
  /** [tileRows, tileCols]. */
  tile: [number, number];
  /** [rowTile, colTile]: which tile the core holds, as expressions of x, y, w, h. */
  at: [Expr, Expr];
  /** Cores where this is zero hold no tile. */
  guard?: Expr;
  /**
   * The tiling's view (Tiling.view): the tensor's row-major data reshaped to `dims` and permuted by
   * `perm` is the [rows, cols] matrix that is tiled. Absent: the data as is.
   */
  perm?: { dims: number[]; perm: number[] };
}

export type ConstantData = Uint8Array | Float32Array | Int32Array | readonly number[];

export class ProgramBuilder {
  private readonly regions: RegionBuilder[] = [];
  private readonly routes: RouteRule[] = [];
  private readonly constants: ConstantDecl[] = [];
  private readonly inputs: IoDecl[] = [];
  private readonly outputs: IoDecl[] = [];
  private readonly predictions: { ref: InstrRef; start: Expr }[] = [];
  private total?: number;
  /** The ai.onnx opset the program's call instructions follow. */
  opset: number;

  constructor(readonly name: string, readonly target: Target, opts?: { opset?: number }) {
    this.opset = opts?.opset ?? DEFAULT_OPSET;
  }

  /** Sets the opset of the program's call instructions (default DEFAULT_OPSET, 18). */
  setOpset(opset: number): this {
    this.opset = opset;
    return this;
  }

  /** Adds a region running its own kernel on the cores of `rect` (mesh coordinates). */
  region(name: string, rect: Rect): RegionBuilder {
    const r = new RegionBuilder(this, this.regions.length, name, { ...rect });
    this.regions.push(r);
    return r;
  }

  /** Adds a route rule: wavelets of `colour` entering a router of `rect` through `input` leave through `outputs`. */
  route(rule: Omit<RegionRouteRule, 'rect'> & { rect: Rect }): this {
    const r: RouteRule = { colour: rule.colour, rect: { ...rule.rect }, input: rule.input, outputs: typeof rule.outputs === 'string' ? [rule.outputs] : [...rule.outputs] };
    if (rule.guard !== undefined) r.guard = rule.guard;
    this.routes.push(r);
    return this;
  }

  /**
   * Adds a constant of shape [rows, cols] stored once and tiled over a region. `data` (row-major values,
   * or raw little-endian bytes as a Uint8Array) may be omitted for a shapes-only program.
   */
  constant(name: string, type: MemType, shape: [number, number], tiling: TileSpec, data?: ConstantData): this {
    const c: ConstantDecl = { name, type, tiling: this.tiling(tiling, shape[0], shape[1]) };
    if (data !== undefined) c.data = toBytes(type, data);
    this.constants.push(c);
    return this;
  }

  /** Adds a program input: graph value `name` of `shape`, viewed as [product of leading dims, last dim] unless `view` says otherwise. */
  input(name: string, type: MemType, shape: number[], tiling: TileSpec & { view?: [number, number] }): this {
    this.inputs.push(this.io(name, type, shape, tiling));
    return this;
  }

  /** Adds a program output, as input() does. */
  output(name: string, type: MemType, shape: number[], tiling: TileSpec & { view?: [number, number] }): this {
    this.outputs.push(this.io(name, type, shape, tiling));
    return this;
  }

  /** Records the compiler's predicted total cycles (the program then carries a prediction). */
  predictTotal(cycles: number): this {
    this.total = cycles;
    return this;
  }

  /** Records the predicted start cycle of an instruction (an expression of x, y, w, h and its loop counters). */
  predict(ref: InstrRef, start: Expr): this {
    this.predictions.push({ ref, start });
    return this;
  }

  /** A fresh Program. Structural checks run unless `validate` is false (to build deliberately broken programs). */
  build(opts?: { validate?: boolean }): Program {
    let next = 0;
    const ids = new Map<InstrRef, number>();
    const idOf = (ref: InstrRef, what: string): number => {
      const id = ids.get(ref);
      if (id === undefined) throw diag('W5012', `${what} names an instruction that is not part of this program`, this.name);
      return id;
    };
    const emit = (nodes: Node[]): Instr[] => nodes.map((n) => {
      const id = next++;
      ids.set(n.ref, id);
      assignedIds.set(n.ref, id);
      const head: Record<string, unknown> = { id, loc: n.loc };
      if (n.guard !== undefined) head.guard = n.guard;
      const instr = { ...head, ...n.draft } as unknown as Instr;
      if (instr.op === 'loop') instr.body = emit(n.body ?? []);
      return instr;
    });
    // Ids first (all regions), then the buffers' live ranges can name them.
    const bodies = this.regions.map((r) => emit(r.top));
    const regions: Region[] = this.regions.map((r, i) => ({
      name: r.name,
      rect: r.rect,
      kernel: {
        buffers: r.buffers.map((b) => {
          const d: BufferDecl = { name: b.name, type: b.type, offset: b.offset, length: b.length };
          if (b.liveRange) d.live = [idOf(b.liveRange[0], `live range of buffer "${b.name}"`), idOf(b.liveRange[1], `live range of buffer "${b.name}"`)];
          if (b.guard !== undefined) d.guard = b.guard;
          return d;
        }),
        body: bodies[i],
      },
    }));
    const p: Program = {
      version: PROGRAM_FORMAT_VERSION,
      name: this.name,
      target: this.target,
      opset: this.opset,
      regions,
      routes: this.routes,
      constants: this.constants,
      inputs: this.inputs,
      outputs: this.outputs,
    };
    if (this.total !== undefined || this.predictions.length > 0) {
      if (this.total === undefined) throw diag('W5012', 'instruction predictions without a total', 'prediction', 'call predictTotal(cycles)');
      p.predicted = { totalCycles: this.total, instructions: this.predictions.map((x) => ({ instr: idOf(x.ref, 'prediction'), start: x.start })) };
    }
    // A deep copy: the program shares nothing with the builder or with earlier builds. Tensor
    // attributes come out of structuredClone as plain objects, so they are made Tensors again.
    const out = structuredClone(p);
    for (const r of out.regions) forEachInstr(r.kernel.body, (i) => { if (i.op === 'call') i.attrs = reviveAttrs(i.attrs); });
    if (opts?.validate !== false) validateProgram(out);
    return out;
  }

  private tiling(t: TileSpec, rows: number, cols: number): Tiling {
    const region = t.buffer.region;
    if (region.program !== this) throw diag('W5012', `buffer "${t.buffer.name}" belongs to another program`);
    const out: Tiling = { region: region.index, buffer: t.buffer.index, rows, cols, tileRows: t.tile[0], tileCols: t.tile[1], rowTile: t.at[0], colTile: t.at[1] };
    if (t.guard !== undefined) out.guard = t.guard;
    if (t.perm !== undefined) out.view = { dims: [...t.perm.dims], perm: [...t.perm.perm] };
    return out;
  }

  private io(name: string, type: MemType, shape: number[], t: TileSpec & { view?: [number, number] }): IoDecl {
    const cols = shape.length ? shape[shape.length - 1] : 1;
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const [r, c] = t.view ?? [rows, cols];
    return { name, type, shape: [...shape], tiling: this.tiling(t, r, c) };
  }
}

/** Little-endian bytes of constant values (a Uint8Array is taken as the bytes themselves). */
function toBytes(type: MemType, data: ConstantData): Uint8Array {
  if (data instanceof Uint8Array) return data.slice();
  const out = new Uint8Array(data.length * MEM_TYPE_BYTES[type]);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (type === 'f32') view.setFloat32(4 * i, data[i], true);
    else if (type === 'i32') view.setInt32(4 * i, data[i], true);
    else view.setUint16(2 * i, numberToFloat16Bits(data[i]), true);
  }
  return out;
}
