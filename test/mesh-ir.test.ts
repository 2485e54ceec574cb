/**
 * The mesh IR text form and verifier: the canonical text of a small placed graph, exact round trips
 * (names, every attribute kind, kernel parameters, layouts, constants bit for bit, invalid graphs),
 * parse errors with their locations, a seeded fuzz of mutated text, and each verifier rule caught
 * on a purpose-broken graph while a good graph passes.
 */
import { describe, expect, it } from 'vitest';
import { DTYPES, type DType } from '../ir/dtype.js';
import type { Attr } from '../ir/graph.js';
import { singleCoreLayout, type MeshGraph, type MeshOp, type MeshValue } from '../ir/mesh.js';
import { parseMesh, printMesh } from '../ir/mesh-text.js';
import { fuzzMeshText, parseError, roundTrip } from './helpers/mesh-text.js';
import { verifyMesh } from '../ir/mesh-verify.js';
import type { MemType } from '../ir/program.js';
import { Tensor } from '../ir/tensor.js';

// ---- helpers ------------------------------------------------------------------------------------

function mesh(name = 'm', target = 'mesh:4x4'): MeshGraph {
  return { name, opset: 18, target, inputs: [], outputs: [], values: new Map(), constants: new Map(), ops: [] };
}

/** A value held whole by core (x, y). */
function onCore(dtype: DType, shape: number[], x: number, y: number, mem: MemType = 'f32'): MeshValue {
  return { type: { dtype, shape }, mem, layout: singleCoreLayout(x, y, shape) };
}

function op(fields: Partial<MeshOp> & Pick<MeshOp, 'name' | 'kernel'>): MeshOp {
  return { op: '', domain: '', attrs: {}, inputs: [], outputs: [], region: { x: 0, y: 0, width: 1, height: 1 }, params: {}, ...fields };
}

/**
 * The example of docs/mesh-ir.md: x moves from core (0,0) to core (1,0), a single-core MatMul there,
 * and a 64×64 GEMM by MeshGEMM over the whole 4×4 mesh with fp16 tiles of 16×16.
 */
function tiny(): MeshGraph {
  const g = mesh('tiny');
  const grid = (mem: MemType): MeshValue => ({ type: { dtype: 'float32', shape: [64, 64] }, mem, layout: { region: { x: 0, y: 0, width: 4, height: 4 }, dims: ['y', 'x'], tile: [16, 16] } });
  g.inputs.push('x', 'a', 'b');
  g.values.set('x', onCore('float32', [1, 8, 16], 0, 0));
  g.values.set('a', grid('f16'));
  g.values.set('b', grid('f16'));
  g.constants.set('w', Tensor.from('float32', [2, 2], [1, 0.1, -0, Infinity]));
  g.values.set('w', onCore('float32', [2, 2], 1, 0));
  g.values.set('x2', onCore('float32', [1, 8, 16], 1, 0));
  g.values.set('y', onCore('float32', [1, 8, 16], 1, 0));
  g.values.set('c', grid('f16'));
  g.ops.push(
    op({ name: 'x_to_1_0', kernel: 'redistribute', inputs: ['x'], outputs: ['x2'], region: { x: 0, y: 0, width: 2, height: 1 } }),
    op({ name: 'relu_0', kernel: 'call', op: 'LeakyRelu', attrs: { alpha: { kind: 'float', value: 0.1 } }, inputs: ['x2'], outputs: ['y'], region: { x: 1, y: 0, width: 1, height: 1 } }),
    op({ name: 'mm', kernel: 'gemm.meshgemm', op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'], region: { x: 0, y: 0, width: 4, height: 4 }, params: { algorithm: 'meshgemm', steps: 4 } }),
  );
  g.outputs.push('y', 'c');
  return g;
}

const TINY_TEXT = [
  'mesh @tiny opset 18 target "mesh:4x4" {',
  '  input %x : f32[1,8,16] in f32 at (0,0 1x1) [r,r,r] tile [1,8,16]',
  '  input %a : f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16]',
  '  input %b : f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16]',
  '  const %w : f32[2,2] in f32 at (1,0 1x1) [r,r] tile [2,2] = dense<[1.0, 0.1, -0.0, inf]>',
  '  %x2 : f32[1,8,16] in f32 at (1,0 1x1) [r,r,r] tile [1,8,16] = redistribute(%x) on (0,0 2x1) @x_to_1_0',
  '  %y : f32[1,8,16] in f32 at (1,0 1x1) [r,r,r] tile [1,8,16] = call LeakyRelu(%x2) {alpha = 0.1 : float} on (1,0 1x1) @relu_0',
  '  %c : f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16] = gemm.meshgemm MatMul(%a, %b) on (0,0 4x4) {algorithm = "meshgemm", steps = 4} @mm',
  '  output %y, %c',
  '}',
  '',
].join('\n');

// ---- text form ----------------------------------------------------------------------------------

describe('printMesh', () => {
  it('prints a small placed graph in the canonical form', () => {
    expect(roundTrip(tiny())).toBe(TINY_TEXT);
  });

  it('accepts free layout, comments and any attribute and parameter order, and prints canonically', () => {
    const text = `// placed for a 4x4 mesh
mesh @tiny opset 18 target "mesh:4x4" {
  input %x : f32[1,8,16] in f32 at ( 0 , 0   1x1 ) [r, r, r] tile [1, 8, 16]
  input %a : f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16]   // row blocks along y
  input %b : f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16]
  const %w : f32[2,2] in f32 at (1,0 1x1) [r,r] tile [2,2] = dense<[1, 0.1, -0.0, inf]> : f32[2,2]
  %x2 : f32[1,8,16] in f32 at (1,0 1x1) [r,r,r] tile [1,8,16]
      = redistribute(%x) on (0,0 2x1) @x_to_1_0
  %y : f32[1,8,16] in f32 at (1,0 1x1) [r,r,r] tile [1,8,16] = call LeakyRelu(%x2) {alpha = 0.1 : float} on (1,0 1x1) {} @relu_0
  %c : f32[64,64] in f16 at (0,0 4x4) [y,x] tile [16,16] = gemm.meshgemm MatMul(%a, %b) on (0,0 4x4) {steps = 4, algorithm = "meshgemm"} @"mm"
  output %y, %c }`;
    expect(printMesh(parseMesh(text))).toBe(TINY_TEXT);
  });
});

describe('round trip', () => {
  it('is exact for tricky names, kernels, domains, omitted operands, values without layouts and stale entries', () => {
    const g = mesh('my "mesh" ✓', 'target with "quotes" ✓');
    const names = ['onnx::MatMul_123', '/model/layers.0/Add_output_0', 'with space', 'quo"te', 'ünï', 'a//b', '_', 'input', '123', 'x:', '-'];
    names.forEach((n, i) => {
      g.inputs.push(n);
      g.values.set(n, onCore('float16', [i, 2], i % 4, 3, 'f16'));
    });
    g.inputs.push('bare'); // no MeshValue at all
    g.values.set('stale', onCore('int8', [1], 0, 0, 'i32')); // a layout for a value nothing defines
    g.values.set('u1', { type: { dtype: 'float32', shape: [] }, mem: 'f32', layout: { region: { x: 2, y: 1, width: 1, height: 1 }, dims: [], tile: [] } });
    g.ops.push(
      op({ name: 'split', kernel: 'call', op: 'Split', inputs: [names[0], '', names[1], ''], outputs: ['u1', '', 'u2'], attrs: { axis: { kind: 'int', value: 1 } } }),
      op({ name: '', kernel: 'elementwise', op: 'Add', domain: 'ai.onnx', inputs: ['u1', 'u2'], outputs: ['dup'] }),
      op({ name: 'again', kernel: 'call', op: 'Add', inputs: ['dup', 'u1'], outputs: ['dup'] }), // SSA violation kept as is
      op({ name: 'w', kernel: 'weird kernel', op: 'weird op', domain: 'a b', region: { x: -1, y: 2, width: 0, height: -3 } }),
      op({ name: 'no op', kernel: 'redistribute', domain: 'only.domain' }),
      op({ name: 'nameless kernel', kernel: '' }),
    );
    g.outputs.push('dup', 'with space', 'dup');
    const text = roundTrip(g);
    expect(text).toContain('mesh @"my \\"mesh\\" ✓" opset 18 target "target with \\"quotes\\" ✓" {');
    expect(text).toContain('input %onnx::MatMul_123 : f16[0,2] in f16 at (0,3 1x1) [r,r] tile [0,2]');
    expect(text).toContain('input %"a//b" : f16[5,2]');
    expect(text).toContain('input %bare\n');
    expect(text).toContain('type %stale : i8[1] in i32 at (0,0 1x1) [r] tile [1]');
    expect(text).toContain('%u1 : f32[] in f32 at (2,1 1x1) [] tile [], _, %u2 = call Split(%onnx::MatMul_123, _, %/model/layers.0/Add_output_0, _) {axis = 1 : int} on (0,0 1x1) @split');
    expect(text).toContain('= elementwise ai.onnx:Add(%u1, %u2) on (0,0 1x1) @""');
    expect(text).toContain('() = "weird kernel" "a b":"weird op"() on (-1,2 0x-3) @w');
    expect(text).toContain('() = redistribute only.domain:""() on (0,0 1x1) @"no op"');
    expect(text).toContain('() = ""() on (0,0 1x1) @"nameless kernel"');
  });

  it('is exact for every attribute kind and every kind of kernel parameter', () => {
    const g = mesh();
    const attrs: Record<string, Attr> = {
      i: { kind: 'int', value: -7 },
      f: { kind: 'float', value: 0.1 },
      nanf: { kind: 'float', value: NaN },
      negz: { kind: 'float', value: -0 },
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
    const params: Record<string, number | string> = {
      k: 3, neg: -12, zero: 0, negzero: -0, half: 0.5, third: 1 / 3, tiny: 5e-324, huge: 1e300, big: 2 ** 63, unsafe: 2 ** 53 + 2,
      nan: NaN, inf: Infinity, ninf: -Infinity, algorithm: 'meshgemm', empty: '', quoted: 'a "b", c}', numeric: '12', 'odd key': 'v',
    };
    Object.defineProperty(params, '__proto__', { value: 'p', enumerable: true });
    g.ops.push(op({ name: 'n', kernel: 'gemv.ktree', op: 'Custom', domain: 'my.domain', attrs, params }));
    const text = roundTrip(g);
    expect(text).toContain('f = 0.1 : float');
    expect(text).toContain('fs = [1.0, -inf, inf, 5e-324, -0.0] : floats');
    expect(text).toContain('t = dense<[0.5, -0.0]> : f16[2,1] : tensor');
    expect(text).toContain(
      '{__proto__ = "p", algorithm = "meshgemm", big = 9223372036854776000.0, empty = "", half = 0.5, huge = 1e+300, inf = inf, k = 3, nan = nan, neg = -12, negzero = -0.0, ninf = -inf, numeric = "12", "odd key" = "v", quoted = "a \\"b\\", c}", third = 0.3333333333333333, tiny = 5e-324, unsafe = 9007199254740994.0, zero = 0} @n',
    );
    const back = parseMesh(text).ops[0];
    expect(Object.keys(back.attrs)).toContain('__proto__');
    expect(Object.keys(back.params)).toContain('__proto__');
    expect(back.params.big).toBe(2 ** 63);
    expect(back.params.numeric).toBe('12');
  });

  it('is exact for constants of every dtype, literal and hex, NaN payloads included', () => {
    const g = mesh();
    const nan32 = new Float32Array(3);
    new Uint32Array(nan32.buffer).set([0x7fc00001, 0xffc00000, 0x7f800001]);
    const specials: Partial<Record<DType, number[]>> = { float32: [0, -0, 0.1, NaN, Infinity], int64: [2 ** 53, -1, 9223372036854775807], bool: [1, 0], float16: [65504, -0.333] };
    for (const dtype of DTYPES) {
      const v = specials[dtype] ?? [0, 1, 2];
      const mem: MemType = dtype === 'float16' ? 'f16' : ['float32', 'float64', 'bfloat16'].includes(dtype) ? 'f32' : 'i32';
      const small = Tensor.from(dtype, [v.length], v);
      const big = Tensor.from(dtype, [4, 10], Array.from({ length: 40 }, (_, i) => v[i % v.length]));
      g.constants.set(`small_${dtype}`, small);
      g.values.set(`small_${dtype}`, onCore(dtype, [v.length], 0, 0, mem));
      g.constants.set(`big_${dtype}`, big);
      g.values.set(`big_${dtype}`, { type: { dtype, shape: [4, 10] }, mem, layout: { region: { x: 0, y: 0, width: 2, height: 4 }, dims: ['y', 'x'], tile: [1, 5] } });
    }
    g.constants.set('payload', new Tensor('float32', [3], nan32));
    g.values.set('payload', onCore('float32', [3], 3, 3));
    g.constants.set('untyped', Tensor.from('int8', [1], [5])); // a constant without a MeshValue
    g.constants.set('mistyped', Tensor.from('int32', [2], [1, 2]));
    g.values.set('mistyped', onCore('float32', [3], 0, 0));
    const text = roundTrip(g);
    expect(text).toContain('const %small_int64 : i64[3] in i32 at (0,0 1x1) [r] tile [3] = dense<[9007199254740992, -1, 9223372036854775807]>');
    expect(text).toContain('const %big_float32 : f32[4,10] in f32 at (0,0 2x4) [y,x] tile [1,5] = dense<hex:000000000000008');
    expect(text).toContain('const %payload : f32[3] in f32 at (3,3 1x1) [r] tile [3] = dense<hex:0100c07f0000c0ff0100807f>');
    expect(text).toContain('const %untyped = dense<[5]> : i8[1]');
    expect(text).toContain('const %mistyped : f32[3] in f32 at (0,0 1x1) [r] tile [3] = dense<[1, 2]> : i32[2]');
  });

  it('keeps an input with a default value and malformed layouts as they are', () => {
    const g = mesh();
    g.inputs.push('x');
    g.constants.set('x', Tensor.from('float32', [2], [1, 2]));
    g.values.set('x', { type: { dtype: 'float32', shape: [2, -1] }, mem: 'f16', layout: { region: { x: 0, y: 0, width: 3, height: 1 }, dims: ['x', 'x', 'r'], tile: [-4] } });
    const text = roundTrip(g);
    expect(text).toContain('input %x : f32[2,-1] in f16 at (0,0 3x1) [x,x,r] tile [-4]\n  const %x : f32[2,-1] in f16 at (0,0 3x1) [x,x,r] tile [-4] = dense<[1.0, 2.0]> : f32[2]');
  });
});

describe('parse errors', () => {
  const head = 'mesh @g opset 18 target "mesh:2x2" {\n';
  const cases: [string, string, RegExp, string][] = [
    ['empty text', '', /expected 'mesh @name opset N target "..." \{'/, 'line 1, column 1'],
    ['a graph header', 'graph @g opset 18 {\n}', /expected 'mesh @name/, 'line 1, column 1'],
    ['a missing target', 'mesh @g opset 18 {\n}', /expected 'target', found '\{'/, 'line 1, column 18'],
    ['a target that is not a string', 'mesh @g opset 18 target mesh {\n}', /target name as a string/, 'line 1, column 25'],
    ['a malformed region', `${head}  input %x : f32[2] in f32 at (0,0 1 x 1) [r] tile [2]\n}`, /malformed region/, 'line 2, column 31'],
    ['a region split over lines', `${head}  input %x : f32[2] in f32 at (0,0\n 1x1) [r] tile [2]\n}`, /malformed region/, 'line 2, column 31'],
    ['a huge region coordinate', `${head}  input %x : f32[2] in f32 at (0,0 1x99999999999999999) [r] tile [2]\n}`, /malformed region/, 'line 2, column 31'],
    ['an unknown SRAM type', `${head}  input %x : f32[2] in f64 at (0,0 1x1) [r] tile [2]\n}`, /unknown SRAM element type 'f64'/, 'line 2, column 24'],
    ['a missing SRAM type', `${head}  input %x : f32[2] at (0,0 1x1) [r] tile [2]\n}`, /expected 'in' and the SRAM element type/, 'line 2, column 21'],
    ['an unknown dim map', `${head}  input %x : f32[2] in f32 at (0,0 1x1) [z] tile [2]\n}`, /expected a dim map \(x, y or r\), found 'z'/, 'line 2, column 42'],
    ['a missing tile', `${head}  input %x : f32[2] in f32 at (0,0 1x1) [r]\n}`, /expected 'tile \[sizes\]'/, 'line 3, column 1'],
    ['a float tile', `${head}  input %x : f32[2] in f32 at (0,0 1x1) [r] tile [2.5]\n}`, /expected a tile size \(an integer\)/, 'line 2, column 51'],
    ['a symbolic type', `${head}  input %x : f32[n] in f32 at (0,0 1x1) [r] tile [2]\n}`, /static type/, 'line 2, column 14'],
    ['an unknown type', `${head}  input %x : ? in f32 at (0,0 1x1) [r] tile [2]\n}`, /static type/, 'line 2, column 14'],
    ['an unknown dtype', `${head}  input %x : f33[2] in f32 at (0,0 1x1) [r] tile [2]\n}`, /unknown element type 'f33'/, 'line 2, column 14'],
    ['a missing region on an op', `${head}  () = call Relu() @r\n}`, /expected 'on \(x,y WxH\)'/, 'line 2, column 20'],
    ['a missing op name', `${head}  () = call Relu() on (0,0 1x1)\n}`, /expected the op name/, 'line 3, column 1'],
    ['a bad parameter', `${head}  () = k Relu() on (0,0 1x1) {a = [1]} @r\n}`, /parameter 'a' needs a number or a string, found '\['/, 'line 2, column 35'],
    ['a repeated parameter', `${head}  () = k Relu() on (0,0 1x1) {a = 1, a = 2} @r\n}`, /parameter 'a' is given twice/, 'line 2, column 38'],
    ['an attribute of the wrong kind', `${head}  () = k Relu() {a = 1.5 : int} on (0,0 1x1) @r\n}`, /needs an integer/, 'line 2, column 22'],
    ['conflicting annotations', `${head}  input %x : f32[2] in f32 at (0,0 1x1) [r] tile [2]\n  %x : f32[2] in f16 at (0,0 1x1) [r] tile [2] = call Relu(%x) on (0,0 1x1) @r\n}`, /conflicting annotations for %x/, 'line 3, column 3'],
    ['a literal of the wrong size', `${head}  const %c : i32[3] in i32 at (0,0 1x1) [r] tile [3] = dense<[1, 2]>\n}`, /2 elements but i32\[3\] needs 3/, 'line 2, column 62'],
    ['a constant without a type', `${head}  const %c = dense<[1, 2]>\n}`, /constant %c needs a type/, 'line 2, column 9'],
    ['two output statements', `${head}  output %x\n  output %x\n}`, /one output statement/, 'line 3, column 3'],
    ['a missing brace', `${head}  output %x\n`, /missing '\}'/, 'line 3, column 1'],
    ['trailing text', `${head}}\nextra`, /unexpected 'extra' after the end/, 'line 3, column 1'],
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
      expect(d.hint).not.toMatch(/docs\/ir\.md/);
    });
  }

  it('fuzz: every mutation of printed text gives a mesh graph or a W2004 diagnostic', () => {
    const g = tiny();
    g.constants.set('h', Tensor.from('int64', [3, 7], Array.from({ length: 21 }, (_, i) => i * 1000 - 7)));
    g.values.set('h', { type: { dtype: 'int64', shape: [3, 7] }, mem: 'i32', layout: { region: { x: 0, y: 0, width: 2, height: 2 }, dims: ['x', 'y'], tile: [2, 4] } });
    g.ops.push(op({ name: 'n "1"', kernel: 'call', op: 'Foo', domain: 'com.x', inputs: ['h', '', 'w'], outputs: ['', 'z'], attrs: { s: { kind: 'strings', value: ['q"', ''] }, t: { kind: 'tensor', value: Tensor.from('int8', [2], [1, -1]) } }, params: { f: 0.25, s: 'x' } }));
    const text = roundTrip(g);
    fuzzMeshText(text, 20240917, ['(', ')', '[', ']', '{', '}', ',', '=', ':', 'x', '"', '%', '@', '-', '1', '0', ' ', '\n', 'at', 'on', 'tile', 'in', 'r', 'dense<', 'hex:', '>', '//']);
  });
});

// ---- verifier -----------------------------------------------------------------------------------

describe('verifyMesh', () => {
  const size = { width: 4, height: 4 };
  /** Messages and locations of the W3001 diagnostics of a broken copy of tiny(). */
  const problems = (change: (g: MeshGraph) => void, opts = size): string[] => {
    const g = tiny();
    change(g);
    const found = verifyMesh(g, opts);
    for (const d of found) {
      expect(d.code).toBe('W3001');
      expect(d.hint).toBeTruthy();
    }
    return found.map((d) => `${d.message} @ ${d.location}`);
  };
  const valueOf = (g: MeshGraph, v: string): MeshValue => g.values.get(v) as MeshValue;
  const opNamed = (g: MeshGraph, n: string): MeshOp => g.ops.find((o) => o.name === n) as MeshOp;

  it('accepts a good graph, parsed back from its text too', () => {
    expect(verifyMesh(tiny(), size)).toEqual([]);
    expect(verifyMesh(parseMesh(TINY_TEXT), size)).toEqual([]);
    expect(verifyMesh(tiny())).toEqual([]);
  });

  it('checks SSA, names and use before definition', () => {
    expect(problems((g) => g.ops.push(op({ name: 'relu_0', kernel: 'call', op: 'Relu', inputs: ['x2'], outputs: ['x'], region: { x: 1, y: 0, width: 1, height: 1 } })))).toEqual([
      "op name 'relu_0' is used by more than one op @ op 'relu_0'",
      "value '%x' is defined 2 times (by a graph input, op 'relu_0') @ op 'relu_0'",
      "output '%x' lives on (0,0 1x1), not on the op's core (1,0 1x1) @ op 'relu_0'",
    ]);
    expect(problems((g) => g.ops.reverse())).toEqual(["op reads '%x2' before op 'x_to_1_0' defines it @ op 'relu_0'"]);
    expect(problems((g) => (g.ops[0].inputs = ['ghost']))).toEqual(["op reads '%ghost', which nothing defines @ op 'x_to_1_0'"]);
    expect(problems((g) => g.outputs.push('nowhere'))).toEqual(["graph output '%nowhere' is not defined @ value '%nowhere'"]);
    expect(problems((g) => (g.ops[1].name = ''))).toEqual(['a call op has no name @ op #1']);
    expect(problems((g) => g.inputs.push(''))).toEqual(['a graph input has an empty name @ graph inputs']);
  });

  it('checks that every value has a type and layout, and no stale ones', () => {
    expect(problems((g) => g.values.delete('y'))).toEqual(["value '%y' has no type and layout @ value '%y'"]);
    expect(problems((g) => g.values.set('ghost', onCore('float32', [1], 0, 0)))).toEqual(["a type and layout are recorded for '%ghost', which nothing defines @ value '%ghost'"]);
    expect(problems((g) => (valueOf(g, 'w').type = { dtype: 'float32', shape: [4] }))).toEqual([
      "'%w': layout maps 2 dims but the type has rank 1 @ value '%w'",
      "'%w': tile [2,2] has 2 sizes but the type has rank 1 @ value '%w'",
      "constant '%w' holds a float32[2,2] tensor but its value is typed float32[4] @ value '%w'",
    ]);
    expect(problems((g) => (valueOf(g, 'a').type = { dtype: 'float32', shape: [64, 2.5] }))).toEqual([
      "'%a': type float32[64,2.5] has a dim that is not a non-negative integer @ value '%a'",
    ]);
    expect(problems((g) => (valueOf(g, 'a').mem = 'f64' as MemType))).toEqual(["'%a': unknown SRAM element type 'f64' (f32, f16 or i32) @ value '%a'"]);
  });

  it('checks layouts: dim maps, tiles and regions', () => {
    const layout = (v: string, change: (l: MeshValue['layout']) => void) => (g: MeshGraph) => change(valueOf(g, v).layout);
    expect(problems(layout('a', (l) => (l.dims = ['x', 'x'])))).toEqual(["'%a': 2 dims are split along mesh x; at most one may be @ value '%a'"]);
    // Consecutive dims along y merge (row-major): their tiles' product must cover the merged rows.
    expect(problems(layout('a', (l) => (l.dims = ['y', 'y'])))).toEqual(["'%a': dims 0, 1 (merged, 4096 rows) split along y over 4 cores need tiles of at least 1024 rows, not 256 @ value '%a'"]);
    expect(problems(layout('a', (l) => ((l.dims = ['y', 'y']), (l.tile = [16, 64]))))).toEqual([]);
    expect(problems(layout('a', (l) => (l.dims = ['y', 'q' as 'x'])))).toEqual(["'%a': unknown dim map 'q' (x, y or r) @ value '%a'"]);
    expect(problems(layout('a', (l) => (l.tile = [16, 15])))).toEqual(["'%a': dim 1 of size 64 split along x over 4 cores needs tiles of at least 16, not 15 @ value '%a'"]);
    expect(problems(layout('a', (l) => (l.tile = [0, 16])))).toEqual(["'%a': dim 0 (split along y) has tile 0; tiles of split dims are positive integers @ value '%a'"]);
    expect(problems(layout('a', (l) => (l.region = { x: 0, y: 0, width: 4, height: 2 })))).toEqual([
      "'%a': dim 0 of size 64 split along y over 2 cores needs tiles of at least 32, not 16 @ value '%a'",
    ]);
    expect(problems(layout('a', (l) => (l.tile = [32, 16])))).toEqual([]); // bigger tiles than needed are allowed
    expect(problems(layout('a', (l) => ((l.dims = ['r', 'x']), (l.tile = [16, 16]))))).toEqual(["'%a': dim 0 is not split ('r') so its tile is the whole dim 64, not 16 @ value '%a'"]);
    expect(problems(layout('x', (l) => (l.region = { x: 3, y: 4, width: 1, height: 1 })))).toEqual([
      "'%x': layout region (3,4 1x1) runs past the mesh height 4 @ value '%x'",
    ]);
    expect(problems(layout('x', (l) => (l.region = { x: 0, y: 0, width: 0, height: 1 })))).toEqual(["'%x': layout region (0,0 0x1) is empty @ value '%x'"]);
    expect(problems(layout('x', (l) => (l.region = { x: -1, y: 0, width: 1, height: 1 })))).toEqual([
      "'%x': layout region (-1,0 1x1) has a coordinate that is not a non-negative integer @ value '%x'",
    ]);
    // the mesh size bounds regions only when it is given
    expect(problems(layout('x', (l) => (l.region = { x: 0, y: 0, width: 1, height: 1 })), { width: 1, height: 1 })).toEqual([
      "'%a': layout region (0,0 4x4) runs past the mesh width 1 @ value '%a'",
      "'%b': layout region (0,0 4x4) runs past the mesh width 1 @ value '%b'",
      "'%w': layout region (1,0 1x1) runs past the mesh width 1 @ value '%w'",
      "'%x2': layout region (1,0 1x1) runs past the mesh width 1 @ value '%x2'",
      "'%y': layout region (1,0 1x1) runs past the mesh width 1 @ value '%y'",
      "'%c': layout region (0,0 4x4) runs past the mesh width 1 @ value '%c'",
      "region (0,0 2x1) runs past the mesh width 1 @ op 'x_to_1_0'",
      "region (1,0 1x1) runs past the mesh width 1 @ op 'relu_0'",
      "region (0,0 4x4) runs past the mesh width 1 @ op 'mm'",
    ]);
  });

  it('checks op regions and redistribute ops', () => {
    expect(problems((g) => (opNamed(g, 'mm').region = { x: 1, y: 0, width: 4, height: 4 }))).toEqual(["region (1,0 4x4) runs past the mesh width 4 @ op 'mm'"]);
    expect(problems((g) => opNamed(g, 'x_to_1_0').inputs.push('w'))).toEqual([
      "redistribute has 2 inputs and 1 outputs; it moves one value to one new layout @ op 'x_to_1_0'",
    ]);
    expect(problems((g) => (opNamed(g, 'x_to_1_0').inputs = ['']))).toEqual([
      "redistribute has 1 inputs and 1 outputs; it moves one value to one new layout @ op 'x_to_1_0'",
    ]);
    // float16 in an f32 buffer is fine for the call that reads %x2: only the redistribution is wrong
    expect(problems((g) => (valueOf(g, 'x2').type = { dtype: 'float16', shape: [1, 8, 16] }))).toEqual([
      "redistribute changes the type float32[1,8,16] of '%x' to float16[1,8,16] @ op 'x_to_1_0'",
    ]);
  });

  it('checks call ops: registered op, one core, operands on it, SRAM types that hold the dtype', () => {
    expect(problems((g) => (opNamed(g, 'relu_0').op = 'NoSuchOp'))).toEqual(["call of unregistered op 'NoSuchOp' @ op 'relu_0'"]);
    expect(problems((g) => (opNamed(g, 'relu_0').domain = 'com.nowhere'))).toEqual(["call of unregistered op 'com.nowhere:LeakyRelu' @ op 'relu_0'"]);
    expect(
      problems((g) => {
        opNamed(g, 'relu_0').region = { x: 1, y: 0, width: 2, height: 1 };
      }),
    ).toEqual([
      "call runs on (1,0 2x1); a call runs one graph op on a single core @ op 'relu_0'",
      "input '%x2' lives on (1,0 1x1), not on the op's core (1,0 2x1) @ op 'relu_0'",
      "output '%y' lives on (1,0 1x1), not on the op's core (1,0 2x1) @ op 'relu_0'",
    ]);
    expect(problems((g) => (opNamed(g, 'relu_0').inputs = ['x']))).toEqual([
      "input '%x' lives on (0,0 1x1), not on the op's core (1,0 1x1) @ op 'relu_0'",
    ]);
    const stored = (dtype: DType, mem: MemType): string[] =>
      problems((g) => {
        for (const v of ['x', 'x2', 'y']) Object.assign(valueOf(g, v), { type: { dtype, shape: [1, 8, 16] }, mem });
      });
    expect(stored('float32', 'f16')).toEqual([
      "input '%x2' of dtype float32 is stored as f16, which cannot hold it @ op 'relu_0'",
      "output '%y' of dtype float32 is stored as f16, which cannot hold it @ op 'relu_0'",
    ]);
    expect(stored('float16', 'f16')).toEqual([]);
    expect(stored('float16', 'f32')).toEqual([]);
    expect(stored('bfloat16', 'f16')).toHaveLength(2);
    expect(stored('float64', 'f32')).toEqual([]);
    expect(stored('int64', 'i32')).toEqual([]);
    expect(stored('bool', 'f32')).toEqual([
      "input '%x2' of dtype bool is stored as f32, which cannot hold it @ op 'relu_0'",
      "output '%y' of dtype bool is stored as f32, which cannot hold it @ op 'relu_0'",
    ]);
    expect(stored('int32', 'f16')).toHaveLength(2);
    // distributed kernels may keep float32 values in f16 (the gemm of tiny() does)
    expect(valueOf(tiny(), 'c').mem).toBe('f16');
  });

  it('reports every problem of a graph at once, after a parse of broken text', () => {
    const text = TINY_TEXT.replace('[y,x] tile [16,16] = gemm', '[x,x] tile [16,16] = gemm').replace('call LeakyRelu', 'call Nope');
    expect(verifyMesh(parseMesh(text), size).map((d) => d.message)).toEqual([
      "'%c': 2 dims are split along mesh x; at most one may be",
      "call of unregistered op 'Nope'",
    ]);
  });
});
