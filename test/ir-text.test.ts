/**
 * The graph IR text form: exact round trips (every dtype, attribute kind, name, dim and payload
 * form), the canonical printed text of a small graph, parse errors with their locations, a seeded
 * fuzz of mutated text, and the speed on a 40 MB constant.
 */
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import { DTYPES, type DType } from '../ir/dtype.js';
import type { Attr, Graph, Node, TensorType } from '../ir/graph.js';
import { mulberry32 } from '../ir/random.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph, printGraph } from '../ir/text.js';

// ---- helpers ------------------------------------------------------------------------------------

function sameData(a: Tensor, b: Tensor): boolean {
  if (a.dtype === 'float32' || a.dtype === 'float64') {
    // bit patterns, so NaN payloads and -0 count
    const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (a.data.constructor !== b.data.constructor || a.size !== b.size) return false;
  for (let i = 0; i < a.size; i++) {
    const p = a.data[i];
    const q = b.data[i];
    if (!(Object.is(p, q) || (Number.isNaN(p) && Number.isNaN(q)) || (p === q && a.dtype !== 'float16' && a.dtype !== 'bfloat16'))) return false;
  }
  return true;
}

function tensorDiff(a: Tensor, b: Tensor, where: string): string | undefined {
  if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return `${where}: type ${a.dtype}[${a.shape}] vs ${b.dtype}[${b.shape}]`;
  return sameData(a, b) ? undefined : `${where}: data differs`;
}

const typeKey = (t: TensorType | undefined): string => (t ? `${t.dtype}[${t.shape.map((d) => `${typeof d}:${d}`).join(',')}]` : '?');

function attrDiff(a: Attr, b: Attr, where: string): string | undefined {
  if (a.kind !== b.kind) return `${where}: kind ${a.kind} vs ${b.kind}`;
  if (a.kind === 'tensor') return tensorDiff(a.value, b.value as Tensor, where);
  const xs = Array.isArray(a.value) ? a.value : [a.value];
  const ys = Array.isArray(b.value) ? b.value : [b.value];
  if (xs.length !== ys.length || xs.some((x, i) => !Object.is(x, ys[i]))) return `${where}: ${JSON.stringify(xs)} vs ${JSON.stringify(ys)}`;
  return undefined;
}

function nodeDiff(a: Node, b: Node, where: string): string | undefined {
  for (const k of ['op', 'domain', 'name'] as const) if (a[k] !== b[k]) return `${where}.${k}: ${a[k]} vs ${b[k]}`;
  if (JSON.stringify(a.inputs) !== JSON.stringify(b.inputs)) return `${where}.inputs`;
  if (JSON.stringify(a.outputs) !== JSON.stringify(b.outputs)) return `${where}.outputs`;
  const ka = Object.keys(a.attrs).sort();
  const kb = Object.keys(b.attrs).sort();
  if (ka.join('\0') !== kb.join('\0')) return `${where}.attrs: ${ka} vs ${kb}`;
  for (const k of ka) {
    const d = attrDiff(a.attrs[k], b.attrs[k], `${where}.attrs.${k}`);
    if (d) return d;
  }
  return undefined;
}

/** First structural difference between two graphs (types compared as a map, the rest in order). */
function graphDiff(a: Graph, b: Graph): string | undefined {
  if (a.name !== b.name || a.opset !== b.opset) return 'name/opset';
  if (JSON.stringify(a.inputs) !== JSON.stringify(b.inputs)) return 'inputs';
  if (JSON.stringify(a.outputs) !== JSON.stringify(b.outputs)) return 'outputs';
  if (a.types.size !== b.types.size) return `types size ${a.types.size} vs ${b.types.size}`;
  for (const [k, t] of a.types) {
    if (!b.types.has(k)) return `types: missing ${k}`;
    if (typeKey(t) !== typeKey(b.types.get(k))) return `types[${k}]: ${typeKey(t)} vs ${typeKey(b.types.get(k))}`;
  }
  if ([...a.constants.keys()].join('\0') !== [...b.constants.keys()].join('\0')) return 'constant names/order';
  for (const [k, t] of a.constants) {
    const d = tensorDiff(t, b.constants.get(k) as Tensor, `constants[${k}]`);
    if (d) return d;
  }
  if (a.nodes.length !== b.nodes.length) return 'node count';
  for (let i = 0; i < a.nodes.length; i++) {
    const d = nodeDiff(a.nodes[i], b.nodes[i], `nodes[${i}]`);
    if (d) return d;
  }
  return undefined;
}

/** Asserts both round-trip properties and returns the printed text. */
function roundTrip(g: Graph): string {
  const text = printGraph(g);
  const back = parseGraph(text);
  expect(graphDiff(g, back)).toBeUndefined();
  expect(printGraph(back)).toBe(text);
  return text;
}

function graph(name = 'g', opset = 17): Graph {
  return { name, opset, inputs: [], outputs: [], types: new Map(), constants: new Map(), nodes: [] };
}

function addConst(g: Graph, name: string, t: Tensor): void {
  g.constants.set(name, t);
  g.types.set(name, { dtype: t.dtype, shape: [...t.shape] });
}

function parseError(text: string): DiagnosticError {
  try {
    parseGraph(text);
  } catch (e) {
    if (e instanceof DiagnosticError) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

/** Interesting values per dtype, already cast by Tensor.from. */
const SPECIALS: Record<DType, number[]> = {
  float32: [0, -0, 1, -1.5, 0.1, NaN, Infinity, -Infinity, 3.4028234663852886e38, 1.401298464324817e-45, 16777217],
  float64: [0, -0, 0.1, 1 / 3, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 123456789012345680000],
  float16: [0, -0, 1, 0.1, NaN, Infinity, -Infinity, 65504, 5.960464477539063e-8, -0.333],
  bfloat16: [0, -0, 1, 0.1, NaN, Infinity, -Infinity, 3.3895313892515355e38, 1e-40, 1234.5],
  int64: [0, -1, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 9223372036854775807, -9223372036854775808, 2 ** 60 + 2 ** 40],
  uint64: [0, 1, 2 ** 53, 18446744073709551615, 2 ** 63],
  int32: [0, -1, 2147483647, -2147483648],
  uint32: [0, 4294967295, 123],
  int16: [0, -32768, 32767],
  uint16: [0, 65535],
  int8: [-128, 127, 0],
  uint8: [0, 255, 7],
  bool: [0, 1, 1, 0],
};

// ---- tests ----------------------------------------------------------------------------------------

describe('printGraph', () => {
  it('prints a small graph in the canonical form', () => {
    const g = graph('tiny');
    g.inputs.push('x');
    g.types.set('x', { dtype: 'float32', shape: ['batch', 2] });
    addConst(g, 'w', Tensor.from('float32', [2, 2], [1, 0.1, -0, Infinity]));
    addConst(g, 'onnx::Shape_1', Tensor.from('int64', [2], [1, -1]));
    g.types.set('y', { dtype: 'float32', shape: ['batch', 2] });
    g.types.set('a b', undefined);
    g.nodes.push(
      { op: 'MatMul', domain: '', name: 'MatMul_0', inputs: ['x', 'w'], outputs: ['y'], attrs: {} },
      {
        op: 'Foo', domain: 'com.microsoft', name: 'n 1', inputs: ['y', '', 'onnx::Shape_1'], outputs: ['a b', '', 'c'],
        attrs: { mode: { kind: 'string', value: 'constant' }, alpha: { kind: 'float', value: 1 }, axes: { kind: 'ints', value: [0, -1] }, none: { kind: 'floats', value: [] } },
      },
    );
    g.outputs.push('y', 'c');
    expect(roundTrip(g)).toBe(
      [
        'graph @tiny opset 17 {',
        '  input %x : f32[batch,2]',
        '  const %w : f32[2,2] = dense<[1.0, 0.1, -0.0, inf]>',
        '  const %onnx::Shape_1 : i64[2] = dense<[1, -1]>',
        '  %y : f32[batch,2] = MatMul(%x, %w) @MatMul_0',
        '  %"a b" : ?, _, %c = com.microsoft:Foo(%y, _, %onnx::Shape_1) {alpha = 1.0 : float, axes = [0, -1] : ints, mode = "constant" : string, none = [] : floats} @"n 1"',
        '  output %y, %c',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('prints big tensors as ONNX raw_data hex in wire width', () => {
    const hexOf = (dtype: DType, values: number[]): string => {
      const g = graph();
      addConst(g, 'c', Tensor.from(dtype, [values.length * 17], Array.from({ length: 17 }, () => values).flat()));
      const m = /dense<hex:([0-9a-f]*)>/.exec(printGraph(g));
      return (m as RegExpExecArray)[1].slice(0, values.length * 2 * ({ float32: 4, float16: 2, bfloat16: 2, int64: 8, uint64: 8, bool: 1 } as Record<string, number>)[dtype]);
    };
    expect(hexOf('float32', [1, -2])).toBe('0000803f000000c0');
    expect(hexOf('float16', [1, -2, 65504])).toBe('003c00c0ff7b');
    expect(hexOf('bfloat16', [1, -2])).toBe('803f00c0');
    expect(hexOf('int64', [-1, 9223372036854775807, 2 ** 53 + 2])).toBe('ffffffffffffffff' + 'ffffffffffffff7f' + '0200000000002000');
    expect(hexOf('uint64', [18446744073709551615, 256])).toBe('ffffffffffffffff' + '0001000000000000');
    expect(hexOf('bool', [1, 0])).toBe('0100');
  });

  it('keeps ints and floats apart and prints INT64_MAX as itself', () => {
    const g = graph();
    g.nodes.push({
      op: 'Foo', domain: '', name: 'n', inputs: [], outputs: [],
      attrs: { i: { kind: 'int', value: 1 }, f: { kind: 'float', value: 1 }, big: { kind: 'int', value: 9223372036854775807 } },
    });
    const text = roundTrip(g);
    expect(text).toContain('() = Foo() {big = 9223372036854775807 : int, f = 1.0 : float, i = 1 : int} @n');
  });
});

describe('round trip', () => {
  it('is exact for every dtype, small (literal) and large (hex), including NaN, ±inf, -0 and int64 beyond 2^53', () => {
    const g = graph();
    for (const dtype of DTYPES) {
      const v = SPECIALS[dtype];
      addConst(g, `small_${dtype}`, Tensor.from(dtype, [v.length], v));
      addConst(g, `scalar_${dtype}`, Tensor.from(dtype, [], [v[1]]));
      addConst(g, `empty_${dtype}`, Tensor.from(dtype, [0, 3], []));
      const big = Array.from({ length: 50 }, (_, i) => v[i % v.length]);
      addConst(g, `big_${dtype}`, Tensor.from(dtype, [5, 10], big));
    }
    const text = roundTrip(g);
    expect(text).toContain('const %small_int64 : i64[8] = dense<[0, -1, 9007199254740992, -9007199254740992, 9007199254740991, 9223372036854775807, -9223372036854775808, 1152922604118474752]>');
    expect(text).toContain('const %small_uint64 : u64[5] = dense<[0, 1, 9007199254740992, 18446744073709551615, 9223372036854775808]>');
    expect(text).toContain('const %small_float16 : f16[10] = dense<[0.0, -0.0, 1.0, 0.1, nan, inf, -inf, 65500.0, 6e-8, -0.333]>');
    expect(text).toContain('const %small_bool : i1[4] = dense<[false, true, true, false]>');
    expect(text).toContain('const %scalar_float32 : f32[] = dense<[-0.0]>');
    const back = parseGraph(text);
    expect(back.constants.get('big_int64')?.data[5]).toBe(2 ** 63);
    expect(back.constants.get('small_float32')?.data[4]).toBe(Math.fround(0.1));
  });

  it('keeps NaN payloads bit for bit (through hex)', () => {
    const g = graph();
    const f = new Float32Array(3);
    new Uint32Array(f.buffer).set([0x7fc00001, 0xffc00000, 0x7f800001]);
    const d = new Float64Array(2);
    new Uint32Array(d.buffer).set([0, 0xfff80000, 5, 0x7ff00000]);
    addConst(g, 'f', new Tensor('float32', [3], f));
    addConst(g, 'd', new Tensor('float64', [2], d));
    addConst(g, 'plain', Tensor.from('float32', [1], [NaN]));
    const text = roundTrip(g);
    expect(text).toContain('const %f : f32[3] = dense<hex:0100c07f0000c0ff0100807f>');
    expect(text).toContain('const %plain : f32[1] = dense<[nan]>');
  });

  it('is exact for every attribute kind, empty lists and special floats', () => {
    const g = graph();
    const attrs: Record<string, Attr> = {
      i: { kind: 'int', value: -7 },
      f: { kind: 'float', value: 0.1 },
      nanf: { kind: 'float', value: NaN },
      negz: { kind: 'float', value: -0 },
      huge: { kind: 'float', value: 1e300 },
      s: { kind: 'string', value: 'say "hi"\n\tünïcødé ✓ \u0000' },
      is: { kind: 'ints', value: [0, -(2 ** 63), 2 ** 53 + 2] },
      fs: { kind: 'floats', value: [1, -Infinity, Infinity, 5e-324, -0] },
      ss: { kind: 'strings', value: ['', 'a,b', ']'] },
      ei: { kind: 'ints', value: [] },
      ef: { kind: 'floats', value: [] },
      es: { kind: 'strings', value: [] },
      t: { kind: 'tensor', value: Tensor.from('float16', [2, 1], [0.5, -0]) },
      tb: { kind: 'tensor', value: Tensor.from('int32', [20], Array.from({ length: 20 }, (_, i) => i - 10)) },
      'weird name': { kind: 'int', value: 1 },
    };
    Object.defineProperty(attrs, '__proto__', { value: { kind: 'int', value: 2 }, enumerable: true });
    g.nodes.push({ op: 'Custom', domain: 'my.domain', name: 'n', inputs: [], outputs: [], attrs });
    const text = roundTrip(g);
    expect(text).toContain('f = 0.1 : float');
    expect(text).toContain('negz = -0.0 : float');
    expect(text).toContain('fs = [1.0, -inf, inf, 5e-324, -0.0] : floats');
    expect(text).toContain('ei = [] : ints, es = [] : strings');
    expect(text).toContain('t = dense<[0.5, -0.0]> : f16[2,1] : tensor');
    expect(text).toContain('"weird name" = 1 : int');
    expect(Object.keys(parseGraph(text).nodes[0].attrs)).toContain('__proto__');
  });

  it('is exact for tricky names, symbolic dims, unknown and missing types, omitted inputs and domains', () => {
    const g = graph('my "model" ✓');
    const names = ['onnx::MatMul_123', '/model/layers.0/Add_output_0', 'with space', 'quo"te', 'ünï', 'a//b', '_', 'input', '123', 'x:', '-'];
    names.forEach((n) => {
      g.inputs.push(n);
      g.types.set(n, { dtype: 'float32', shape: ['batch', 'seq len', '3', 3, 0, 'unk__0'] });
    });
    g.inputs.push('untyped'); // no entry in types at all
    g.types.set('u1', undefined);
    g.types.set('stale', { dtype: 'int8', shape: [1] }); // a type for a value nothing defines
    g.nodes.push(
      { op: 'Split', domain: '', name: 'split', inputs: [names[0], '', names[1], ''], outputs: ['u1', '', 'u2'], attrs: { axis: { kind: 'int', value: 1 } } },
      { op: 'Add', domain: 'ai.onnx', name: '', inputs: ['u1', 'u2'], outputs: ['dup'], attrs: {} },
      { op: 'Add', domain: '', name: 'again', inputs: ['dup', 'u1'], outputs: ['dup'], attrs: {} }, // SSA violation kept as is
      { op: 'weird op', domain: 'a b', name: 'w', inputs: [], outputs: [], attrs: {} },
    );
    g.outputs.push('dup', 'with space', 'dup');
    const text = roundTrip(g);
    expect(text).toContain('input %onnx::MatMul_123 : f32[batch,"seq len","3",3,0,unk__0]');
    expect(text).toContain('input %/model/layers.0/Add_output_0 :');
    expect(text).toContain('input %"a//b"');
    expect(text).toContain('input %untyped\n');
    expect(text).toContain('type %stale : i8[1]');
    expect(text).toContain('%u1 : ?, _, %u2 = Split(%onnx::MatMul_123, _, %/model/layers.0/Add_output_0, _) {axis = 1 : int} @split');
    expect(text).toContain('= ai.onnx:Add(%u1, %u2) @""');
    expect(text).toContain('() = "a b":"weird op"() @w');
  });

  it('keeps an input with a default value (input that is also a constant)', () => {
    const g = graph();
    g.inputs.push('x');
    addConst(g, 'k', Tensor.from('int64', [1], [3]));
    addConst(g, 'x', Tensor.from('float32', [2], [1, 2]));
    g.constants.set('loose', Tensor.from('int8', [1], [5])); // constant without a types entry
    const text = roundTrip(g);
    expect(text).toContain('input %x : f32[2]\n  const %k : i64[1] = dense<[3]>\n  const %x : f32[2] = dense<[1.0, 2.0]>');
    expect(text).toContain('const %loose = dense<[5]> : i8[1]');
  });

  it('keeps a constant whose declared type disagrees with its tensor', () => {
    const g = graph();
    g.constants.set('c', Tensor.from('int32', [2], [1, 2]));
    g.types.set('c', { dtype: 'float32', shape: ['n'] });
    expect(roundTrip(g)).toContain('const %c : f32[n] = dense<[1, 2]> : i32[2]');
  });

  it('accepts any attribute order, comments and free layout, and prints canonically', () => {
    const text = `// a comment
graph @g opset 13 {   // trailing comment
  input %x : f32[2]
  %y : f32[2] = Clip(%x, _, _) {z = "s" : string,
     a = [1.5, nan, -inf] : floats} @clip
  output %y }`;
    const g = parseGraph(text);
    expect(g.nodes[0].attrs.a).toEqual({ kind: 'floats', value: [1.5, NaN, -Infinity] });
    expect(printGraph(g)).toBe(
      'graph @g opset 13 {\n  input %x : f32[2]\n  %y : f32[2] = Clip(%x, _, _) {a = [1.5, nan, -inf] : floats, z = "s" : string} @clip\n  output %y\n}\n',
    );
  });

  it('parses literal lists of any size and hex in upper case, rounding floats to the dtype', () => {
    const values = Array.from({ length: 40 }, (_, i) => `${i}.1`).join(', ');
    const g = parseGraph(`graph @g opset 1 {\n const %a : f16[40] = dense<[${values}]>\n const %b : i16[2] = dense<hex:FFFF0080>\n}`);
    expect(g.constants.get('a')?.data[1]).toBe(1.099609375);
    expect(Array.from(g.constants.get('b')?.data ?? [])).toEqual([-1, -32768]);
  });

  it('prints and parses a 40 MB constant in a few seconds', () => {
    const n = 10_000_000;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (i % 1000) * 0.25 - 3;
    const g = graph();
    g.inputs.push('x');
    g.types.set('x', { dtype: 'float32', shape: [n] });
    addConst(g, 'w', new Tensor('float32', [n], data));
    g.types.set('y', { dtype: 'float32', shape: [n] });
    g.nodes.push({ op: 'Add', domain: '', name: 'add', inputs: ['x', 'w'], outputs: ['y'], attrs: {} });
    const t0 = performance.now();
    const text = printGraph(g);
    const t1 = performance.now();
    const back = parseGraph(text);
    const t2 = performance.now();
    expect(text.length).toBeGreaterThan(80_000_000);
    expect(graphDiff(g, back)).toBeUndefined();
    expect(t1 - t0).toBeLessThan(5000);
    expect(t2 - t1).toBeLessThan(5000);
  }, 60_000);
});

describe('parse errors', () => {
  const cases: [string, string, RegExp, string][] = [
    ['unknown dtype', 'graph @g opset 1 {\n  input %x : f33[2]\n}', /unknown element type 'f33'/, 'line 2, column 14'],
    ['unterminated string', 'graph @g opset 1 {\n  %y = Foo() {mode = "abc : string} @n\n}', /unterminated string/, 'line 2, column 22'],
    ['bad hex length', 'graph @g opset 1 {\n  const %c : f32[2] = dense<hex:0000803f>\n}', /4 bytes but f32\[2\] needs 2 × 4 = 8/, 'line 2, column 29'],
    ['odd hex', 'graph @g opset 1 {\n  const %c : i8[1] = dense<hex:0>\n}', /odd number of hex digits/, 'line 2, column 33'],
    ['literal count', 'graph @g opset 1 {\n  const %c : i8[3] = dense<[1, 2]>\n}', /2 elements but i8\[3\] needs 3/, 'line 2, column 28'],
    ['int out of range', 'graph @g opset 1 {\n  const %c : u8[2] = dense<[1, 256]>\n}', /256 is out of range for uint8/, 'line 2, column 32'],
    ['int64 out of range', 'graph @g opset 1 {\n  const %c : i64[1] = dense<[9223372036854775808]>\n}', /out of range for int64/, 'line 2, column 30'],
    ['float in an int tensor', 'graph @g opset 1 {\n  const %c : i32[1] = dense<[1.5]>\n}', /not an integer literal/, 'line 2, column 30'],
    ['bool byte', 'graph @g opset 1 {\n  const %c : i1[1] = dense<hex:02>\n}', /bool byte 2/, 'line 2, column 28'],
    ['symbolic constant', 'graph @g opset 1 {\n  const %c : f32[n] = dense<[1.0]>\n}', /needs a static shape/, 'line 2, column 29'],
    ['missing brace', 'graph @g opset 1 {\n  input %x : f32[2]\n', /missing '}'/, 'line 3, column 1'],
    ['trailing text', 'graph @g opset 1 {\n}\nextra', /unexpected 'extra' after the end/, 'line 3, column 1'],
    ['conflicting types', 'graph @g opset 1 {\n  input %x : f32[2]\n  %x : f32[3] = Relu(%x) @r\n}', /conflicting type annotations for %x/, 'line 3, column 3'],
    ['unknown kind', 'graph @g opset 1 {\n  () = Foo() {a = 1 : long} @n\n}', /unknown attribute kind 'long'/, 'line 2, column 23'],
    ['kind mismatch', 'graph @g opset 1 {\n  () = Foo() {a = 1.5 : int} @n\n}', /needs an integer/, 'line 2, column 19'],
    ['duplicate attribute', 'graph @g opset 1 {\n  () = Foo() {a = 1 : int, a = 2 : int} @n\n}', /'a' is given twice/, 'line 2, column 28'],
    ['missing node name', 'graph @g opset 1 {\n  %y = Relu(%x)\n}', /expected the node name/, 'line 3, column 1'],
    ['bad escape', 'graph @g opset 1 {\n  input %"a\\q"\n}', /invalid string/, 'line 2, column 10'],
    ['stray char', 'graph @g opset 1 {\n  input %x $\n}', /unexpected character "\$"/, 'line 2, column 12'],
    ['no name after %', 'graph @g opset 1 {\n  input % x\n}', /expected a name after '%'/, 'line 2, column 9'],
    ['two outputs', 'graph @g opset 1 {\n  input %x\n  output %x\n  output %x\n}', /one output statement/, 'line 4, column 3'],
    ['const twice', 'graph @g opset 1 {\n  const %c : i8[1] = dense<[1]>\n  const %c : i8[1] = dense<[1]>\n}', /defined twice/, 'line 3, column 9'],
    ['empty text', '', /expected 'graph @name opset N \{'/, 'line 1, column 1'],
  ];
  for (const [what, text, message, location] of cases) {
    it(`reports ${what} at its location`, () => {
      const e = parseError(text);
      expect(e.diagnostics).toHaveLength(1);
      const d = e.diagnostics[0];
      expect(d.code).toBe('W2004');
      expect(d.message).toMatch(message);
      expect(d.location).toBe(location);
      expect(d.hint).toBeTruthy();
    });
  }

  it('fuzz: every mutation of printed text gives a graph or a W2004 diagnostic', () => {
    const g = graph('fuzz');
    g.inputs.push('x', 'onnx::a b');
    g.types.set('x', { dtype: 'float16', shape: ['n', 3] });
    g.types.set('onnx::a b', undefined);
    for (const dtype of ['float32', 'int64', 'bool', 'bfloat16'] as DType[]) {
      addConst(g, `c_${dtype}`, Tensor.from(dtype, [2], SPECIALS[dtype].slice(0, 2)));
      addConst(g, `h_${dtype}`, Tensor.from(dtype, [3, 7], Array.from({ length: 21 }, (_, i) => SPECIALS[dtype][i % 3])));
    }
    g.types.set('y', { dtype: 'float16', shape: ['n', 3] });
    g.nodes.push({
      op: 'Foo', domain: 'com.x', name: 'n "1"', inputs: ['x', '', 'c_int64'], outputs: ['y', ''],
      attrs: { a: { kind: 'floats', value: [0.5, NaN] }, s: { kind: 'strings', value: ['q"', ''] }, t: { kind: 'tensor', value: Tensor.from('int8', [2], [1, -1]) }, i: { kind: 'int', value: 3 } },
    });
    g.outputs.push('y');
    const text = roundTrip(g);
    const rand = mulberry32(20240611);
    const alphabet = '%@"{}()[]<>,:=?_\\/ \n0123456789abcdefxyz-.e';
    let parsed = 0;
    for (let trial = 0; trial < 3000; trial++) {
      let t = text;
      const edits = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < edits; k++) {
        const p = Math.floor(rand() * (t.length + 1));
        const r = rand();
        const c = alphabet[Math.floor(rand() * alphabet.length)];
        if (r < 0.1) t = t.slice(0, p); // truncation
        else if (r < 0.4) t = t.slice(0, p) + t.slice(p + 1); // deletion
        else if (r < 0.7) t = t.slice(0, p) + c + t.slice(p); // insertion
        else t = t.slice(0, p) + c + t.slice(p + 1); // replacement
      }
      let result: Graph | undefined;
      try {
        result = parseGraph(t);
      } catch (e) {
        expect(e).toBeInstanceOf(DiagnosticError);
        const d = (e as DiagnosticError).diagnostics[0];
        expect(d.code).toBe('W2004');
        expect(d.location).toMatch(/^line \d+, column \d+$/);
        expect(d.message).not.toMatch(/internal error/);
      }
      if (result) {
        parsed++;
        const printed = printGraph(result);
        expect(printGraph(parseGraph(printed))).toBe(printed);
      }
    }
    expect(parsed).toBeGreaterThan(100); // some mutations (e.g. inside names or hex) stay valid
  });
});
