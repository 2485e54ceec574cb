/**
 * Structural validation of an in-memory Program: everything a tool must be able to rely on before it
 * walks the program, independent of any machine. Indices point at things that exist, instruction ids
 * are unique, loops nest at most MAX_LOOP_DEPTH deep and expressions use only the variables in scope,
 * enum-like strings are known, sizes are finite non-negative integers below 2^31, constant data has
 * exactly rows × cols elements, a tiling view (Tiling.view) reshapes rows × cols elements and permutes
 * them by a true permutation; a call's tensors have known dtypes, well-formed shapes and a buffer
 * type their dtype may be stored in, and its attributes are well-formed (whether the op type exists
 * is the loader's question: a file naming an op this build lacks still decodes and prints). Errors
 * are W5012 (W5001 for the embedded target's figures).
 *
 * Both directions of the codec run it: the encoder (so no tool writes a file the decoder refuses)
 * and the decoder after conversion (so no crafted file reaches the emulator malformed). Checks that
 * need the target or per-core evaluation — SRAM fits, buffers overlap while live, routes stay on the
 * mesh, tiles fit their tensor and buffer — belong to the loader (W5004–W5011, W5013).
 */
import { diag } from './diagnostics.js';
import { MAX_CALL_TENSORS, attrsProblem, callStorageTypes, isDType, shapeProblem } from './program-call.js';
import { EXPR_OPS, EXPR_VARS, MAX_EXPR_DEPTH } from './program-codec-expr.js';
import type { BufferDecl, CallTensor, Expr, Instr, Operand, Port, Program, Rect, Tiling } from './program.js';
import { MEM_TYPE_BYTES } from './program.js';
import type { Target } from './target.js';

/** Loop counters are i0..i3, so loops nest at most four deep. */
export const MAX_LOOP_DEPTH = 4;
/** Largest count, index, offset or size accepted (2^31 − 1). */
export const MAX_COUNT = 0x7fffffff;

export const MEM_TYPES = ['f32', 'f16', 'i32'] as const;
export const UNARY_FNS = ['copy', 'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'recip', 'relu', 'sigmoid', 'tanh', 'gelu', 'silu', 'square', 'scale', 'add_scalar'] as const;
export const BINARY_FNS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;
export const BROADCASTS = ['none', 'row', 'col', 'scalar'] as const;
export const REDUCE_FNS = ['sum', 'max'] as const;
export const AXES = ['rows', 'cols'] as const;
export const COMBINE_FNS = ['none', 'add', 'max'] as const;
export const PORTS = ['north', 'south', 'east', 'west', 'ramp'] as const;

/** The nested figure groups of a Target and their fields (the codec and the checks walk this list). */
export const TARGET_GROUPS = {
  sram: ['bytesPerCore', 'banks', 'readWordsPerCycle', 'writeWordsPerCycle'],
  flopsPerCycle: ['float32', 'float16', 'float16Acc32'],
  link: ['bitsPerCycle', 'hopLatency', 'rampLatency'],
  router: ['colours', 'queueWords'],
  overhead: ['issue', 'comm', 'loop'],
  host: ['bytesPerSecond', 'latencySeconds'],
  power: ['coreActiveWatts', 'coreIdleWatts', 'joulesPerWordHop'],
} as const satisfies { [G in TargetGroup]: readonly (keyof Target[G])[] };

type TargetGroup = 'sram' | 'flopsPerCycle' | 'link' | 'router' | 'overhead' | 'host' | 'power';

const HINT = 'the program is malformed: recompile it (a hand-built one: fix the builder calls)';

class Checker {
  private readonly ids = new Map<number, number>(); // id → loop depth of the instruction
  private readonly kernelIds = new Set<number>();
  constructor(private readonly source: string | undefined) {}

  fail(where: string, what: string, code = 'W5012', hint = HINT): never {
    throw diag(code, `${what} (${where})`, this.source ? `${this.source}: ${where}` : where, hint);
  }

  count(v: unknown, where: string, what: string, min = 0): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_COUNT) {
      this.fail(where, `${what} is ${String(v)}; expected an integer in [${min}, ${MAX_COUNT}]`);
    }
    return v;
  }

  oneOf<T extends string>(v: unknown, list: readonly T[], where: string, what: string): T {
    if (typeof v !== 'string' || !(list as readonly string[]).includes(v)) this.fail(where, `unknown ${what} '${String(v)}'`);
    return v as T;
  }

  /** An expression whose variables are x, y, w, h and the counters of `loops` enclosing loops. */
  expr(e: unknown, loops: number, where: string, what: string): void {
    const walk = (n: unknown, d: number): void => {
      if (d > MAX_EXPR_DEPTH) this.fail(where, `${what}: expression nested deeper than ${MAX_EXPR_DEPTH}`);
      if (typeof n === 'number') {
        if (!Number.isSafeInteger(n)) this.fail(where, `${what}: literal ${n} is not a safe integer`);
        return;
      }
      if (typeof n !== 'object' || n === null) this.fail(where, `${what}: not an expression`);
      const o = n as Record<string, unknown>;
      if ('v' in o) {
        const v = this.oneOf(o.v, EXPR_VARS, where, `${what} variable`);
        const i = v.startsWith('i') ? Number(v.slice(1)) : -1;
        if (i >= loops) this.fail(where, `${what}: loop counter ${v} used in ${loops === 0 ? 'no loop' : `only ${loops} enclosing loop(s)`}`);
        return;
      }
      if (o.op === 'select') {
        walk(o.c, d + 1);
      } else {
        this.oneOf(o.op, EXPR_OPS, where, `${what} operator`);
      }
      walk(o.a, d + 1);
      walk(o.b, d + 1);
    };
    walk(e, 1);
  }

  /** A count-like expression: literals must be in [0, MAX_COUNT]. */
  size(e: unknown, loops: number, where: string, what: string): void {
    this.expr(e, loops, where, what);
    if (typeof e === 'number' && (e < 0 || e > MAX_COUNT)) this.fail(where, `${what} is ${e}; expected 0..${MAX_COUNT}`);
  }

  rect(r: Rect | undefined, where: string): void {
    if (typeof r !== 'object' || r === null) this.fail(where, 'missing rectangle');
    this.count(r.x, where, 'rect x');
    this.count(r.y, where, 'rect y');
    this.count(r.width, where, 'rect width', 1);
    this.count(r.height, where, 'rect height', 1);
  }

  target(t: Target): void {
    if (typeof t !== 'object' || t === null) this.fail('target', 'missing target');
    const fig = (v: unknown, name: string, positive = false): void => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (positive && v === 0)) {
        this.fail('target', `target figure ${name} is ${String(v)}; expected a finite ${positive ? 'positive' : 'non-negative'} number`, 'W5001',
          'the embedded target is invalid: recompile with a valid target');
      }
    };
    if (typeof t.name !== 'string') this.fail('target', 'target name is not a string', 'W5001');
    for (const k of ['width', 'height'] as const) {
      fig(t[k], k, true);
      this.count(t[k], 'target', `target ${k}`, 1);
    }
    fig(t.clockHz, 'clockHz', true);
    fig(t.relayCycles, 'relayCycles');
    for (const [g, keys] of Object.entries(TARGET_GROUPS)) {
      const obj = (t as unknown as Record<string, Record<string, unknown> | null | undefined>)[g];
      if (typeof obj !== 'object' || obj === null) this.fail('target', `target.${g} is missing`, 'W5001');
      for (const k of keys) fig(obj[k], `${g}.${k}`);
    }
  }

  operand(o: Operand, buffers: readonly BufferDecl[], loops: number, where: string, what: string): void {
    if (typeof o !== 'object' || o === null) this.fail(where, `missing operand ${what}`);
    if (!Number.isInteger(o.buf) || o.buf < 0 || o.buf >= buffers.length) {
      this.fail(where, `operand ${what} names buffer ${String(o.buf)}, but the kernel has ${buffers.length} buffer(s)`);
    }
    this.expr(o.offset, loops, where, `operand ${what} offset`);
  }

  callTensor(t: CallTensor, buffers: readonly BufferDecl[], loops: number, where: string, what: string): void {
    if (typeof t !== 'object' || t === null) this.fail(where, `${what} is not a tensor or null`);
    this.operand(t, buffers, loops, where, what);
    if (!isDType(t.dtype)) this.fail(where, `${what} has unknown dtype '${String(t.dtype)}'`);
    const sp = shapeProblem(t.shape);
    if (sp) this.fail(where, `${what}: ${sp}`);
    const b = buffers[t.buf];
    const types = callStorageTypes(t.dtype);
    if (!types.includes(b.type)) this.fail(where, `${what} (${t.dtype}) is in buffer ${t.buf} of type ${b.type}; ${t.dtype} is stored in ${types.join(' or ')} buffers`);
  }

  buffers(list: readonly BufferDecl[], where: string): void {
    list.forEach((b, i) => {
      const w = `${where}, buffer ${i} "${b.name}"`;
      if (typeof b.name !== 'string') this.fail(w, 'buffer name is not a string');
      const type = this.oneOf(b.type, MEM_TYPES, w, 'buffer type');
      this.count(b.offset, w, 'buffer offset');
      this.count(b.length, w, 'buffer length');
      if (b.offset % MEM_TYPE_BYTES[type] !== 0) this.fail(w, `offset ${b.offset} is not aligned to the ${MEM_TYPE_BYTES[type]}-byte ${type} element`);
      if (b.offset + b.length * MEM_TYPE_BYTES[type] > MAX_COUNT) this.fail(w, `buffer ends past byte ${MAX_COUNT}`);
      // A core-only expression: whether a buffer exists cannot change between loop iterations.
      if (b.guard !== undefined) this.expr(b.guard, 0, w, 'buffer guard');
    });
  }

  liveRanges(list: readonly BufferDecl[], where: string): void {
    list.forEach((b, i) => {
      if (b.live === undefined) return;
      const w = `${where}, buffer ${i} "${b.name}"`;
      if (!Array.isArray(b.live) || b.live.length !== 2) this.fail(w, 'live range is not a pair of instruction ids');
      const [first, last] = b.live;
      this.count(first, w, 'live range start');
      this.count(last, w, 'live range end');
      if (first > last) this.fail(w, `live range ${first}..${last} is empty`);
      for (const id of b.live) if (!this.kernelIds.has(id)) this.fail(w, `live range names instruction ${id}, which is not in this kernel`);
    });
  }

  body(list: readonly Instr[], buffers: readonly BufferDecl[], loops: number, region: string): void {
    for (const ins of list) {
      if (typeof ins !== 'object' || ins === null) this.fail(region, 'missing instruction');
      const where = `${region}, instruction ${String(ins.id)}${ins.loc ? ` "${ins.loc}"` : ''}`;
      const id = this.count(ins.id, where, 'instruction id');
      if (this.ids.has(id)) this.fail(where, `instruction id ${id} is used twice`);
      this.ids.set(id, loops);
      this.kernelIds.add(id);
      if (typeof ins.loc !== 'string') this.fail(where, 'location is not a string');
      if (ins.guard !== undefined) this.expr(ins.guard, loops, where, 'guard');
      const op = (n: Operand, what: string) => this.operand(n, buffers, loops, where, what);
      const size = (e: Expr, what: string) => this.size(e, loops, where, what);
      const flag = (v: unknown, what: string) => {
        if (typeof v !== 'boolean') this.fail(where, `${what} is not a boolean`);
      };
      const real = (v: unknown, what: string) => {
        if (typeof v !== 'number') this.fail(where, `${what} is not a number`);
      };
      switch (ins.op) {
        case 'matmul':
          op(ins.a, 'a'); op(ins.b, 'b'); op(ins.c, 'c');
          size(ins.m, 'm'); size(ins.k, 'k'); size(ins.n, 'n');
          flag(ins.accumulate, 'accumulate'); flag(ins.transB, 'transB');
          break;
        case 'unary':
          this.oneOf(ins.fn, UNARY_FNS, where, 'unary function');
          op(ins.src, 'src'); op(ins.dst, 'dst'); size(ins.n, 'n'); real(ins.scalar, 'scalar');
          break;
        case 'binary':
          this.oneOf(ins.fn, BINARY_FNS, where, 'binary function');
          this.oneOf(ins.bcast, BROADCASTS, where, 'broadcast');
          op(ins.a, 'a'); op(ins.b, 'b'); op(ins.dst, 'dst'); size(ins.rows, 'rows'); size(ins.cols, 'cols');
          break;
        case 'reduce':
          this.oneOf(ins.fn, REDUCE_FNS, where, 'reduce function');
          this.oneOf(ins.axis, AXES, where, 'axis');
          op(ins.src, 'src'); op(ins.dst, 'dst'); size(ins.rows, 'rows'); size(ins.cols, 'cols'); flag(ins.accumulate, 'accumulate');
          break;
        case 'fill':
          op(ins.dst, 'dst'); size(ins.n, 'n'); real(ins.value, 'value');
          break;
        case 'send':
          op(ins.src, 'src'); size(ins.n, 'n'); size(ins.colour, 'colour');
          break;
        case 'recv':
          op(ins.dst, 'dst'); size(ins.n, 'n'); size(ins.colour, 'colour');
          this.oneOf(ins.combine, COMBINE_FNS, where, 'combine function');
          break;
        case 'forward':
          op(ins.buf, 'buf'); size(ins.n, 'n'); size(ins.inColour, 'inColour'); size(ins.outColour, 'outColour');
          this.oneOf(ins.combine, COMBINE_FNS, where, 'combine function');
          break;
        case 'wait':
          break;
        case 'loop':
          if (loops >= MAX_LOOP_DEPTH) this.fail(where, `loops nest deeper than ${MAX_LOOP_DEPTH} (counters are i0..i3)`);
          size(ins.count, 'loop count');
          if (!Array.isArray(ins.body)) this.fail(where, 'loop body is not a list');
          this.body(ins.body, buffers, loops + 1, region);
          break;
        case 'call': {
          if (typeof ins.opType !== 'string' || ins.opType === '') this.fail(where, 'call op type is not a non-empty string');
          if (typeof ins.domain !== 'string') this.fail(where, 'call domain is not a string');
          const ap = attrsProblem(ins.attrs);
          if (ap) this.fail(where, ap);
          for (const [list, kind] of [[ins.inputs, 'input'], [ins.outputs, 'output']] as const) {
            if (!Array.isArray(list) || list.length > MAX_CALL_TENSORS) this.fail(where, `call ${kind}s are not a list of at most ${MAX_CALL_TENSORS}`);
            list.forEach((t, k) => { if (t !== null) this.callTensor(t, buffers, loops, where, `${kind} ${k}`); });
          }
          break;
        }
        case 'delay':
          this.expr(ins.cycles, loops, where, 'delay cycles');
          break;
        case 'swap': {
          for (const [v, what] of [[ins.a, 'a'], [ins.b, 'b']] as const) {
            if (!Number.isInteger(v) || v < 0 || v >= buffers.length) this.fail(where, `swap operand ${what} names buffer ${String(v)}, but the kernel has ${buffers.length} buffer(s)`);
          }
          const [a, b] = [buffers[ins.a], buffers[ins.b]];
          if (ins.a === ins.b) this.fail(where, `swap of buffer ${ins.a} with itself`);
          if (a.type !== b.type || a.length !== b.length) {
            this.fail(where, `swap of unequal buffers ${ins.a} (${a.type}[${a.length}]) and ${ins.b} (${b.type}[${b.length}])`);
          }
          break;
        }
        default:
          this.fail(where, `unknown instruction '${String((ins as { op: unknown }).op)}'`);
      }
    }
  }

  tiling(t: Tiling, p: Program, where: string): number {
    if (typeof t !== 'object' || t === null) this.fail(where, 'missing tiling');
    const r = this.count(t.region, where, 'tiling region');
    if (r >= p.regions.length) this.fail(where, `tiling names region ${r}, but the program has ${p.regions.length} region(s)`);
    const nb = p.regions[r].kernel.buffers.length;
    const b = this.count(t.buffer, where, 'tiling buffer');
    if (b >= nb) this.fail(where, `tiling names buffer ${b}, but region ${r} has ${nb} buffer(s)`);
    const rows = this.count(t.rows, where, 'rows', 1);
    const cols = this.count(t.cols, where, 'cols', 1);
    this.count(t.tileRows, where, 'tile rows', 1);
    this.count(t.tileCols, where, 'tile cols', 1);
    this.expr(t.rowTile, 0, where, 'row tile');
    this.expr(t.colTile, 0, where, 'col tile');
    if (t.guard !== undefined) this.expr(t.guard, 0, where, 'tiling guard');
    if (t.view !== undefined) {
      const prob = viewProblem(t.view, rows, cols);
      if (prob) this.fail(where, prob);
    }
    return rows * cols;
  }

  program(p: Program): void {
    if (typeof p.name !== 'string') this.fail('program', 'program name is not a string');
    this.target(p.target);
    this.count(p.opset, 'program', 'opset', 1);
    if (p.source !== undefined && typeof p.source !== 'string') this.fail('program', 'source is not a string');
    p.regions.forEach((reg, ri) => {
      const where = `region ${ri} "${reg.name}"`;
      if (typeof reg.name !== 'string') this.fail(where, 'region name is not a string');
      this.rect(reg.rect, where);
      if (typeof reg.kernel !== 'object' || reg.kernel === null) this.fail(where, 'missing kernel');
      this.buffers(reg.kernel.buffers, where);
      this.kernelIds.clear();
      this.body(reg.kernel.body, reg.kernel.buffers, 0, where);
      this.liveRanges(reg.kernel.buffers, where);
    });
    p.routes.forEach((rule, i) => {
      const where = `route rule ${i} (colour ${String(rule.colour)})`;
      this.count(rule.colour, where, 'colour');
      this.rect(rule.rect, where);
      this.oneOf(rule.input, PORTS, where, 'input port');
      if (!Array.isArray(rule.outputs) || rule.outputs.length === 0) this.fail(where, 'a route rule needs at least one output port');
      const seen = new Set<Port>();
      for (const o of rule.outputs) {
        this.oneOf(o, PORTS, where, 'output port');
        if (seen.has(o)) this.fail(where, `output port ${o} is listed twice`);
        seen.add(o);
      }
      if (rule.guard !== undefined) this.expr(rule.guard, 0, where, 'route guard');
    });
    const names = (kind: string, list: readonly { name: string }[]) => {
      const seen = new Set<string>();
      for (const d of list) {
        if (typeof d.name !== 'string') this.fail(kind, `${kind} name is not a string`);
        if (seen.has(d.name)) this.fail(`${kind} "${d.name}"`, `${kind} name "${d.name}" is used twice`);
        seen.add(d.name);
      }
    };
    names('constant', p.constants);
    names('input', p.inputs);
    names('output', p.outputs);
    for (const c of p.constants) {
      const where = `constant "${c.name}"`;
      const type = this.oneOf(c.type, MEM_TYPES, where, 'type');
      const elements = this.tiling(c.tiling, p, where);
      if (c.data !== undefined) {
        if (!(c.data instanceof Uint8Array)) this.fail(where, 'constant data is not bytes');
        const want = elements * MEM_TYPE_BYTES[type];
        if (c.data.length !== want) this.fail(where, `constant data has ${c.data.length} bytes; ${c.tiling.rows}x${c.tiling.cols} ${type} needs ${want}`);
      }
    }
    for (const [kind, list] of [['input', p.inputs], ['output', p.outputs]] as const) {
      for (const io of list) {
        const where = `${kind} "${io.name}"`;
        this.oneOf(io.type, MEM_TYPES, where, 'type');
        if (!Array.isArray(io.shape) || io.shape.length > 64) this.fail(where, 'shape is not a list of at most 64 dims');
        let n = 1;
        for (const d of io.shape) n *= this.count(d, where, 'shape dim');
        const elements = this.tiling(io.tiling, p, where);
        if (n !== elements) this.fail(where, `shape [${io.shape.join(',')}] has ${n} elements but the tiling views ${io.tiling.rows}x${io.tiling.cols}`);
      }
    }
    if (p.predicted !== undefined) {
      const pr = p.predicted;
      const where = 'prediction';
      if (typeof pr !== 'object' || pr === null) this.fail(where, 'prediction is not an object');
      if (!Number.isSafeInteger(pr.totalCycles) || pr.totalCycles < 0) this.fail(where, `total cycles ${String(pr.totalCycles)} is not a non-negative integer`);
      const seen = new Set<number>();
      for (const ip of pr.instructions) {
        const w = `prediction of instruction ${String(ip.instr)}`;
        const loops = this.ids.get(ip.instr);
        if (loops === undefined) this.fail(w, `predicts instruction ${String(ip.instr)}, which does not exist`);
        if (seen.has(ip.instr)) this.fail(w, `instruction ${ip.instr} is predicted twice`);
        seen.add(ip.instr);
        this.expr(ip.start, loops, w, 'start');
      }
    }
  }
}

/** Most dims a tiling view may have (as an io shape). */
export const MAX_VIEW_DIMS = 64;

/**
 * What is wrong with a tiling view of a rows × cols matrix, or undefined: dims and perm are lists of
 * the same non-zero length, at most MAX_VIEW_DIMS; dims are integers in [1, MAX_COUNT] whose product
 * is rows·cols; perm is a permutation of 0..n−1. The loader asks it too (W5011).
 */
export function viewProblem(v: unknown, rows: number, cols: number): string | undefined {
  if (typeof v !== 'object' || v === null) return 'tiling view is not an object';
  const { dims, perm } = v as { dims?: unknown; perm?: unknown };
  if (!Array.isArray(dims) || !Array.isArray(perm)) return 'tiling view needs lists dims and perm';
  const list = (a: unknown[]) => `[${a.map(String).join(',')}]`;
  if (dims.length === 0 && perm.length === 0) return 'tiling view has no dims (omit the view for the identity)';
  if (dims.length === 0 || perm.length === 0) return `tiling view has dims ${list(dims)} and perm ${list(perm)}: give both or neither`;
  if (dims.length > MAX_VIEW_DIMS) return `tiling view has ${dims.length} dims; at most ${MAX_VIEW_DIMS} are allowed`;
  if (perm.length !== dims.length) return `tiling view perm ${list(perm)} has ${perm.length} entries but dims ${list(dims)} has ${dims.length}`;
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_COUNT) return `tiling view dim ${String(d)} is not an integer in [1, ${MAX_COUNT}]`;
    n *= d;
  }
  const seen = new Array<boolean>(perm.length).fill(false);
  for (const q of perm) {
    if (typeof q !== 'number' || !Number.isInteger(q) || q < 0 || q >= perm.length || seen[q]) {
      return `tiling view perm ${list(perm)} is not a permutation of 0..${perm.length - 1}`;
    }
    seen[q] = true;
  }
  if (n !== rows * cols) return `tiling view dims ${list(dims)} hold ${n} elements but the tiling views ${rows}x${cols} = ${rows * cols}`;
  return undefined;
}

/**
 * Throws a DiagnosticError (W5012, or W5001 for the target) at the first structural fault of `p`.
 * `source` (a file name) prefixes the location.
 */
export function validateProgram(p: Program, source?: string): void {
  new Checker(source).program(p);
}
