/**
 * Seeded fuzzing of the loader and executor on in-memory programs (the decoder's own fuzzing is in
 * fuzz-program.test.ts): random edits of numbers, ports, colours, guards, counts, call tensors and attributes in a valid
 * program must give either a run or a DiagnosticError (W5xxx/W6xxx) — never another exception, a
 * hang or an allocation the target does not bound.
 */
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import { eq, gt, lt, mod, ProgramBuilder, sub, W, X } from '../ir/program-builder.js';
import type { Program } from '../ir/program.js';
import { mulberry32 } from '../ir/random.js';
import { emulate } from '../runtime/emulate.js';
import { testTarget } from './emulator-fixtures.js';

function seedProgram(): Program {
  const P = 4, n = 8;
  const b = new ProgramBuilder('fuzz', testTarget(P, 2, { queueWords: 4 }));
  const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
  const a = r.buffer('a', 'f32', n), c = r.buffer('c', 'f32', n), d = r.buffer('d', 'f32', n), ids = r.buffer('ids', 'i32', 2);
  r.loop(3, (body, i) => {
    body.send(a, n, 1, { guard: lt(X, sub(W, 1)) });
    body.recv(c, n, 1, { guard: gt(X, 0), combine: 'add' });
    body.forward(d, 2, 2, 2, { guard: eq(X, 1), combine: 'max' });
    body.send(d, 2, 2, { guard: eq(X, 0) });
    body.recv(d, 2, 2, { guard: eq(X, 2) });
    body.wait();
    body.matmul(a, c, d, 1, 1, 1, { accumulate: true, guard: eq(mod(i, 2), 0) });
    body.swap(c, d);
    body.delay(sub(3, X));
  });
  r.call('Softmax', [a.tensor('float32', [2, 4])], [c.tensor('float32', [2, 4])], { axis: { kind: 'int', value: -1 } });
  r.call('Gather', [c.tensor('float32', [n]), ids.tensor('int64', [2])], [d.at(X).tensor('float32', [2])], { axis: { kind: 'int', value: 0 } });
  r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: lt(X, sub(W, 1)) });
  r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: gt(X, 0) });
  r.route({ colour: 2, input: 'ramp', outputs: 'east', guard: lt(X, 2) });
  r.route({ colour: 2, input: 'west', outputs: 'ramp', guard: and12() });
  b.input('x', 'f32', [P, n], { buffer: a, tile: [1, n], at: [X, 0] });
  b.output('y', 'f32', [P, n], { buffer: c, tile: [1, n], at: [X, 0] });
  return b.build();
}

function and12() {
  return lt(sub(X, 1), 2);
}

const PORTS = ['north', 'south', 'east', 'west', 'ramp', 'up'];
const NUMBERS = [0, 1, 2, 3, -1, 7, 64, 1000, 2 ** 31, 1e12, 0.5];

/** Mutates one random leaf of a JSON-like value in place. */
function mutate(root: unknown, rnd: () => number): void {
  const leaves: { o: Record<string, unknown> | unknown[]; k: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => { leaves.push({ o: v, k: i }); walk(x); });
    else if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
      for (const [k, x] of Object.entries(v)) { if (k === 'target') continue; leaves.push({ o: v as Record<string, unknown>, k }); walk(x); }
    }
  };
  walk(root);
  const { o, k } = leaves[Math.floor(rnd() * leaves.length)];
  const cur = (o as Record<string | number, unknown>)[k];
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  let next: unknown;
  if (typeof cur === 'number') next = pick(NUMBERS);
  else if (typeof cur === 'string') next = PORTS.includes(cur) ? pick(PORTS) : pick(['f16', 'i32', 'add', 'max', 'none', 'exp', 'x', 'i3']);
  else if (typeof cur === 'boolean') next = !cur;
  else next = pick([0, 5, { v: 'x' }, { v: 'i1' }, { op: 'div', a: { v: 'x' }, b: 0 }, [], undefined]);
  (o as Record<string | number, unknown>)[k] = next;
}

describe('fuzzed programs', () => {
  it('the seed program runs', () => {
    const r = emulate(seedProgram(), { mode: 'functional', inputs: new Map([['x', new Float32Array(32).fill(1)]]) });
    expect(r.totalCycles).toBeGreaterThan(0);
  });

  it('400 mutated programs load and run or are refused with a diagnostic', () => {
    const rnd = mulberry32(20251122);
    let ran = 0, refused = 0;
    for (let i = 0; i < 400; i++) {
      const p = seedProgram();
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) mutate(p, rnd);
      for (const mode of ['timing', 'functional'] as const) {
        try {
          emulate(p, { mode, maxEvents: 20_000, inputs: new Map([['x', new Float32Array(32).fill(0.5)]]) });
          ran++;
        } catch (err) {
          if (!(err instanceof DiagnosticError)) throw new Error(`case ${i} (${mode}): ${String((err as Error)?.stack ?? err)}`);
          expect(err.diagnostics[0].code).toMatch(/^W[56]\d{3}$/);
          refused++;
        }
      }
    }
    expect(ran).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });
});
