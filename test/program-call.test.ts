/**
 * `call`, `delay` and `Program.opset` in the program format (docs/program-format.md, "call",
 * "delay"): exact round trips of every attribute kind and of tensor attributes of every dtype at
 * their extreme values, the wire layout (sorted attributes, ONNX dtype codes, tensor bytes), the
 * structural checks (W5012) at build, encode and decode, the builder helpers, the disassembly and
 * JSON forms.
 */
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import type { DType } from '../ir/dtype.js';
import type { Attrs } from '../ir/graph.js';
import { ProgramBuilder, X, add, mul } from '../ir/program-builder.js';
import { tensorFromBytes, tensorToBytes } from '../ir/program-call.js';
import { PROGRAM_HEADER_BYTES, crc32, decodeProgram, encodeProgram, programMessageType } from '../ir/program-codec.js';
import { programDiff } from '../ir/program-equal.js';
import { disassemble, programToJson } from '../ir/program-text.js';
import { DEFAULT_OPSET, PROGRAM_FORMAT_VERSION, type Instr, type Program } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';

/** Every dtype at values that stress its encoding. */
const EXTREMES: [DType, number[]][] = [
  ['float32', [NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, 0.1]],
  ['float64', [1 / 3, -0, NaN, 5e-324, 1.7976931348623157e308]],
  ['float16', [65504, -65504, 6e-8, -0, NaN, Infinity, 0.1]],
  ['bfloat16', [3.3895313892515355e38, -1e-38, 0.1, NaN, -0]],
  ['int64', [-9223372036854775808, 9223372036854775807, 2 ** 53 + 2, -1, 0]],
  ['uint64', [18446744073709551615, 2 ** 53, 0]],
  ['int32', [-2147483648, 2147483647, -1]],
  ['uint32', [4294967295, 0]],
  ['int16', [-32768, 32767]],
  ['uint16', [65535, 1]],
  ['int8', [-128, 127]],
  ['uint8', [255, 0]],
  ['bool', [1, 0, 1]],
];

function program(attrs: Attrs, opts: { opset?: number } = {}): Program {
  const b = new ProgramBuilder('calls', resolveTarget('mesh:4x1'), opts);
  const r = b.region('row', { x: 0, y: 0, width: 4, height: 1 });
  const x = r.buffer('x', 'f32', 32), ids = r.buffer('ids', 'i32', 8), h = r.buffer('h', 'f16', 16);
  r.setLoc('Op_1');
  r.call('Op', [x.tensor('float32', [2, 3]), null, ids.at(add(X, 1)).tensor('int64', [3]), h.tensor('float16', [4, 4])],
    [x.at(mul(X, 8)).tensor('float64', [2, 0, 3]), null, ids.tensor('bool', [])], attrs, { domain: 'com.example', guard: X });
  r.delay(add(mul(X, -3), 7), { loc: 'pad' });
  return b.build();
}

const callOf = (p: Program) => p.regions[0].kernel.body[0] as Extract<Instr, { op: 'call' }>;

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.message;
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}

/** Decodes a file to a plain message, edits it, and wraps it in a valid header again. */
function edited(p: Program, edit: (m: Record<string, any>) => void): Uint8Array {
  const T = programMessageType();
  const m = T.toObject(T.decode(encodeProgram(p).subarray(PROGRAM_HEADER_BYTES)), { arrays: true, longs: Number }) as Record<string, any>;
  edit(m);
  const payload = T.encode(T.fromObject(m)).finish();
  const out = new Uint8Array(PROGRAM_HEADER_BYTES + payload.length);
  out.set(new TextEncoder().encode('WAFERPRG'));
  const v = new DataView(out.buffer);
  v.setUint32(8, PROGRAM_FORMAT_VERSION, true);
  v.setUint32(12, payload.length, true);
  v.setUint32(16, crc32(payload), true);
  out.set(payload, PROGRAM_HEADER_BYTES);
  return out;
}

describe('round trip', () => {
  it('keeps all seven attribute kinds, null tensors, the domain, the guard, the delay and the opset exactly', () => {
    const attrs: Attrs = {
      zeta: { kind: 'int', value: -9223372036854775808 },
      axis: { kind: 'int', value: -1 },
      alpha: { kind: 'float', value: -0 },
      beta: { kind: 'float', value: 0.1 },
      mode: { kind: 'string', value: 'constant ✓' },
      perm: { kind: 'ints', value: [2, 0, 1, 9007199254740991] },
      none: { kind: 'ints', value: [] },
      scales: { kind: 'floats', value: [NaN, -Infinity, 1e-300] },
      names: { kind: 'strings', value: ['', 'a b', 'ü'] },
      value: { kind: 'tensor', value: Tensor.from('int64', [2, 2], [1, -2, 3, 9223372036854775807]) },
    };
    const p = program(attrs, { opset: 17 });
    const q = decodeProgram(encodeProgram(p));
    expect(programDiff(q, p)).toBeUndefined();
    expect(q.opset).toBe(17);
    const c = callOf(q);
    expect(c.inputs[1]).toBeNull();
    expect(c.outputs[1]).toBeNull();
    expect(c.outputs[2]).toEqual({ buf: 1, offset: 0, dtype: 'bool', shape: [] });
    expect(c.domain).toBe('com.example');
    expect(Object.is((c.attrs.alpha as { value: number }).value, -0)).toBe(true);
    expect(c.attrs.value.value).toBeInstanceOf(Tensor);
    expect(q.regions[0].kernel.body[1]).toEqual({ id: 1, loc: 'pad', op: 'delay', cycles: add(mul(X, -3), 7) });
    expect(Buffer.from(encodeProgram(q)).equals(Buffer.from(encodeProgram(p)))).toBe(true);
  });

  it.each(EXTREMES)('a %s tensor attribute at its extreme values', (dtype, values) => {
    const t = Tensor.from(dtype, [values.length], values);
    const q = decodeProgram(encodeProgram(program({ t: { kind: 'tensor', value: t } })));
    const back = callOf(q).attrs.t.value as Tensor;
    expect(back.dtype).toBe(dtype);
    expect(back.shape).toEqual([values.length]);
    expect(back.data.constructor).toBe(t.data.constructor);
    expect(programDiff(back, t)).toBeUndefined();
    for (let i = 0; i < t.data.length; i++) expect(Object.is(back.data[i], t.data[i]) || (Number.isNaN(back.data[i]) && Number.isNaN(t.data[i]))).toBe(true);
  });

  it('scalar and empty tensors round-trip', () => {
    const attrs: Attrs = { s: { kind: 'tensor', value: Tensor.scalar('float32', 2.5) }, e: { kind: 'tensor', value: Tensor.zeros('int64', [3, 0]) } };
    const back = callOf(decodeProgram(encodeProgram(program(attrs)))).attrs;
    expect(back.s.value).toEqual(Tensor.scalar('float32', 2.5));
    expect((back.e.value as Tensor).shape).toEqual([3, 0]);
  });

  it('a file without an opset field follows opset 18', () => {
    const bytes = edited(program({}, { opset: 13 }), (m) => { delete m.opset; });
    expect(decodeProgram(bytes).opset).toBe(DEFAULT_OPSET);
    expect(DEFAULT_OPSET).toBe(18);
    expect(program({}).opset).toBe(18);
  });
});

describe('wire layout', () => {
  it('writes attributes sorted by name, so the order they were given in does not matter', () => {
    const a = program({ b: { kind: 'int', value: 1 }, a: { kind: 'float', value: 2 } });
    const b = program({ a: { kind: 'float', value: 2 }, b: { kind: 'int', value: 1 } });
    expect(Buffer.from(encodeProgram(a)).equals(Buffer.from(encodeProgram(b)))).toBe(true);
    const T = programMessageType();
    const m = T.toObject(T.decode(encodeProgram(a).subarray(PROGRAM_HEADER_BYTES)), { enums: String }) as Record<string, any>;
    const call = m.regions[0].kernel.body[0].call;
    expect(call.attrs.map((x: { name: string; kind: string }) => `${x.name}:${x.kind}`)).toEqual(['a:ATTR_FLOAT', 'b:ATTR_INT']);
    expect(call.inputs[0].dtype).toBe('DTYPE_FLOAT32');
    // An omitted tensor is the flag alone; an attribute carries only its kind's field.
    expect(call.inputs[1]).toEqual({ omitted: true });
    expect(call.attrs[1]).toEqual({ name: 'b', kind: 'ATTR_INT', i: 1 });
    expect(call.inputs[2].dtype).toBe('DTYPE_INT64');
  });

  it('stores tensor values little-endian at the ONNX width', () => {
    expect([...tensorToBytes(Tensor.from('int64', [1], [-1]))]).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    expect([...tensorToBytes(Tensor.from('float16', [1], [1.5]))]).toEqual([0x00, 0x3e]);
    expect([...tensorToBytes(Tensor.from('bfloat16', [1], [1.5]))]).toEqual([0xc0, 0x3f]);
    expect([...tensorToBytes(Tensor.from('bool', [2], [1, 0]))]).toEqual([1, 0]);
    expect([...tensorToBytes(Tensor.from('float32', [1], [1]))]).toEqual([0, 0, 0x80, 0x3f]);
    // ±2^63 as doubles saturate and come back as the same doubles.
    const big = Tensor.from('int64', [2], [2 ** 63, -(2 ** 63)]);
    expect([...tensorToBytes(big).subarray(0, 8)]).toEqual([255, 255, 255, 255, 255, 255, 255, 127]);
    expect(Array.from((tensorFromBytes('int64', [2], tensorToBytes(big)) as Tensor).data)).toEqual([2 ** 63, -(2 ** 63)]);
    expect(tensorFromBytes('int32', [3], new Uint8Array(8))).toBe('tensor data has 8 bytes; int32[3] needs 12');
  });
});

describe('structural checks (W5012)', () => {
  const build = (f: (r: ReturnType<ProgramBuilder['region']>, x: ReturnType<ReturnType<ProgramBuilder['region']>['buffer']>) => void) => () => {
    const b = new ProgramBuilder('bad', resolveTarget('mesh:1x1'));
    const r = b.region('r', { x: 0, y: 0, width: 1, height: 1 });
    f(r, r.buffer('x', 'f32', 8));
    return b.build();
  };

  it('refuses malformed calls at build (and so at encode)', () => {
    expect(messageOf(build((r, x) => r.call('Relu', [x.tensor('int64', [2])], [x.tensor('float32', [2])])))).toMatch(
      /W5012: input 0 \(int64\) is in buffer 0 of type f32; int64 is stored in i32 buffers \(region 0 "r", instruction 0\)/);
    expect(messageOf(build((r, x) => r.call('Relu', [x.tensor('complex64' as DType, [2])], [])))).toMatch(/W5012: input 0 has unknown dtype 'complex64'/);
    expect(messageOf(build((r, x) => r.call('Relu', [x.tensor('float32', [2, -1])], [])))).toMatch(/W5012: input 0: shape \[2,-1\] has dim -1/);
    expect(messageOf(build((r, x) => r.call('Relu', [], [x.tensor('float32', [65536, 65536])])))).toMatch(/W5012: output 0: shape \[65536,65536\] has 4294967296 elements/);
    expect(messageOf(build((r, x) => r.call('', [], [x.tensor('float32', [1])])))).toMatch(/W5012: call op type is not a non-empty string/);
    expect(messageOf(build((r, x) => r.call('Relu', [], [x.tensor('float32', [1])], { axis: { kind: 'int', value: 0.5 } })))).toMatch(
      /W5012: attribute axis: int value 0\.5 is not an integer/);
    expect(messageOf(build((r, x) => r.call('Relu', [], [x.tensor('float32', [1])], { v: { kind: 'tensor', value: new Tensor('float16', [1], Float32Array.of(0.1)) } })))).toMatch(
      /W5012: attribute v: tensor value value 0\.10000000149011612 at index 0 is not a float16 value/);
    expect(messageOf(build((r, x) => r.call('Relu', [], [x.tensor('float32', [1])], { k: { kind: 'graph', value: 1 } as never })))).toMatch(
      /W5012: attribute k: unknown attribute kind 'graph'/);
    const p = build((r, x) => r.call('Relu', [x.tensor('float32', [1])], [x.tensor('float32', [1])]))();
    p.opset = 0;
    expect(messageOf(() => encodeProgram(p))).toMatch(/W5012: opset is 0; expected an integer in \[1, 2147483647\]/);
    // A tensor attribute must be a Tensor (the builder makes a plain {dtype, shape, data} one; a hand-made program must too).
    const q = build((r, x) => r.call('Relu', [x.tensor('float32', [1])], [x.tensor('float32', [1])]))();
    callOf(q).attrs.v = { kind: 'tensor', value: { dtype: 'float32', shape: [1], data: new Float32Array(1) } as unknown as Tensor };
    expect(messageOf(() => encodeProgram(q))).toMatch(/W5012: attribute v: tensor value is not a Tensor/);
  });

  it('refuses malformed calls in a file', () => {
    const p = program({ t: { kind: 'tensor', value: Tensor.from('int32', [2], [1, 2]) }, a: { kind: 'int', value: 1 } });
    const bad = (edit: (m: Record<string, any>) => void) => messageOf(() => decodeProgram(edited(p, edit), 'p.wafer'));
    const call = (m: Record<string, any>) => m.regions[0].kernel.body[0].call;
    expect(bad((m) => { call(m).attrs[1].t.data = new Uint8Array(7); })).toMatch(
      /W5012: tensor data has 7 bytes; int32\[2\] needs 8 \(region 0 "row", instruction 0, attribute "t"\)/);
    expect(bad((m) => { call(m).attrs[1].name = 'a'; })).toMatch(/W5012: attribute "a" is given twice/);
    expect(bad((m) => { call(m).attrs[0].kind = 42; })).toMatch(/W5012: unknown attribute kind value 42/);
    expect(bad((m) => { call(m).inputs[0].dtype = 8; })).toMatch(/W5012: unknown input 0 dtype value 8/);
    expect(bad((m) => { call(m).inputs[0].dtype = 0; })).toMatch(/W5012: missing input 0 dtype/);
    expect(bad((m) => { delete call(m).outputs[0].at; })).toMatch(/W5012: missing operand output 0/);
    expect(bad((m) => { call(m).inputs[0].dtype = 7; })).toMatch(/W5012: input 0 \(int64\) is in buffer 0 of type f32/);
    expect(bad((m) => { m.regions[0].kernel.body[1].delay.cycles = []; })).toMatch(/W5012: missing expression cycles/);
    expect(bad((m) => { m.regions[0].kernel.body[1].delay.cycles = [9]; })).toMatch(/W5012: delay cycles: loop counter i0 used in no loop/);
  });
});

describe('builder', () => {
  it('takes buffer slices with dtype and shape, and copies attributes deeply at build', () => {
    const t = Tensor.from('float32', [2], [1, 2]);
    const attrs: Attrs = { t: { kind: 'tensor', value: t }, perm: { kind: 'ints', value: [1, 0] } };
    const b = new ProgramBuilder('b', resolveTarget('mesh:1x1')).setOpset(21);
    const r = b.region('r', { x: 0, y: 0, width: 1, height: 1 });
    const x = r.buffer('x', 'f32', 8);
    const ref = r.call('Transpose', [x.tensor('float32', [2, 2])], [{ at: x.at(4), dtype: 'float32', shape: [2, 2] }], attrs);
    const p = b.build();
    expect(ref.id).toBe(0);
    expect(p.opset).toBe(21);
    const c = callOf(p);
    expect(c).toEqual({
      id: 0, loc: '', op: 'call', opType: 'Transpose', domain: '', attrs,
      inputs: [{ buf: 0, offset: 0, dtype: 'float32', shape: [2, 2] }], outputs: [{ buf: 0, offset: 4, dtype: 'float32', shape: [2, 2] }],
    });
    expect(c.attrs.t.value).toBeInstanceOf(Tensor);
    expect(c.attrs.t.value).not.toBe(t);
    (t.data as Float32Array)[0] = 99;
    (attrs.perm.value as number[])[0] = 7;
    expect(Array.from((c.attrs.t.value as Tensor).data)).toEqual([1, 2]);
    expect(c.attrs.perm.value).toEqual([1, 0]);
  });
});

describe('text forms', () => {
  it('disassembles calls and delays', () => {
    const p = program({
      perm: { kind: 'ints', value: [1, 0] }, mode: { kind: 'string', value: 'edge' }, alpha: { kind: 'float', value: 0.5 },
      v: { kind: 'tensor', value: Tensor.from('int64', [10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) }, names: { kind: 'strings', value: ['a'] },
    });
    const lines = disassemble(p).split('\n');
    expect(lines[0]).toBe('program "calls"  (format version 1, opset 18)');
    expect(lines.filter((l) => /^ {4}\d/.test(l))).toEqual([
      '    0  call     com.example:Op(B0[0]:f32[2,3], _, B1[x+1]:i64[3], B2[0]:f16[4,4]) -> (B0[x*8]:f64[2,0,3], _, B1[0]:i1[])'
        + '  alpha=0.5 mode="edge" names=["a"] perm=[1,0] v=i64[10]{0,1,2,3,4,5,6,7,…}  if x  @ "Op_1"',
      '    1  delay    (x*(-3)+7)  @ "pad"',
    ]);
  });

  it('prints tensor attributes as lists in the JSON form', () => {
    const json = JSON.parse(programToJson(program({ v: { kind: 'tensor', value: Tensor.from('float16', [2], [0.5, -Infinity]) } })));
    const call = json.regions[0].kernel.body[0];
    expect(call.attrs.v).toEqual({ kind: 'tensor', value: { dtype: 'float16', shape: [2], data: [0.5, '-Infinity'] } });
    expect(call.inputs[1]).toBeNull();
    expect(json.opset).toBe(18);
  });
});

describe('equality', () => {
  it('tells typed arrays of different types apart', () => {
    expect(programDiff({ d: Float32Array.of(1) }, { d: Float64Array.of(1) })).toBe('d');
    expect(programDiff({ d: Float32Array.of(1, NaN) }, { d: Float32Array.of(1, NaN) })).toBeUndefined();
    expect(programDiff({ d: Int32Array.of(1, 2) }, { d: Int32Array.of(1, 3) })).toBe('d[1]');
  });
});
