/**
 * Program ↔ protobuf message objects (the shapes protobufjs encodes from and decodes to, field names
 * camelCased from program.proto). programToMessage assumes a validated Program; messageToProgram
 * trusts nothing but the wire types protobufjs guarantees: it rejects missing messages, missing or
 * unknown enum values, malformed expressions and instructions with no kind or several (W5012), and
 * builds the in-memory objects in a fixed key order with absent optional fields left absent.
 */
import { diag } from './diagnostics.js';
import { dtypeFromOnnx, onnxCode, type DType } from './dtype.js';
import type { Attr, Attrs } from './graph.js';
import { ATTR_KINDS, tensorFromBytes, tensorToBytes } from './program-call.js';
import { codesToExpr, exprToCodes, type Int64Like } from './program-codec-expr.js';
import {
  AXES, BINARY_FNS, BROADCASTS, COMBINE_FNS, MAX_LOOP_DEPTH, MEM_TYPES, PORTS, REDUCE_FNS, TARGET_GROUPS, UNARY_FNS,
} from './program-codec-validate.js';
import type { BufferDecl, CallTensor, Expr, Instr, IoDecl, Operand, Program, Rect, Region, RouteRule, Tiling } from './program.js';
import { DEFAULT_OPSET, PROGRAM_FORMAT_VERSION } from './program.js';
import type { Target } from './target.js';

// ---- message shapes ---------------------------------------------------------------------------

type Codes = Int64Like[];
type Opt<T> = T | null | undefined;

export interface MOperand { buf: number; offset: Codes }
export interface MRect { x: number; y: number; width: number; height: number }
/** Only the fields that carry something are set when encoding (an omitted tensor is its flag alone). */
export interface MCallTensor { omitted: boolean; at?: Opt<MOperand>; dtype?: number; shape?: number[] }
export interface MTensorValue { dtype: number; shape: number[]; data: Uint8Array }
/** When encoding, only the field of the attribute's kind is set; decoding reads defaults for the rest. */
export interface MAttribute {
  name: string; kind: number; i?: number; f?: number; s?: string; ints?: number[]; floats?: number[]; strings?: string[]; t?: Opt<MTensorValue>;
}
export interface MCall { opType: string; domain: string; attrs: MAttribute[]; inputs: MCallTensor[]; outputs: MCallTensor[] }
export interface MBuffer { name: string; type: number; offset: number; length: number; live?: Opt<{ first: number; last: number }>; guard?: Codes }
export interface MInstr {
  id: number;
  loc: string;
  guard: Codes;
  matmul?: Opt<{ a: Opt<MOperand>; b: Opt<MOperand>; c: Opt<MOperand>; m: Codes; k: Codes; n: Codes; accumulate: boolean; transB: boolean }>;
  unary?: Opt<{ fn: number; src: Opt<MOperand>; dst: Opt<MOperand>; n: Codes; scalar: number }>;
  binary?: Opt<{ fn: number; a: Opt<MOperand>; b: Opt<MOperand>; dst: Opt<MOperand>; rows: Codes; cols: Codes; bcast: number }>;
  reduce?: Opt<{ fn: number; src: Opt<MOperand>; dst: Opt<MOperand>; rows: Codes; cols: Codes; axis: number; accumulate: boolean }>;
  fill?: Opt<{ dst: Opt<MOperand>; n: Codes; value: number }>;
  send?: Opt<{ src: Opt<MOperand>; n: Codes; colour: Codes }>;
  recv?: Opt<{ dst: Opt<MOperand>; n: Codes; colour: Codes; combine: number }>;
  forward?: Opt<{ buf: Opt<MOperand>; n: Codes; inColour: Codes; outColour: Codes; combine: number }>;
  wait?: Opt<Record<string, never>>;
  loop?: Opt<{ count: Codes; body: MInstr[] }>;
  swap?: Opt<{ a: number; b: number }>;
  call?: Opt<MCall>;
  delay?: Opt<{ cycles: Codes }>;
}
export interface MTiling {
  region: number; buffer: number; rows: number; cols: number; tileRows: number; tileCols: number;
  rowTile: Codes; colTile: Codes; guard: Codes;
  /** Set only for a tiling with a view (both empty: identity, as before the field existed). */
  viewDims?: number[]; viewPerm?: number[];
}
export interface MRegion { name: string; rect: Opt<MRect>; kernel: Opt<{ buffers: MBuffer[]; body: MInstr[] }> }
export interface MRoute { colour: number; rect: Opt<MRect>; input: number; outputs: number[]; guard: Codes }
export interface MConstant { name: string; type: number; tiling: Opt<MTiling>; data?: Opt<Uint8Array> }
export interface MIo { name: string; type: number; shape: number[]; tiling: Opt<MTiling> }
export interface MProgram {
  name: string;
  target: Opt<Record<string, unknown>>;
  opset: number;
  source?: Opt<string>;
  regions: MRegion[];
  routes: MRoute[];
  constants: MConstant[];
  inputs: MIo[];
  outputs: MIo[];
  predicted?: Opt<{ totalCycles: number; instructions: { instr: number; start: Codes }[] }>;
}

const INSTR_KINDS = ['matmul', 'unary', 'binary', 'reduce', 'fill', 'send', 'recv', 'forward', 'wait', 'loop', 'swap', 'call', 'delay'] as const;

// ---- encode -----------------------------------------------------------------------------------

const code = (list: readonly string[], v: string): number => list.indexOf(v) + 1;
const ex = (e: Expr): number[] => exprToCodes(e);
const exOpt = (e: Expr | undefined): number[] => (e === undefined ? [] : exprToCodes(e));
const opnd = (o: Operand): MOperand => ({ buf: o.buf, offset: ex(o.offset) });
const rect = (r: Rect): MRect => ({ x: r.x, y: r.y, width: r.width, height: r.height });

function instrToMessage(i: Instr): MInstr {
  const m: MInstr = { id: i.id, loc: i.loc, guard: exOpt(i.guard) };
  switch (i.op) {
    case 'matmul':
      m.matmul = { a: opnd(i.a), b: opnd(i.b), c: opnd(i.c), m: ex(i.m), k: ex(i.k), n: ex(i.n), accumulate: i.accumulate, transB: i.transB };
      break;
    case 'unary':
      m.unary = { fn: code(UNARY_FNS, i.fn), src: opnd(i.src), dst: opnd(i.dst), n: ex(i.n), scalar: i.scalar };
      break;
    case 'binary':
      m.binary = { fn: code(BINARY_FNS, i.fn), a: opnd(i.a), b: opnd(i.b), dst: opnd(i.dst), rows: ex(i.rows), cols: ex(i.cols), bcast: code(BROADCASTS, i.bcast) };
      break;
    case 'reduce':
      m.reduce = { fn: code(REDUCE_FNS, i.fn), src: opnd(i.src), dst: opnd(i.dst), rows: ex(i.rows), cols: ex(i.cols), axis: code(AXES, i.axis), accumulate: i.accumulate };
      break;
    case 'fill':
      m.fill = { dst: opnd(i.dst), n: ex(i.n), value: i.value };
      break;
    case 'send':
      m.send = { src: opnd(i.src), n: ex(i.n), colour: ex(i.colour) };
      break;
    case 'recv':
      m.recv = { dst: opnd(i.dst), n: ex(i.n), colour: ex(i.colour), combine: code(COMBINE_FNS, i.combine) };
      break;
    case 'forward':
      m.forward = { buf: opnd(i.buf), n: ex(i.n), inColour: ex(i.inColour), outColour: ex(i.outColour), combine: code(COMBINE_FNS, i.combine) };
      break;
    case 'wait':
      m.wait = {};
      break;
    case 'loop':
      m.loop = { count: ex(i.count), body: i.body.map(instrToMessage) };
      break;
    case 'swap':
      m.swap = { a: i.a, b: i.b };
      break;
    case 'call':
      m.call = {
        opType: i.opType, domain: i.domain, attrs: attrsToMessage(i.attrs),
        inputs: i.inputs.map(callTensorToMessage), outputs: i.outputs.map(callTensorToMessage),
      };
      break;
    case 'delay':
      m.delay = { cycles: ex(i.cycles) };
      break;
  }
  return m;
}

function callTensorToMessage(t: CallTensor | null): MCallTensor {
  if (t === null) return { omitted: true };
  return { omitted: false, at: { buf: t.buf, offset: ex(t.offset) }, dtype: onnxCode(t.dtype), shape: [...t.shape] };
}

/** Attributes sorted by name, so the bytes do not depend on the order they were set in. */
function attrsToMessage(attrs: Attrs): MAttribute[] {
  return Object.keys(attrs).sort().map((name) => {
    const a = attrs[name];
    const m: MAttribute = { name, kind: code(ATTR_KINDS, a.kind) };
    switch (a.kind) {
      case 'int': m.i = a.value; break;
      case 'float': m.f = a.value; break;
      case 'string': m.s = a.value; break;
      case 'ints': m.ints = [...a.value]; break;
      case 'floats': m.floats = [...a.value]; break;
      case 'strings': m.strings = [...a.value]; break;
      case 'tensor': m.t = { dtype: onnxCode(a.value.dtype), shape: [...a.value.shape], data: tensorToBytes(a.value) }; break;
    }
    return m;
  });
}

function tilingToMessage(t: Tiling): MTiling {
  const m: MTiling = {
    region: t.region, buffer: t.buffer, rows: t.rows, cols: t.cols, tileRows: t.tileRows, tileCols: t.tileCols,
    rowTile: ex(t.rowTile), colTile: ex(t.colTile), guard: exOpt(t.guard),
  };
  if (t.view) {
    m.viewDims = [...t.view.dims];
    m.viewPerm = [...t.view.perm];
  }
  return m;
}

function targetToMessage(t: Target): Record<string, unknown> {
  const m: Record<string, unknown> = { name: t.name, width: t.width, height: t.height, clockHz: t.clockHz, relayCycles: t.relayCycles };
  for (const [g, keys] of Object.entries(TARGET_GROUPS)) {
    const src = (t as unknown as Record<string, Record<string, number>>)[g];
    m[g] = Object.fromEntries(keys.map((k) => [k, src[k]]));
  }
  return m;
}

/** The message object of a (validated) program. */
export function programToMessage(p: Program): MProgram {
  const m: MProgram = {
    name: p.name,
    target: targetToMessage(p.target),
    opset: p.opset,
    ...(p.source !== undefined ? { source: p.source } : {}),
    regions: p.regions.map((r) => ({
      name: r.name,
      rect: rect(r.rect),
      kernel: {
        buffers: r.kernel.buffers.map((b) => {
          const mb: MBuffer = { name: b.name, type: code(MEM_TYPES, b.type), offset: b.offset, length: b.length };
          if (b.live) mb.live = { first: b.live[0], last: b.live[1] };
          if (b.guard !== undefined) mb.guard = ex(b.guard);
          return mb;
        }),
        body: r.kernel.body.map(instrToMessage),
      },
    })),
    routes: p.routes.map((r) => ({
      colour: r.colour, rect: rect(r.rect), input: code(PORTS, r.input), outputs: r.outputs.map((o) => code(PORTS, o)), guard: exOpt(r.guard),
    })),
    constants: p.constants.map((c) => {
      const mc: MConstant = { name: c.name, type: code(MEM_TYPES, c.type), tiling: tilingToMessage(c.tiling) };
      if (c.data !== undefined) mc.data = c.data;
      return mc;
    }),
    inputs: p.inputs.map(ioToMessage),
    outputs: p.outputs.map(ioToMessage),
  };
  if (p.predicted) {
    m.predicted = {
      totalCycles: p.predicted.totalCycles,
      instructions: p.predicted.instructions.map((ip) => ({ instr: ip.instr, start: ex(ip.start) })),
    };
  }
  return m;
}

function ioToMessage(io: IoDecl): MIo {
  return { name: io.name, type: code(MEM_TYPES, io.type), shape: [...io.shape], tiling: tilingToMessage(io.tiling) };
}

// ---- decode -----------------------------------------------------------------------------------

class Reader {
  constructor(private readonly source: string | undefined) {}

  fail(where: string, what: string): never {
    throw diag('W5012', `${what} (${where})`, this.source ? `${this.source}: ${where}` : where, 'the program file is corrupt or was written by an incompatible tool; recompile it');
  }

  req<T>(v: Opt<T>, where: string, what: string): T {
    if (v === null || v === undefined) this.fail(where, `missing ${what}`);
    return v;
  }

  en<T extends string>(v: number, list: readonly T[], where: string, what: string): T {
    if (v === 0) this.fail(where, `missing ${what}`);
    const s = list[v - 1];
    if (s === undefined) this.fail(where, `unknown ${what} value ${v}`);
    return s;
  }

  ex(codes: Codes, where: string, what: string): Expr {
    const e = codesToExpr(codes, `${where}: ${what}`, this.source);
    if (e === undefined) this.fail(where, `missing expression ${what}`);
    return e;
  }

  opnd(o: Opt<MOperand>, where: string, what: string): Operand {
    const m = this.req(o, where, `operand ${what}`);
    return { buf: m.buf, offset: this.ex(m.offset, where, `${what} offset`) };
  }

  rect(r: Opt<MRect>, where: string): Rect {
    const m = this.req(r, where, 'rectangle');
    return { x: m.x, y: m.y, width: m.width, height: m.height };
  }

  instr(m: MInstr, depth: number, region: string): Instr {
    const where = `${region}, instruction ${m.id}`;
    const kinds = INSTR_KINDS.filter((k) => m[k] !== null && m[k] !== undefined);
    if (kinds.length !== 1) this.fail(where, kinds.length === 0 ? 'instruction has no kind' : `instruction has several kinds (${kinds.join(', ')})`);
    const guard = codesToExpr(m.guard, `${where}: guard`, this.source);
    const c = guard === undefined ? { id: m.id, loc: m.loc } : { id: m.id, loc: m.loc, guard };
    const ex = (codes: Codes, what: string) => this.ex(codes, where, what);
    const op = (o: Opt<MOperand>, what: string) => this.opnd(o, where, what);
    const combine = (v: number) => this.en(v, COMBINE_FNS, where, 'combine function');
    switch (kinds[0]) {
      case 'matmul': {
        const i = m.matmul!;
        return { ...c, op: 'matmul', a: op(i.a, 'a'), b: op(i.b, 'b'), c: op(i.c, 'c'), m: ex(i.m, 'm'), k: ex(i.k, 'k'), n: ex(i.n, 'n'), accumulate: i.accumulate, transB: i.transB };
      }
      case 'unary': {
        const i = m.unary!;
        return { ...c, op: 'unary', fn: this.en(i.fn, UNARY_FNS, where, 'unary function'), src: op(i.src, 'src'), dst: op(i.dst, 'dst'), n: ex(i.n, 'n'), scalar: i.scalar };
      }
      case 'binary': {
        const i = m.binary!;
        return {
          ...c, op: 'binary', fn: this.en(i.fn, BINARY_FNS, where, 'binary function'), a: op(i.a, 'a'), b: op(i.b, 'b'), dst: op(i.dst, 'dst'),
          rows: ex(i.rows, 'rows'), cols: ex(i.cols, 'cols'), bcast: this.en(i.bcast, BROADCASTS, where, 'broadcast'),
        };
      }
      case 'reduce': {
        const i = m.reduce!;
        return {
          ...c, op: 'reduce', fn: this.en(i.fn, REDUCE_FNS, where, 'reduce function'), src: op(i.src, 'src'), dst: op(i.dst, 'dst'),
          rows: ex(i.rows, 'rows'), cols: ex(i.cols, 'cols'), axis: this.en(i.axis, AXES, where, 'axis'), accumulate: i.accumulate,
        };
      }
      case 'fill': {
        const i = m.fill!;
        return { ...c, op: 'fill', dst: op(i.dst, 'dst'), n: ex(i.n, 'n'), value: i.value };
      }
      case 'send': {
        const i = m.send!;
        return { ...c, op: 'send', src: op(i.src, 'src'), n: ex(i.n, 'n'), colour: ex(i.colour, 'colour') };
      }
      case 'recv': {
        const i = m.recv!;
        return { ...c, op: 'recv', dst: op(i.dst, 'dst'), n: ex(i.n, 'n'), colour: ex(i.colour, 'colour'), combine: combine(i.combine) };
      }
      case 'forward': {
        const i = m.forward!;
        return {
          ...c, op: 'forward', buf: op(i.buf, 'buf'), n: ex(i.n, 'n'), inColour: ex(i.inColour, 'inColour'), outColour: ex(i.outColour, 'outColour'),
          combine: combine(i.combine),
        };
      }
      case 'wait':
        return { ...c, op: 'wait' };
      case 'loop': {
        const i = m.loop!;
        if (depth >= MAX_LOOP_DEPTH) this.fail(where, `loops nest deeper than ${MAX_LOOP_DEPTH} (counters are i0..i3)`);
        return { ...c, op: 'loop', count: ex(i.count, 'count'), body: i.body.map((b) => this.instr(b, depth + 1, region)) };
      }
      case 'swap': {
        const i = m.swap!;
        return { ...c, op: 'swap', a: i.a, b: i.b };
      }
      case 'call': {
        const i = m.call!;
        return {
          ...c, op: 'call', opType: i.opType, domain: i.domain, attrs: this.attrs(i.attrs, where),
          inputs: i.inputs.map((t, k) => this.callTensor(t, where, `input ${k}`)),
          outputs: i.outputs.map((t, k) => this.callTensor(t, where, `output ${k}`)),
        };
      }
      case 'delay':
        return { ...c, op: 'delay', cycles: ex(m.delay!.cycles, 'cycles') };
    }
  }

  dtype(v: number, where: string, what: string): DType {
    if (v === 0) this.fail(where, `missing ${what}`);
    const d = dtypeFromOnnx(v);
    if (d === undefined) this.fail(where, `unknown ${what} value ${v}`);
    return d;
  }

  callTensor(t: MCallTensor, where: string, what: string): CallTensor | null {
    if (t.omitted) return null;
    const at = this.opnd(t.at, where, what);
    return { buf: at.buf, offset: at.offset, dtype: this.dtype(t.dtype ?? 0, where, `${what} dtype`), shape: [...(t.shape ?? [])] };
  }

  attrs(list: MAttribute[], where: string): Attrs {
    const out: Attrs = {};
    for (const m of list) {
      const w = `${where}, attribute "${m.name}"`;
      if (Object.prototype.hasOwnProperty.call(out, m.name)) this.fail(w, `attribute "${m.name}" is given twice`);
      let a: Attr;
      switch (this.en(m.kind, ATTR_KINDS, w, 'attribute kind')) {
        case 'int': a = { kind: 'int', value: m.i ?? 0 }; break;
        case 'float': a = { kind: 'float', value: m.f ?? 0 }; break;
        case 'string': a = { kind: 'string', value: m.s ?? '' }; break;
        case 'ints': a = { kind: 'ints', value: [...(m.ints ?? [])] }; break;
        case 'floats': a = { kind: 'floats', value: [...(m.floats ?? [])] }; break;
        case 'strings': a = { kind: 'strings', value: [...(m.strings ?? [])] }; break;
        case 'tensor': {
          const t = this.req(m.t, w, 'tensor value');
          // Copy: the decoded bytes alias the file buffer (tensorFromBytes copies into a fresh typed array).
          const v = tensorFromBytes(this.dtype(t.dtype, w, 'tensor dtype'), [...t.shape], t.data);
          if (typeof v === 'string') this.fail(w, v);
          a = { kind: 'tensor', value: v };
          break;
        }
      }
      // A name like "__proto__" must become an own property, not the object's prototype.
      Object.defineProperty(out, m.name, { value: a, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }

  tiling(t: Opt<MTiling>, where: string): Tiling {
    const m = this.req(t, where, 'tiling');
    const out: Tiling = {
      region: m.region, buffer: m.buffer, rows: m.rows, cols: m.cols, tileRows: m.tileRows, tileCols: m.tileCols,
      rowTile: this.ex(m.rowTile, where, 'row tile'), colTile: this.ex(m.colTile, where, 'col tile'),
    };
    const guard = codesToExpr(m.guard, `${where}: tiling guard`, this.source);
    if (guard !== undefined) out.guard = guard;
    // Either list present makes a view; the validator refuses one without the other.
    const dims = m.viewDims ?? [], perm = m.viewPerm ?? [];
    if (dims.length > 0 || perm.length > 0) out.view = { dims: [...dims], perm: [...perm] };
    return out;
  }

  target(t: Opt<Record<string, unknown>>): Target {
    const m = this.req(t, 'target', 'target');
    const out: Record<string, unknown> = { name: m.name, width: m.width, height: m.height, clockHz: m.clockHz };
    for (const [g, keys] of Object.entries(TARGET_GROUPS)) {
      const sub = this.req(m[g] as Opt<Record<string, unknown>>, 'target', `target.${g}`);
      out[g] = Object.fromEntries(keys.map((k) => [k, sub[k]]));
      // Keep the Target interface's key order: relayCycles sits between link and router.
      if (g === 'link') out.relayCycles = m.relayCycles;
    }
    return out as unknown as Target;
  }

  region(m: MRegion, index: number): Region {
    const where = `region ${index} "${m.name}"`;
    const k = this.req(m.kernel, where, 'kernel');
    const buffers = k.buffers.map((b): BufferDecl => {
      const d: BufferDecl = { name: b.name, type: this.en(b.type, MEM_TYPES, `${where}, buffer "${b.name}"`, 'buffer type'), offset: b.offset, length: b.length };
      if (b.live !== null && b.live !== undefined) d.live = [b.live.first, b.live.last];
      const guard = codesToExpr(b.guard ?? [], `${where}, buffer "${b.name}": guard`, this.source);
      if (guard !== undefined) d.guard = guard;
      return d;
    });
    return { name: m.name, rect: this.rect(m.rect, where), kernel: { buffers, body: k.body.map((i) => this.instr(i, 0, where)) } };
  }

  route(m: MRoute, index: number): RouteRule {
    const where = `route rule ${index}`;
    const r: RouteRule = {
      colour: m.colour, rect: this.rect(m.rect, where), input: this.en(m.input, PORTS, where, 'input port'),
      outputs: m.outputs.map((o) => this.en(o, PORTS, where, 'output port')),
    };
    const guard = codesToExpr(m.guard, `${where}: guard`, this.source);
    if (guard !== undefined) r.guard = guard;
    return r;
  }

  io(m: MIo, kind: string): IoDecl {
    const where = `${kind} "${m.name}"`;
    return { name: m.name, type: this.en(m.type, MEM_TYPES, where, 'type'), shape: [...m.shape], tiling: this.tiling(m.tiling, where) };
  }

  program(m: MProgram, version: number): Program {
    const p: Program = {
      version,
      name: m.name,
      target: this.target(m.target),
      // 0 is an absent field: a file that does not say follows the default opset.
      opset: m.opset === 0 ? DEFAULT_OPSET : m.opset,
      ...(typeof m.source === 'string' ? { source: m.source } : {}),
      regions: m.regions.map((r, i) => this.region(r, i)),
      routes: m.routes.map((r, i) => this.route(r, i)),
      constants: m.constants.map((c) => {
        const where = `constant "${c.name}"`;
        const d = { name: c.name, type: this.en(c.type, MEM_TYPES, where, 'type'), tiling: this.tiling(c.tiling, where) };
        // Copy: the decoded bytes alias the file buffer.
        return c.data !== null && c.data !== undefined ? { ...d, data: new Uint8Array(c.data) } : d;
      }),
      inputs: m.inputs.map((io) => this.io(io, 'input')),
      outputs: m.outputs.map((io) => this.io(io, 'output')),
    };
    if (m.predicted !== null && m.predicted !== undefined) {
      p.predicted = {
        totalCycles: m.predicted.totalCycles,
        instructions: m.predicted.instructions.map((ip) => ({ instr: ip.instr, start: this.ex(ip.start, `prediction of instruction ${ip.instr}`, 'start') })),
      };
    }
    return p;
  }
}

/** The in-memory program of a decoded message; not yet structurally validated. */
export function messageToProgram(m: MProgram, version: number = PROGRAM_FORMAT_VERSION, source?: string): Program {
  return new Reader(source).program(m, version);
}
