/**
 * The program file format: round trips of builder-made programs covering every instruction kind and
 * every optional field present and absent, the exact header bytes, deterministic bytes, each decode
 * diagnostic (short file, bad magic, newer version, truncated, flipped bit, garbage payload with a
 * correct CRC, structural faults), the schema file and string in step, the disassembly (golden text,
 * inline) and `wafer inspect`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspectCommand } from '../cli/commands/inspect.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import { ProgramBuilder, H, I, W, X, Y, add, div, eq, ge, gt, lt, max, min, mod, mul, ne, or, select, sub, and, le } from '../ir/program-builder.js';
import { exprToCodes } from '../ir/program-codec-expr.js';
import { PROGRAM_HEADER_BYTES, crc32, decodeProgram, encodeProgram, programMessageType } from '../ir/program-codec.js';
import { programDiff } from '../ir/program-equal.js';
import { PROGRAM_SCHEMA } from '../ir/program-schema.js';
import { disassemble, exprToText, programToJson } from '../ir/program-text.js';
import { PROGRAM_FORMAT_VERSION, forEachInstr, type Program } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';

/** Every instruction kind, every optional field present somewhere and absent somewhere, 2 regions, loops 4 deep. */
function kitchenSink(): Program {
  const b = new ProgramBuilder('kitchen sink', resolveTarget('mesh:16x8'));
  const r = b.region('gemm', { x: 0, y: 0, width: 4, height: 4 });
  const A = r.buffer('A', 'f32', 64);
  const B = r.buffer('B', 'f16', 64);
  const B2 = r.buffer('B2', 'f16', 64);
  const C = r.buffer('C', 'f32', 64);
  const v = r.buffer('v', 'i32', 3, { offset: 1024 });
  r.setLoc('MatMul_3');
  const first = r.fill(C, 64, 0);
  r.matmul(C, A, B, 8, 8, 8, { accumulate: true, transB: true, guard: and(lt(X, sub(W, 1)), ge(Y, 0)) });
  r.matmul(C.at(mul(X, 8)), A, B2.at(mul(Y, 8)), 8, div(8, 1), 8);
  r.setLoc('Softmax_7');
  r.unary('exp', A, C, 64);
  r.unary('scale', A, A, 64, { scalar: 0.125, loc: '' });
  r.unary('add_scalar', A, A, 64, { scalar: -Infinity });
  r.binary('add', C, C, A, 8, 8, { bcast: 'row' });
  r.binary('max', C, C, A, 8, 8);
  r.reduce('sum', A, C, 8, 8, { axis: 'rows', accumulate: true });
  r.reduce('max', A, C, 8, 8);
  const out = r.loop(add(W, 1), (l0, i0) => {
    l0.send(A.at(mul(i0, 8)), 8, mod(add(X, i0), 3), { guard: ne(X, sub(W, 1)) });
    l0.recv(A.at(0), 8, 2, { combine: 'add', guard: gt(X, 0) });
    l0.loop(2, (l1, i1) => {
      l1.forward(A.at(i1), 8, 4, 5, { combine: 'max' });
      l1.loop(select(eq(Y, 0), 1, 2), (l2, i2) => {
        l2.loop(min(i0, max(i1, i2)), (l3, i3) => {
          l3.fill(v.at(i3), 1, -0, { guard: or(le(i3, 1), eq(H, 4)) });
          l3.forward(v, 3, 6, 7);
        });
      });
      l1.swap(B, B2);
    });
    l0.wait();
  });
  const last = r.wait({ loc: 'end' });
  A.live(first, last);
  B2.live(out, last);
  const s = b.region('vec', { x: 4, y: 0, width: 8, height: 1 });
  const x = s.buffer('x', 'f32', 16);
  const ids = s.buffer('ids', 'i32', 4);
  s.call('Gather', [x.tensor('float32', [4, 4]), ids.at(mul(X, 0)).tensor('int64', [2])], [x.at(8).tensor('float32', [2, 4])],
    { axis: { kind: 'int', value: 0 } }, { loc: 'Gather_2', guard: lt(X, 4) });
  s.call('Custom', [null, x.tensor('float16', [2])], [null, x.tensor('float32', [2])], {
    i: { kind: 'int', value: -9223372036854775808 }, f: { kind: 'float', value: -0 }, s: { kind: 'string', value: 'héllo' },
    is: { kind: 'ints', value: [] }, fs: { kind: 'floats', value: [NaN, Infinity, 0.1] }, ss: { kind: 'strings', value: ['', 'a'] },
    t: { kind: 'tensor', value: Tensor.from('bfloat16', [2, 1], [1.5, -3]) },
  }, { domain: 'com.example' });
  s.delay(sub(100, mul(X, 3)));
  s.send(x, 16, 9);
  s.recv(x, 16, 9, { guard: gt(X, 0) });
  s.route({ colour: 9, input: 'ramp', outputs: ['east', 'ramp'], guard: lt(X, sub(W, 1)) });
  s.route({ colour: 9, input: 'west', outputs: 'ramp' });
  b.route({ colour: 2, rect: { x: 0, y: 0, width: 4, height: 4 }, input: 'north', outputs: ['south', 'east', 'west', 'ramp'] });
  b.constant('W1', 'f16', [16, 16], { buffer: B, tile: [8, 8], at: [Y, X], guard: lt(add(X, Y), 4) }, Array.from({ length: 256 }, (_, i) => i / 8));
  b.constant('W2', 'f32', [32, 32], { buffer: A, tile: [8, 8], at: [mod(add(X, Y), W), X] });
  b.input('tokens', 'f32', [2, 8, 16], { buffer: x, tile: [16, 16], at: [0, 0], view: [16, 16] });
  b.output('y', 'f32', [4, 4, 4], { buffer: C, tile: [4, 4], at: [Y, X] });
  b.predictTotal(123456789012);
  b.predict(first, 0);
  b.predict(out, add(mul(X, 3), Y));
  return b.build();
}

function tinyTarget(): Target {
  return {
    name: 'tiny', width: 4, height: 1, clockHz: 1e9,
    sram: { bytesPerCore: 4096, banks: 1, readWordsPerCycle: 2, writeWordsPerCycle: 1 },
    flopsPerCycle: { float32: 2, float16: 8, float16Acc32: 4 },
    link: { bitsPerCycle: 32, hopLatency: 1, rampLatency: 1 }, relayCycles: 16,
    router: { colours: 8, queueWords: 8 }, overhead: { issue: 1, comm: 4, loop: 2 },
    host: { bytesPerSecond: 1e9, latencySeconds: 1e-5 }, power: { coreActiveWatts: 0.03, coreIdleWatts: 0.01, joulesPerWordHop: 1e-12 },
  };
}

/** A neighbour shift on a row of 4 cores. */
function shift(): Program {
  const b = new ProgramBuilder('shift', tinyTarget());
  const r = b.region('row', { x: 0, y: 0, width: 4, height: 1 });
  const a = r.buffer('a', 'f32', 64);
  const c = r.buffer('c', 'f32', 64);
  r.setLoc('Shift_0');
  const send = r.send(a.at(0), 64, 1, { guard: lt(X, sub(W, 1)) });
  r.recv(c, 64, 1, { guard: gt(X, 0) });
  r.loop(2, (l, i) => l.unary('scale', c.at(mul(i, 32)), c.at(mul(i, 32)), 32, { scalar: 0.5 }));
  r.wait();
  r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: lt(X, sub(W, 1)) });
  r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: gt(X, 0) });
  b.input('x', 'f32', [4, 64], { buffer: a, tile: [1, 64], at: [X, 0] });
  b.output('y', 'f32', [4, 64], { buffer: c, tile: [1, 64], at: [X, 0], guard: gt(X, 0) });
  b.constant('k', 'f32', [1, 4], { buffer: a, tile: [1, 4], at: [0, 0] });
  b.predictTotal(140).predict(send, 1);
  return b.build();
}

/** The diagnostic code a call throws (fails the test if it throws anything else or nothing). */
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics[0].code;
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.message;
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}

/** A file with a valid header (length and CRC) around `payload`. */
function wrap(payload: Uint8Array, version = PROGRAM_FORMAT_VERSION): Uint8Array {
  const out = new Uint8Array(PROGRAM_HEADER_BYTES + payload.length);
  out.set(new TextEncoder().encode('WAFERPRG'));
  const view = new DataView(out.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, payload.length, true);
  view.setUint32(16, crc32(payload), true);
  out.set(payload, PROGRAM_HEADER_BYTES);
  return out;
}

/** Decodes the payload to a plain message object, lets `edit` change it, re-encodes it into a valid file. */
function edited(p: Program, edit: (m: Record<string, any>) => void): Uint8Array {
  const T = programMessageType();
  const m = T.toObject(T.decode(encodeProgram(p).subarray(PROGRAM_HEADER_BYTES)), { arrays: true }) as Record<string, any>;
  edit(m);
  return wrap(T.encode(T.fromObject(m)).finish());
}

describe('round trip', () => {
  it('decode(encode(p)) equals p for a program using every instruction and optional field', () => {
    const p = kitchenSink();
    const q = decodeProgram(encodeProgram(p));
    expect(programDiff(q, p)).toBeUndefined();
    expect(q).toStrictEqual(p);
    // absent stays absent, present stays present
    const body = q.regions[0].kernel.body;
    expect('guard' in body[0]).toBe(false);
    expect(body[1].guard).toEqual({ op: 'and', a: { op: 'lt', a: X, b: { op: 'sub', a: W, b: 1 } }, b: { op: 'ge', a: Y, b: 0 } });
    expect(q.regions[0].kernel.buffers.map((b) => b.live)).toEqual([[0, 21], undefined, [10, 21], undefined, undefined]);
    expect('live' in q.regions[0].kernel.buffers[1]).toBe(false);
    expect(q.constants[0].data).toBeInstanceOf(Uint8Array);
    expect(q.constants[0].data!.length).toBe(512);
    expect('data' in q.constants[1]).toBe(false);
    expect('guard' in q.constants[1].tiling).toBe(false);
    expect(q.predicted?.totalCycles).toBe(123456789012);
    expect(q.target).toStrictEqual(resolveTarget('mesh:16x8'));
  });

  it('covers every opcode and loops four deep', () => {
    const ops = new Set<string>();
    let deepest = 0;
    const walk = (list: Program['regions'][number]['kernel']['body'], d: number) => list.forEach((i) => {
      ops.add(i.op);
      deepest = Math.max(deepest, d);
      if (i.op === 'loop') walk(i.body, d + 1);
    });
    walk(kitchenSink().regions[0].kernel.body, 0);
    walk(kitchenSink().regions[1].kernel.body, 0);
    expect([...ops].sort()).toEqual(['binary', 'call', 'delay', 'fill', 'forward', 'loop', 'matmul', 'recv', 'reduce', 'send', 'swap', 'unary', 'wait']);
    expect(deepest).toBe(4);
  });

  it('keeps -Infinity, -0 and fractional doubles exactly; a program without prediction has none', () => {
    const p = kitchenSink();
    const q = decodeProgram(encodeProgram(p));
    const unary = q.regions[0].kernel.body[5];
    expect(unary.op === 'unary' && unary.scalar).toBe(-Infinity);
    const fills: number[] = [];
    forEachInstr(q.regions[0].kernel.body, (i) => { if (i.op === 'fill') fills.push(i.value); });
    expect(fills).toEqual([0, -0]);
    expect(Object.is(fills[1], -0)).toBe(true);
    expect(q.predicted?.instructions).toEqual([{ instr: 0, start: 0 }, { instr: 10, start: add(mul(X, 3), Y) }]);
    const scale = q.regions[0].kernel.body[4];
    expect(scale.op === 'unary' && scale.scalar).toBe(0.125);
    const b = new ProgramBuilder('empty', tinyTarget());
    const e = decodeProgram(encodeProgram(b.build()));
    expect('predicted' in e).toBe(false);
    expect(e).toStrictEqual(b.build());
  });

  it('an empty constant data array is present, not absent', () => {
    const p = shift();
    p.constants[0] = { ...p.constants[0], tiling: { ...p.constants[0].tiling, rows: 1, cols: 1, tileRows: 1, tileCols: 1 }, type: 'f32', data: new Uint8Array(4) };
    const q = decodeProgram(encodeProgram(p));
    expect(q.constants[0].data).toEqual(new Uint8Array(4));
  });

  it('writes the same bytes every time, and re-encoding a decoded program gives the same bytes', () => {
    const a = encodeProgram(kitchenSink());
    const b = encodeProgram(kitchenSink());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(encodeProgram(decodeProgram(a))).equals(Buffer.from(a))).toBe(true);
  });
});

describe('file layout', () => {
  it('has the documented header', () => {
    const bytes = encodeProgram(shift());
    const payload = bytes.subarray(PROGRAM_HEADER_BYTES);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('WAFERPRG');
    expect([...bytes.subarray(8, 12)]).toEqual([1, 0, 0, 0]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(12, true)).toBe(bytes.length - 20);
    expect(view.getUint32(16, true)).toBe(crc32(payload));
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('encodes expressions as RPN codes: even = literal·2, odd = token·2+1', () => {
    expect(exprToCodes(add(X, 3))).toEqual([1, 6, 17]);
    expect(exprToCodes(select(Y, -1, I(3)))).toEqual([3, -2, 15, 47]);
    expect(exprToCodes(2 ** 53 - 1)).toEqual([2 ** 54 - 2]);
  });

  it('the schema string is the .proto file byte for byte, and docs/program-format.md quotes it', () => {
    const file = readFileSync(new URL('../ir/program.proto', import.meta.url), 'utf8');
    expect(PROGRAM_SCHEMA).toBe(file);
    const doc = readFileSync(new URL('../docs/program-format.md', import.meta.url), 'utf8');
    expect(doc.includes(`\`\`\`proto\n${PROGRAM_SCHEMA}\`\`\``)).toBe(true);
  });
});

describe('decode diagnostics', () => {
  const good = () => encodeProgram(shift());

  it('a short file or bad magic is not a wafer program (W5002)', () => {
    expect(codeOf(() => decodeProgram(new Uint8Array(5)))).toBe('W5002');
    expect(messageOf(() => decodeProgram(new TextEncoder().encode('PK\u0003\u0004 a zip file')))).toMatch(/not a wafer program \(bad magic/);
    expect(messageOf(() => decodeProgram(good().subarray(0, 12)))).toMatch(/truncated header \(12 of 20 bytes\)/);
  });

  it('a newer version is W5003 naming both versions', () => {
    const bytes = good();
    bytes[8] = PROGRAM_FORMAT_VERSION + 1;
    expect(codeOf(() => decodeProgram(bytes))).toBe('W5003');
    expect(messageOf(() => decodeProgram(bytes, 'p.wafer'))).toMatch(/version 2 is newer than this wafer supports \(version 1\)[^]*at p\.wafer[^]*upgrade wafer/);
    bytes[8] = 0;
    expect(messageOf(() => decodeProgram(bytes))).toMatch(/W5002: not a wafer program: format version 0/);
  });

  it('a truncated file, trailing bytes and a flipped bit are W5002 naming which', () => {
    const bytes = good();
    expect(messageOf(() => decodeProgram(bytes.subarray(0, bytes.length - 1)))).toMatch(
      new RegExp(`W5002: truncated: the header announces ${bytes.length - 20} payload bytes but only ${bytes.length - 21} are present`));
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(messageOf(() => decodeProgram(longer))).toMatch(/W5002: 3 unexpected bytes after the/);
    const flipped = bytes.slice();
    flipped[40] ^= 0x10;
    expect(messageOf(() => decodeProgram(flipped))).toMatch(/W5002: checksum mismatch/);
  });

  it('garbage after a valid header with a correct CRC is W5002', () => {
    expect(messageOf(() => decodeProgram(wrap(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))))).toMatch(/W5002: the payload is not a valid program message/);
    expect(codeOf(() => decodeProgram(wrap(new Uint8Array([0x12, 0x40, 0x01]))))).toBe('W5002');
  });

  it('structural faults are W5012 naming the place', () => {
    const p = shift();
    const bad = (edit: (m: Record<string, any>) => void) => messageOf(() => decodeProgram(edited(p, edit), 'p.wafer'));
    expect(bad((m) => { m.regions[0].kernel.body[0].send.src.buf = 7; })).toMatch(
      /W5012: operand src names buffer 7, but the kernel has 2 buffer\(s\) \(region 0 "row", instruction 0 "Shift_0"\)\n {2}at p\.wafer: region 0/);
    expect(bad((m) => { m.regions[0].kernel.body[1].id = 0; })).toMatch(/W5012: instruction id 0 is used twice/);
    expect(bad((m) => { m.regions[0].kernel.body[1].recv.combine = 9; })).toMatch(/W5012: unknown combine function value 9/);
    expect(bad((m) => { m.regions[0].kernel.buffers[0].type = 0; })).toMatch(/W5012: missing buffer type/);
    expect(bad((m) => { delete m.regions[0].kernel.body[0].send.src; })).toMatch(/W5012: missing operand src/);
    expect(bad((m) => { delete m.regions[0].kernel.body[0].send; })).toMatch(/W5012: instruction has no kind/);
    expect(bad((m) => { m.regions[0].kernel.body[0].guard = [1, 17, 17]; })).toMatch(/W5012: malformed expression .*too few operands/);
    expect(bad((m) => { m.regions[0].kernel.body[0].guard = [1, 3]; })).toMatch(/W5012: malformed expression .*2 values left/);
    expect(bad((m) => { m.regions[0].kernel.body[0].guard = [2 * 99 + 1]; })).toMatch(/W5012: malformed expression .*unknown token 99/);
    expect(bad((m) => { m.regions[0].kernel.body[0].guard = [9]; })).toMatch(/W5012: guard: loop counter i0 used in no loop/);
    expect(bad((m) => { m.regions[0].kernel.body[0].send.n = []; })).toMatch(/W5012: missing expression n/);
    expect(bad((m) => { m.regions[0].kernel.body[0].send.n = [2 * -5]; })).toMatch(/W5012: n is -5/);
    expect(bad((m) => { m.regions[0].kernel.buffers[1].length = 0x80000000; })).toMatch(/W5012: buffer length is 2147483648/);
    expect(bad((m) => { m.regions[0].kernel.buffers[1].offset = 2; })).toMatch(/W5012: offset 2 is not aligned/);
    expect(bad((m) => { m.regions[0].rect.width = 0; })).toMatch(/W5012: rect width is 0/);
    expect(bad((m) => { m.constants[0].data = new Uint8Array(15); })).toMatch(/W5012: constant data has 15 bytes; 1x4 f32 needs 16/);
    expect(bad((m) => { m.inputs[0].shape = [4, 65]; })).toMatch(/W5012: shape \[4,65\] has 260 elements but the tiling views 4x64/);
    expect(bad((m) => { m.inputs[0].tiling.region = 3; })).toMatch(/W5012: tiling names region 3/);
    expect(bad((m) => { m.routes[0].outputs = []; })).toMatch(/W5012: a route rule needs at least one output port/);
    expect(bad((m) => { m.routes[0].outputs = [3, 3]; })).toMatch(/W5012: output port east is listed twice/);
    expect(bad((m) => { m.predicted.instructions[0].instr = 99; })).toMatch(/W5012: predicts instruction 99, which does not exist/);
    expect(bad((m) => { m.regions[0].kernel.buffers[1].live = { first: 3, last: 1 }; })).toMatch(/W5012: live range 3\.\.1 is empty/);
    expect(bad((m) => { m.regions[0].kernel.body[0] = { id: 0, swap: { a: 0, b: 0 } }; })).toMatch(/W5012: swap of buffer 0 with itself/);
  });

  it('rejects loops nested five deep and a missing or invalid target', () => {
    const p = shift();
    const nest = (d: number): Record<string, unknown> => ({ id: 10 + d, loop: { count: [2], body: d ? [nest(d - 1)] : [] } });
    expect(messageOf(() => decodeProgram(edited(p, (m) => { m.regions[0].kernel.body.push(nest(4)); })))).toMatch(/W5012: loops nest deeper than 4/);
    expect(decodeProgram(edited(p, (m) => { m.regions[0].kernel.body.push(nest(3)); })).regions[0].kernel.body).toHaveLength(5);
    expect(messageOf(() => decodeProgram(edited(p, (m) => { delete m.target; })))).toMatch(/W5012: missing target/);
    expect(messageOf(() => decodeProgram(edited(p, (m) => { m.target.clockHz = 0; })))).toMatch(/W5001: target figure clockHz is 0/);
    expect(messageOf(() => decodeProgram(edited(p, (m) => { m.target.link.hopLatency = NaN; })))).toMatch(/W5001: target figure link\.hopLatency is NaN/);
  });

  it('skips unknown fields (a newer writer adding fields within the same version)', () => {
    const bytes = encodeProgram(shift());
    const payload = bytes.subarray(PROGRAM_HEADER_BYTES);
    const extended = new Uint8Array(payload.length + 3);
    extended.set(payload);
    extended.set([0xf8, 0x06, 0x2a], payload.length); // field 111, varint 42
    expect(decodeProgram(wrap(extended))).toStrictEqual(shift());
  });
});

describe('encode refuses malformed programs', () => {
  it('validates before writing', () => {
    const p = shift();
    const s = p.regions[0].kernel.body[0];
    if (s.op !== 'send') throw new Error('fixture');
    s.src.buf = 5;
    expect(codeOf(() => encodeProgram(p))).toBe('W5012');
    const q = shift();
    q.regions[0].kernel.body[0].guard = 0.5;
    expect(messageOf(() => encodeProgram(q))).toMatch(/literal 0\.5 is not a safe integer/);
    const v = shift();
    v.version = 2;
    expect(codeOf(() => encodeProgram(v))).toBe('W5003');
  });
});

describe('disassembly', () => {
  it('prints the golden listing of a small program', () => {
    expect(disassemble(decodeProgram(encodeProgram(shift())))).toBe(`program "shift"  (format version 1, opset 18)
target "tiny"  mesh 4x1  clock 1 GHz  SRAM 4096 B/core  colours 8

region 0 "row"  rect (0,0 4x1)  SRAM 512 B
  buffers
    B0  "a"  f32[64]  offset 0    256 B
    B1  "c"  f32[64]  offset 256  256 B
  kernel
    0  send     B0[0] n=64 colour=1  if x < w-1  @ "Shift_0"
    1  recv     B1[0] n=64 colour=1  if x > 0  @ "Shift_0"
    2  loop     2  (i0)  @ "Shift_0"
    3    unary    B1[i0*32] = scale(B1[i0*32], 0.5)  n=32  @ "Shift_0"
    4  wait  @ "Shift_0"

routes
  colour 1  rect (0,0 4x1)  ramp -> east  if x < w-1
  colour 1  rect (0,0 4x1)  west -> ramp  if x > 0

constants
  "k"  f32  [1x4]  shapes only (16 B)  -> region 0 "row" B0  tile 1x4 (1x1 tiles) at (0, 0)

inputs
  "x"  f32  [4,64] as 4x64  1024 B  -> region 0 "row" B0  tile 1x64 (4x1 tiles) at (x, 0)

outputs
  "y"  f32  [4,64] as 4x64  1024 B  -> region 0 "row" B1  tile 1x64 (4x1 tiles) at (x, 0)  if x > 0

predicted
  total 140 cycles
  instr 0  start 1
`);
  });

  it('prints expressions with their grouping', () => {
    expect(exprToText(add(mul(X, 64), Y))).toBe('x*64+y');
    expect(exprToText(mul(add(X, 1), 64))).toBe('(x+1)*64');
    expect(exprToText(sub(X, sub(Y, 1)))).toBe('x-(y-1)');
    expect(exprToText(add(X, mod(Y, 3)))).toBe('x+(y mod 3)');
    expect(exprToText(mod(add(X, 1), 3))).toBe('(x+1) mod 3');
    expect(exprToText(and(lt(X, sub(W, 1)), ge(Y, 0)))).toBe('x < w-1 and y >= 0');
    expect(exprToText(or(and(X, Y), eq(H, -2)))).toBe('x and y or h == (-2)');
    expect(exprToText(select(gt(X, 0), min(X, 3), add(I(1), 2)))).toBe('x > 0 ? min(x, 3) : i1+2');
    expect(exprToText(add(X, select(Y, 1, 2)))).toBe('x+(y ? 1 : 2)');
  });

  it('is deterministic, and the JSON form is canonical', () => {
    const p = kitchenSink();
    expect(disassemble(p)).toBe(disassemble(decodeProgram(encodeProgram(p))));
    const json = programToJson(p);
    expect(json).toBe(programToJson(decodeProgram(encodeProgram(p))));
    const parsed = JSON.parse(json);
    expect(parsed.constants[0].data).toBe(Buffer.from(p.constants[0].data!).toString('base64'));
    expect(parsed.regions[0].kernel.body[5].scalar).toBe('-Infinity');
    expect(Object.keys(parsed)).toEqual(['version', 'name', 'target', 'opset', 'regions', 'routes', 'constants', 'inputs', 'outputs', 'predicted']);
  });
});

describe('wafer inspect', () => {
  let out = '';
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  };

  it('prints the disassembly or the JSON form of a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-inspect-'));
    const file = join(dir, 'shift.wafer');
    writeFileSync(file, encodeProgram(shift()));
    capture();
    inspectCommand(file, {});
    expect(out).toBe(disassemble(shift()));
    capture();
    inspectCommand(file, { json: true });
    expect(JSON.parse(out).name).toBe('shift');
  });

  it('reports unreadable and corrupt files as W5002 naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-inspect-'));
    expect(messageOf(() => inspectCommand(join(dir, 'missing.wafer'), {}))).toMatch(/W5002: cannot read program file .*missing\.wafer' \(ENOENT\)/);
    const file = join(dir, 'bad.wafer');
    writeFileSync(file, 'hello');
    expect(messageOf(() => inspectCommand(file, {}))).toMatch(/W5002: not a wafer program[^]*at .*bad\.wafer/);
  });
});
