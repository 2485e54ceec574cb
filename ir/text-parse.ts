/**
 * Parser of the graph IR text form (grammar in docs/ir.md; the printer is text-print.ts).
 *
 * It rebuilds exactly the graph that was printed, including graphs a verifier would reject
 * (duplicate definitions, undefined uses, missing types), so that a broken pass's output can be
 * dumped and read back; SSA and typing rules are checked by verify.ts, not here. What the parser does
 * reject is what the format itself can see: bad syntax, unknown dtypes, payloads that do not match
 * their type, conflicting type annotations. Any input string gives a Graph or a W2004 diagnostic.
 */
import { type DType, allocData, byteSize, dtypeFromShort, DTYPES, shortName } from './dtype.js';
import { DiagnosticError } from './diagnostics.js';
import type { Attr, Attrs, Dim, Graph, Node, TensorType } from './graph.js';
import { Tensor } from './tensor.js';
import { Lexer, type Token } from './text-lex.js';
import { formatType } from './text-print.js';
import { fromRawBytes, hexToBytes, parseElement, parseFloatText } from './text-tensor.js';

/** A value's type annotation: absent (no entry in `types`) or present (`: ?` is undefined). */
type Annotation = { has: false } | { has: true; type: TensorType | undefined };

/** A `dense<...>` payload before its type is known. */
export type RawPayload = { pos: number; hex: [number, number] } | { pos: number; list: Token[] };

const INT_RE = /^-?\d+$/;
const FLOAT_RE = /^-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|inf)$|^nan$/;
const ATTR_KINDS = ['int', 'float', 'string', 'ints', 'floats', 'strings', 'tensor'];

/** Parses the text form of a graph. Throws DiagnosticError (W2004) on malformed text. */
export function parseGraph(text: string): Graph {
  try {
    return new Parser(text).graph();
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    // A bug in the parser must still surface as a diagnostic, never as a crash of the caller.
    const message = e instanceof Error ? e.message : String(e);
    throw new DiagnosticError({ code: 'W2004', message: `internal error while parsing IR text: ${message}`, hint: 'please report this input' });
  }
}

/** The graph parser; its token, type, tensor and attribute helpers are shared with the mesh IR parser (mesh-parse.ts). */
export class Parser {
  protected readonly lex: Lexer;
  protected cur: Token | undefined;
  private readonly types = new Map<string, TensorType | undefined>();
  private readonly annotations = new Map<string, { ann: Annotation; pos: number }>();

  constructor(text: string) {
    this.lex = new Lexer(text);
  }

  // ---- token helpers --------------------------------------------------------------------------

  protected peek(): Token {
    if (!this.cur) this.cur = this.lex.next();
    return this.cur;
  }
  protected take(): Token {
    const t = this.peek();
    this.cur = undefined;
    return t;
  }
  protected is(text: string, kind: Token['kind'] = 'punct'): boolean {
    const t = this.peek();
    return t.kind === kind && t.text === text;
  }
  protected describe(t: Token): string {
    if (t.kind === 'eof') return 'end of text';
    if (t.kind === 'value') return `value %${t.text}`;
    if (t.kind === 'at') return `@${t.text}`;
    if (t.kind === 'string') return `string ${JSON.stringify(t.text)}`;
    return `'${t.text.length > 30 ? t.text.slice(0, 30) + '...' : t.text}'`;
  }
  protected fail(message: string, pos: number, hint?: string): never {
    throw this.lex.error(message, pos, hint);
  }
  protected expect(text: string, kind: Token['kind'] = 'punct', what = `'${text}'`): Token {
    const t = this.take();
    if (t.kind !== kind || t.text !== text) this.fail(`expected ${what}, found ${this.describe(t)}`, t.pos);
    return t;
  }
  protected expectKind(kind: Token['kind'], what: string, hint?: string): Token {
    const t = this.take();
    if (t.kind !== kind) this.fail(`expected ${what}, found ${this.describe(t)}`, t.pos, hint);
    return t;
  }
  /** A bare word or a quoted string (op names, domains, attribute names). */
  protected wordOrString(what: string): string {
    const t = this.take();
    if (t.kind !== 'word' && t.kind !== 'string') this.fail(`expected ${what}, found ${this.describe(t)}`, t.pos);
    return t.text;
  }
  protected nonNegativeInt(what: string): number {
    const t = this.take();
    const v = Number(t.text);
    if (t.kind !== 'number' || !/^\d+$/.test(t.text) || !Number.isSafeInteger(v)) {
      this.fail(`expected ${what} (a non-negative integer), found ${this.describe(t)}`, t.pos);
    }
    return v;
  }

  // ---- graph and statements -------------------------------------------------------------------

  graph(): Graph {
    this.expect('graph', 'word', "'graph @name opset N {'");
    const name = this.expectKind('at', 'the graph name (@name)').text;
    this.expect('opset', 'word');
    const opset = this.nonNegativeInt('the opset version');
    this.expect('{');
    const g: Graph = { name, opset, inputs: [], outputs: [], types: this.types, constants: new Map(), nodes: [] };
    let outputSeen = false;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'punct' && t.text === '}') break;
      if (t.kind === 'eof') this.fail("missing '}' at the end of the graph", t.pos);
      if (t.kind === 'word' && t.text === 'input') {
        this.take();
        const v = this.expectKind('value', 'a value name (%name)');
        this.define(v, this.annotation());
        g.inputs.push(v.text);
      } else if (t.kind === 'word' && t.text === 'const') {
        this.constant(g);
      } else if (t.kind === 'word' && t.text === 'type') {
        this.take();
        const v = this.expectKind('value', 'a value name (%name)');
        if (!this.is(':')) this.fail(`expected ': type' after %${v.text}`, this.peek().pos);
        this.define(v, this.annotation());
      } else if (t.kind === 'word' && t.text === 'output') {
        if (outputSeen) this.fail('a graph has one output statement', t.pos, 'list all outputs in one statement: output %a, %b');
        outputSeen = true;
        this.take();
        do g.outputs.push(this.expectKind('value', 'an output value (%name)').text);
        while (this.is(',') && this.take());
      } else if (t.kind === 'value' || t.kind === 'punct' && t.text === '(' || t.kind === 'word' && t.text === '_') {
        g.nodes.push(this.node());
      } else {
        this.fail(`expected a statement (input, const, type, output or a node), found ${this.describe(t)}`, t.pos);
      }
    }
    this.take();
    const end = this.take();
    if (end.kind !== 'eof') this.fail(`unexpected ${this.describe(end)} after the end of the graph`, end.pos);
    return g;
  }

  /** Records a definition's annotation; all definitions of one value must agree. */
  private define(v: Token, ann: Annotation): void {
    const prev = this.annotations.get(v.text);
    if (prev) {
      const a = prev.ann;
      const same = a.has === ann.has && (!a.has || !ann.has || formatType(a.type) === formatType(ann.type));
      if (!same) {
        const where = this.lex.error('', prev.pos).diagnostics[0].location;
        this.fail(`conflicting type annotations for %${v.text}`, v.pos, `every definition of a value carries the same type (first at ${where})`);
      }
      return;
    }
    this.annotations.set(v.text, { ann, pos: v.pos });
    if (ann.has) this.types.set(v.text, ann.type);
  }

  private annotation(): Annotation {
    if (!this.is(':')) return { has: false };
    this.take();
    return { has: true, type: this.type() };
  }

  private constant(g: Graph): void {
    this.take();
    const v = this.expectKind('value', 'a value name (%name)');
    const ann = this.annotation();
    this.expect('=');
    const raw = this.payload();
    let type: TensorType | undefined;
    if (this.is(':')) {
      this.take();
      type = this.type();
    } else if (ann.has) {
      type = ann.type;
    }
    if (!type) this.fail(`constant %${v.text} needs a type`, v.pos, 'write const %x : f32[2] = dense<[1.0, 2.0]>');
    if (g.constants.has(v.text)) this.fail(`constant %${v.text} is defined twice`, v.pos);
    g.constants.set(v.text, this.tensor(raw, type));
    this.define(v, ann);
  }

  /**
   * The results before `=`: `()` for none, else a comma list of `_` (an unused optional result) or
   * `%name` followed by its annotation, which `define` reads and records.
   */
  protected results(define: (v: Token) => void, none: string): string[] {
    const outputs: string[] = [];
    if (this.is('(')) {
      this.take();
      this.expect(')', 'punct', `')' (${none})`);
    } else {
      do {
        if (this.is('_', 'word')) {
          this.take();
          outputs.push('');
        } else {
          const v = this.expectKind('value', 'a result (%name or _)');
          define(v);
          outputs.push(v.text);
        }
      } while (this.is(',') && this.take());
    }
    this.expect('=');
    return outputs;
  }

  private node(): Node {
    const outputs = this.results((v) => this.define(v, this.annotation()), "a node without results is written '() = Op(...)'");
    let domain = '';
    let op = this.wordOrString('an op name');
    if (this.is(':')) {
      this.take();
      domain = op;
      op = this.wordOrString('an op name after the domain');
    }
    this.expect('(');
    const inputs: string[] = [];
    if (!this.is(')')) {
      do {
        if (this.is('_', 'word')) {
          this.take();
          inputs.push('');
        } else {
          inputs.push(this.expectKind('value', 'an input (%name, or _ for an omitted input)').text);
        }
      } while (this.is(',') && this.take());
    }
    this.expect(')');
    const attrs = this.is('{') ? this.attrs() : {};
    const name = this.expectKind('at', 'the node name (@name)', 'every node ends with its name, e.g. @"MatMul_0"').text;
    return { op, domain, name, inputs, outputs, attrs };
  }

  // ---- types and tensors ----------------------------------------------------------------------

  protected type(): TensorType | undefined {
    if (this.is('?')) {
      this.take();
      return undefined;
    }
    const t = this.expectKind('word', 'a type (f32[2,3], or ? when unknown)');
    const dtype = dtypeFromShort(t.text);
    if (!dtype) {
      this.fail(`unknown element type '${t.text}'`, t.pos, `element types are ${DTYPES.map(shortName).join(', ')}`);
    }
    this.expect('[', 'punct', `'[' after ${t.text} (a scalar is ${t.text}[])`);
    const shape: Dim[] = [];
    if (!this.is(']')) {
      do {
        const d = this.take();
        if (d.kind === 'word' || d.kind === 'string') shape.push(d.text);
        else if (d.kind === 'number' && INT_RE.test(d.text) && Number.isSafeInteger(Number(d.text))) shape.push(Number(d.text));
        else this.fail(`expected a dim (an integer or a symbol), found ${this.describe(d)}`, d.pos);
      } while (this.is(',') && this.take());
    }
    this.expect(']');
    return { dtype, shape };
  }

  /** `dense<[e, ...]>` or `dense<hex:...>`; interpreted once the type is known. */
  protected payload(): RawPayload {
    this.expect('dense', 'word', "a tensor literal 'dense<...>'");
    const open = this.expect('<');
    let raw: RawPayload;
    if (this.is('hex', 'word')) {
      this.take();
      this.expect(':');
      raw = { pos: open.pos + 1, hex: this.lex.hexRun() };
    } else {
      this.expect('[', 'punct', "'[' or 'hex:' after 'dense<'");
      const list: Token[] = [];
      if (!this.is(']')) {
        do {
          const e = this.take();
          if (e.kind !== 'number' && e.kind !== 'word') this.fail(`expected a number, found ${this.describe(e)}`, e.pos);
          list.push(e);
        } while (this.is(',') && this.take());
      }
      this.expect(']');
      raw = { pos: open.pos + 1, list };
    }
    this.expect('>', 'punct', "'>' closing the tensor literal");
    return raw;
  }

  protected tensor(raw: RawPayload, type: TensorType): Tensor {
    const shape: number[] = [];
    for (const d of type.shape) {
      if (typeof d !== 'number' || d < 0) {
        this.fail(`a tensor literal needs a static shape, got ${formatType(type)}`, raw.pos, 'dims of constants are non-negative integers');
      }
      shape.push(d);
    }
    const dtype: DType = type.dtype;
    const count = shape.reduce((a, b) => a * b, 1);
    if ('list' in raw) {
      if (raw.list.length !== count) {
        this.fail(`tensor literal has ${raw.list.length} elements but ${formatType(type)} needs ${count}`, raw.pos);
      }
      const data = allocData(dtype, count);
      raw.list.forEach((e, i) => {
        const v = parseElement(e.text, dtype);
        if (typeof v === 'string') this.fail(v, e.pos);
        data[i] = v;
      });
      return new Tensor(dtype, shape, data);
    }
    const [start, end] = raw.hex;
    const width = byteSize(dtype);
    if ((end - start) % 2 !== 0) this.fail('odd number of hex digits in tensor data', end, 'each byte is two hex digits');
    const bytes = (end - start) / 2;
    if (bytes !== count * width) {
      this.fail(`hex data has ${bytes} bytes but ${formatType(type)} needs ${count} × ${width} = ${count * width}`, raw.pos);
    }
    const data = fromRawBytes(hexToBytes(this.lex.src, start, end), dtype);
    if (typeof data === 'string') this.fail(data, raw.pos);
    return new Tensor(dtype, shape, data);
  }

  // ---- attributes -----------------------------------------------------------------------------

  protected attrs(): Attrs {
    this.expect('{');
    const attrs: Attrs = {};
    if (!this.is('}')) {
      do {
        const pos = this.peek().pos;
        const name = this.wordOrString('an attribute name');
        if (Object.prototype.hasOwnProperty.call(attrs, name)) this.fail(`attribute '${name}' is given twice`, pos);
        this.expect('=');
        Object.defineProperty(attrs, name, { value: this.attr(name), enumerable: true, writable: true, configurable: true });
      } while (this.is(',') && this.take());
    }
    this.expect('}');
    return attrs;
  }

  private kind(name: string): string {
    this.expect(':', 'punct', `': kind' after the value of attribute '${name}'`);
    const k = this.expectKind('word', `the kind of attribute '${name}' (${ATTR_KINDS.join(', ')})`);
    if (!ATTR_KINDS.includes(k.text)) this.fail(`unknown attribute kind '${k.text}'`, k.pos, `kinds are ${ATTR_KINDS.join(', ')}`);
    return k.text;
  }

  private attr(name: string): Attr {
    const start = this.peek();
    if (start.kind === 'word' && start.text === 'dense') {
      const raw = this.payload();
      this.expect(':', 'punct', `': type : tensor' after the tensor of attribute '${name}'`);
      const typePos = this.peek().pos;
      const type = this.type();
      if (!type) this.fail(`the tensor of attribute '${name}' needs a type`, typePos);
      const value = this.tensor(raw, type);
      const k = this.kind(name);
      if (k !== 'tensor') this.fail(`attribute '${name}' holds a tensor but is marked ${k}`, start.pos);
      return { kind: 'tensor', value };
    }
    if (start.kind === 'punct' && start.text === '[') {
      this.take();
      const items: Token[] = [];
      if (!this.is(']')) {
        do items.push(this.take());
        while (this.is(',') && this.take());
      }
      this.expect(']');
      const k = this.kind(name);
      if (k === 'strings') return { kind: k, value: items.map((t) => this.stringItem(t, name)) };
      if (k === 'ints') return { kind: k, value: items.map((t) => this.intItem(t, name)) };
      if (k === 'floats') return { kind: k, value: items.map((t) => this.floatItem(t, name)) };
      this.fail(`attribute '${name}' holds a list but is marked ${k}`, start.pos, 'list kinds are ints, floats, strings');
    }
    const item = this.take();
    const k = this.kind(name);
    if (k === 'string') return { kind: k, value: this.stringItem(item, name) };
    if (k === 'int') return { kind: k, value: this.intItem(item, name) };
    if (k === 'float') return { kind: k, value: this.floatItem(item, name) };
    this.fail(`attribute '${name}' holds a single value but is marked ${k}`, item.pos);
  }

  private stringItem(t: Token, name: string): string {
    if (t.kind !== 'string') this.fail(`attribute '${name}' needs a string, found ${this.describe(t)}`, t.pos);
    return t.text;
  }
  private intItem(t: Token, name: string): number {
    if (t.kind !== 'number' || !INT_RE.test(t.text)) this.fail(`attribute '${name}' needs an integer, found ${this.describe(t)}`, t.pos);
    const v = Number(t.text);
    if (!Number.isFinite(v)) this.fail(`integer ${t.text.slice(0, 30)}... of attribute '${name}' is out of range`, t.pos);
    return v;
  }
  private floatItem(t: Token, name: string): number {
    if ((t.kind !== 'number' && t.kind !== 'word') || !FLOAT_RE.test(t.text)) {
      this.fail(`attribute '${name}' needs a float (like 1.5, nan, inf, -inf), found ${this.describe(t)}`, t.pos);
    }
    return parseFloatText(t.text);
  }
}
