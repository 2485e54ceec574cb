/**
 * Seeded fuzzing of the program decoder: thousands of mutated program files (bit flips, truncations,
 * byte edits, and mutations with the length and CRC fixed up so that protobuf decoding and the
 * structural checks are reached, including edits of decoded message fields). Every outcome must be a
 * Program — which then re-encodes, round-trips and disassembles — or a W5xxx DiagnosticError; never
 * another exception. The PRNG is seeded (mulberry32), so a failure names a reproducible case.
 */
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import { ProgramBuilder, I, W, X, Y, add, eq, gt, lt, mod, mul, select, sub } from '../ir/program-builder.js';
import { PROGRAM_HEADER_BYTES, crc32, decodeProgram, encodeProgram, programMessageType } from '../ir/program-codec.js';
import { programDiff } from '../ir/program-equal.js';
import { disassemble } from '../ir/program-text.js';
import type { Program } from '../ir/program.js';
import { mulberry32 } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';

function shiftProgram(): Program {
  const b = new ProgramBuilder('shift', resolveTarget('mesh:8x1'));
  const r = b.region('row', { x: 0, y: 0, width: 8, height: 1 });
  const a = r.buffer('a', 'f32', 64);
  const c = r.buffer('c', 'f32', 64);
  const s = r.send(a, 64, 1, { guard: lt(X, sub(W, 1)), loc: 'Shift' });
  r.recv(c, 64, 1, { guard: gt(X, 0), combine: 'add' });
  r.wait();
  const ids = r.buffer('ids', 'i32', 2);
  r.call('Gather', [c.tensor('float32', [8, 8]), ids.tensor('int64', [2])], [a.at(X).tensor('float32', [2, 8])], {
    axis: { kind: 'int', value: 0 }, note: { kind: 'strings', value: ['x', 'yz'] }, w: { kind: 'floats', value: [0.5, -1] },
    t: { kind: 'tensor', value: Tensor.from('int64', [3], [-1, 0, 2 ** 40]) },
  });
  r.call('LayerNormalization', [c.tensor('float32', [8, 8]), null, a.at(8).tensor('float16', [8])], [c.tensor('float32', [8, 8]), null], {}, { domain: '' });
  r.delay(sub(W, X));
  r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: lt(X, sub(W, 1)) });
  r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: gt(X, 0) });
  b.input('x', 'f32', [8, 64], { buffer: a, tile: [1, 64], at: [X, 0] });
  b.output('y', 'f32', [8, 64], { buffer: c, tile: [1, 64], at: [X, 0] });
  b.predictTotal(80).predict(s, 4);
  return b.build();
}

function cannonProgram(): Program {
  const b = new ProgramBuilder('cannon', resolveTarget('mesh:4x4'));
  const r = b.region('grid', { x: 0, y: 0, width: 4, height: 4 });
  const A = r.buffer('A', 'f16', 16);
  const A2 = r.buffer('A2', 'f16', 16);
  const B = r.buffer('B', 'f16', 16);
  const C = r.buffer('C', 'f32', 16);
  const acc = r.buffer('acc', 'f32', 4);
  r.fill(C, 16, 0);
  let mm!: ReturnType<typeof r.wait>;
  const l = r.loop(W, (body, i0) => {
    mm = body.matmul(C, A, B, 4, 4, 4, { accumulate: true, transB: true });
    body.send(A, 16, mod(add(X, i0), 3), { guard: gt(X, 0) });
    body.recv(A2, 16, mod(add(X, 1, i0), 3), { guard: lt(X, sub(W, 1)) });
    body.forward(acc, 4, 5, 6, { combine: 'max', guard: eq(Y, 1) });
    body.loop(2, (inner, i1) => inner.binary('add', C.at(mul(i1, 8)), C.at(mul(i1, 8)), acc, 2, 4, { bcast: 'row' }));
    body.wait();
    body.swap(A, A2);
  });
  r.reduce('sum', acc, C, 4, 4, { axis: 'cols', accumulate: false });
  r.unary('rsqrt', acc, acc, 4, { guard: select(eq(X, Y), 1, 0) });
  r.route({ colour: 3, input: 'east', outputs: ['west', 'ramp'], guard: lt(X, sub(W, 1)) });
  b.constant('Bw', 'f16', [16, 16], { buffer: B, tile: [4, 4], at: [Y, X] }, Array.from({ length: 256 }, (_, i) => (i % 17) / 4));
  b.constant('Aw', 'f16', [16, 16], { buffer: A, tile: [4, 4], at: [Y, mod(add(X, Y), W)] });
  b.output('C', 'f32', [16, 16], { buffer: C, tile: [4, 4], at: [Y, X] });
  b.predictTotal(1000).predict(l, 3).predict(mm, add(mul(I(0), 40), 3));
  return b.build();
}

const INTERESTING = [0, 1, 2, 3, 5, 8, 17, 255, 256, 4096, 0x7fffffff, 0x80000000, 0xffffffff, -1, -2, -0x80000000, 2 ** 40, 2 ** 53];

type Json = Record<string, unknown> | unknown[];

/** Every container slot of a plain message object: [parent, key]. */
function slots(v: unknown, out: [Json, string | number][] = []): [Json, string | number][] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([v, i]);
      slots(x, out);
    });
  } else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(v)) {
      out.push([v as Record<string, unknown>, k]);
      slots(x, out);
    }
  }
  return out;
}

function refile(payload: Uint8Array, version = 1): Uint8Array {
  const out = new Uint8Array(PROGRAM_HEADER_BYTES + payload.length);
  out.set(new TextEncoder().encode('WAFERPRG'));
  const view = new DataView(out.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, payload.length, true);
  view.setUint32(16, crc32(payload), true);
  out.set(payload, PROGRAM_HEADER_BYTES);
  return out;
}

describe('fuzzing the program decoder', () => {
  it('turns every mutated file into a Program or a W5xxx diagnostic', () => {
    const bases = [shiftProgram(), cannonProgram()].map((p) => encodeProgram(p));
    const T = programMessageType();
    const rnd = mulberry32(20240611);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T,>(list: readonly T[]): T => list[int(list.length)];
    const tally: Record<string, number> = {};
    let skipped = 0;
    const CASES = 6000;

    const mutate = (base: Uint8Array, kind: number): Uint8Array | undefined => {
      const payload = base.subarray(PROGRAM_HEADER_BYTES);
      switch (kind) {
        case 0: { // raw bit flips anywhere (the CRC catches payload flips)
          const b = base.slice();
          for (let k = 1 + int(3); k > 0; k--) b[int(b.length)] ^= 1 << int(8);
          return b;
        }
        case 1: // truncation
          return base.slice(0, int(base.length));
        case 2: { // header byte edits
          const b = base.slice();
          b[int(PROGRAM_HEADER_BYTES)] = int(256);
          return b;
        }
        case 3: { // payload bit flips / byte edits with length and CRC fixed
          const b = payload.slice();
          for (let k = 1 + int(4); k > 0; k--) {
            const at = int(b.length);
            b[at] = rnd() < 0.5 ? b[at] ^ (1 << int(8)) : int(256);
          }
          return refile(b);
        }
        case 4: { // payload insert / delete / duplicate a slice, CRC fixed
          const at = int(payload.length);
          const len = 1 + int(12);
          const parts = [payload.subarray(0, at)];
          const op = int(3);
          if (op === 0) parts.push(Uint8Array.from({ length: len }, () => int(256)));
          if (op === 2) parts.push(payload.subarray(at, at + len));
          parts.push(payload.subarray(op === 1 ? at + len : at));
          const b = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
          let o = 0;
          for (const p of parts) { b.set(p, o); o += p.length; }
          return refile(b);
        }
        default: { // edit a field of the decoded message, re-encode, CRC fixed
          const m = T.toObject(T.decode(payload), { arrays: true, longs: Number, enums: Number }) as Record<string, unknown>;
          for (let k = 1 + int(2); k > 0; k--) {
            const all = slots(m);
            const [parent, key] = pick(all);
            const v = (parent as Record<string | number, unknown>)[key];
            const r = rnd();
            if (typeof v === 'number') {
              (parent as Record<string | number, unknown>)[key] = r < 0.7 ? pick(INTERESTING) : int(64) - 16;
            } else if (Array.isArray(v) && v.length > 0) {
              if (r < 0.4) v.splice(int(v.length), 1);
              else if (r < 0.8) v.push(structuredClone(v[int(v.length)]));
              else v.length = 0;
            } else if (!Array.isArray(parent)) {
              delete (parent as Record<string, unknown>)[key];
            }
          }
          try {
            return refile(T.encode(T.fromObject(m)).finish());
          } catch {
            return undefined; // protobufjs refused to write the mutant: not a decoder case
          }
        }
      }
    };

    for (let c = 0; c < CASES; c++) {
      const base = pick(bases);
      const kind = int(8);
      const bytes = mutate(base, kind);
      if (!bytes) {
        skipped++;
        continue;
      }
      let outcome: string;
      try {
        const p = decodeProgram(bytes);
        // A decoded program is well-formed: it re-encodes, round-trips and prints.
        const again = decodeProgram(encodeProgram(p));
        const diff = programDiff(again, p);
        if (diff !== undefined) throw new Error(`case ${c}: round trip differs at ${diff}`);
        disassemble(p);
        outcome = 'ok';
      } catch (e) {
        if (!(e instanceof DiagnosticError)) throw new Error(`case ${c} (mutation ${kind}): ${e instanceof Error ? e.stack : String(e)}`);
        outcome = e.diagnostics[0].code;
        expect(outcome).toMatch(/^W5\d{3}$/);
      }
      tally[outcome] = (tally[outcome] ?? 0) + 1;
    }
    const total = Object.values(tally).reduce((a, b) => a + b, 0);
    expect(total + skipped).toBe(CASES);
    expect(skipped).toBeLessThan(CASES / 20);
    // Each layer of the decoder was reached.
    expect(tally.ok).toBeGreaterThan(50);
    expect(tally.W5002).toBeGreaterThan(1000);
    expect(tally.W5003).toBeGreaterThan(5);
    expect(tally.W5012).toBeGreaterThan(300);
    expect(tally.W5001).toBeGreaterThan(0);
  });
});
