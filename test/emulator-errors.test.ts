/**
 * Run-time errors (docs/runtime-model.md, "Errors at run time"): deadlocks are reported, never hung
 * on — naming the waiting cores, their colours and instructions, and the streams that found no
 * receiver; the event budget stops runaway runs; count mismatches (W6003), out-of-buffer operands
 * (W6004), data races with in-flight transfers (W6002) and missing functional data (W6005).
 */
import { describe, expect, it } from 'vitest';
import { and, eq, gt, lt, mul, ProgramBuilder, sub, W, X } from '../ir/program-builder.js';
import { emulate } from '../runtime/emulate.js';
import { diagnosticsOf, testTarget } from './emulator-fixtures.js';

/** A row of P cores with colour 1 routed from each core to its east neighbour. */
function row(P: number, name = 'row') {
  const b = new ProgramBuilder(name, testTarget(P, 1));
  const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
  r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: lt(X, sub(W, 1)) });
  r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: gt(X, 0) });
  return { b, r };
}

describe('deadlock (W6001)', () => {
  it('names the waiting core, its colour and instruction when a receive has no sender at run time', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 8);
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1), loc: 'first' });
    r.wait({ guard: eq(X, 1) });
    r.recv(c, 8, 1, { guard: eq(X, 1), loc: 'second' });
    r.wait({ loc: 'stuck' });
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d.code).toBe('W6001');
    expect(d.location).toBe('core (1,0)');
    expect(d.message).toContain('1 core did not finish');
    expect(d.message).toContain('core (1,0) waits in instruction #4 (stuck) for its recv on colour 1 (instruction #3 (second))');
  });

  it('lists the streams that never found a receiver', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 8);
    r.send(c, 8, 1, { guard: eq(X, 0), loc: 'one' });
    r.send(c, 8, 1, { guard: eq(X, 0), loc: 'two' });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.wait();
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d.code).toBe('W6001');
    expect(d.message).toContain('core (0,0) waits in instruction #3');
    expect(d.message).toMatch(/stream of 8 elements from core \(0,0\) on colour 1 \(instruction #1 \(two\)\) never started, waiting for a receive \(or buffer space\) at core \(1,0\) on colour 1/);
  });

  it('reports a ring where every core receives before it sends: the first 10 cores and a count of the rest', () => {
    const P = 16;
    const { b, r } = row(P);
    const v = r.buffer('v', 'f32', 4);
    r.recv(v, 4, 1, { guard: gt(X, 0) });
    r.recv(v, 4, 2, { guard: eq(X, 0) });
    r.wait();
    r.send(v, 4, 1, { guard: lt(X, sub(W, 1)) });
    r.send(v, 4, 2, { guard: eq(X, sub(W, 1)) });
    r.wait();
    // Colour 2: from the last core back to core 0 through the row.
    r.route({ colour: 2, input: 'ramp', outputs: 'west', guard: eq(X, sub(W, 1)) });
    r.route({ colour: 2, input: 'east', outputs: 'west', guard: and(gt(X, 0), lt(X, sub(W, 1))) });
    r.route({ colour: 2, input: 'east', outputs: 'ramp', guard: eq(X, 0) });
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d.code).toBe('W6001');
    expect(d.message).toContain(`${P} cores did not finish`);
    expect(d.message).toContain('core (0,0) waits in instruction #2 () for its recv on colour 2');
    expect(d.message).toContain('core (9,0) waits');
    expect(d.message).not.toContain('core (10,0) waits');
    expect(d.message).toContain(`... and ${P - 10} more waiting cores`);
  });

  it('stops a run that exceeds its event budget', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 8);
    r.loop(100, (body) => {
      body.send(c, 8, 1, { guard: eq(X, 0) });
      body.recv(c, 8, 1, { guard: eq(X, 1) });
      body.wait();
    });
    const p = b.build();
    expect(emulate(p).events).toBeGreaterThan(100);
    const [d] = diagnosticsOf(() => emulate(p, { maxEvents: 50 }));
    expect(d.code).toBe('W6001');
    expect(d.message).toContain('exceeded its budget of 50 events');
  });
});

describe('transfer and operand errors', () => {
  it('W6006: an eager stream that no receive ever takes', () => {
    const b = new ProgramBuilder('orphan', testTarget(2, 1, { queueWords: 8 }));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    const c = r.buffer('c', 'f32', 4);
    r.send(c, 4, 1, { guard: eq(X, 0), loc: 'lost' });
    r.wait();
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d).toMatchObject({ code: 'W6006', location: 'core (1,0), colour 1' });
    expect(d.message).toBe('the run ended with 1 stream that no receive took\n  a stream from core (0,0) (instruction #0 (lost)) waits in the colour 1 buffer of core (1,0)');
  });

  it('W6003: a stream meets a receive of another element count, both named', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 8);
    r.send(c, 8, 1, { guard: eq(X, 0), loc: 'producer' });
    r.recv(c, 4, 1, { guard: eq(X, 1), loc: 'consumer' });
    r.wait();
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d.code).toBe('W6003');
    expect(d.message).toBe('a stream of 8 f32 elements from core (0,0) (instruction #0 (producer)) on colour 1 met a receive of 4 f32 elements at core (1,0) (instruction #1 (consumer))');
    expect(d.location).toBe('core (1,0), colour 1, instruction #1 (consumer)');
  });

  it('W6004: an operand range leaves its buffer on some core, which is named', () => {
    const { b, r } = row(3);
    const c = r.buffer('c', 'f32', 16);
    r.fill(c.at(mul(X, 5)), 8, 0, { loc: 'fill' });
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d.code).toBe('W6004');
    expect(d.location).toBe('core (2,0), instruction #0 (fill)');
    expect(d.message).toBe('fill operand a reads or writes elements [10, 18) of buffer c, which has 16 elements');
  });

  it('W6002: writing a buffer a posted receive will fill, before any wait (its stream has not even started)', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 8);
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1), loc: 'in' });
    r.fill(c.at(4), 2, 0, { guard: eq(X, 1), loc: 'clobber' });
    r.wait();
    const [d] = diagnosticsOf(() => emulate(b.build()));
    expect(d.code).toBe('W6002');
    expect(d.location).toBe('core (1,0), instruction #2 (clobber)');
    expect(d.message).toContain('writes elements [4, 6) of buffer c while the recv instruction #1 (in) on colour 1 still writes [0, 8) of it');
  });

  it('W6002: overwriting a send\'s source while its words are still leaving', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 64), d = r.buffer('d', 'f32', 64);
    r.recv(d, 64, 1, { guard: eq(X, 1) });
    r.send(c, 64, 1, { guard: eq(X, 0), loc: 'out' });
    r.fill(d, 5, 0, { guard: eq(X, 0) }); // another buffer: fine
    r.fill(c, 64, 0, { guard: eq(X, 0), loc: 'reuse' });
    r.wait();
    const [e] = diagnosticsOf(() => emulate(b.build()));
    expect(e.code).toBe('W6002');
    expect(e.location).toBe('core (0,0), instruction #3 (reuse)');
    // The stream started at the send's posting (POST) and its last word leaves POST + 64 > the fill's issue.
    expect(e.message).toContain('while the send instruction #1 (out) on colour 1 still reads [0, 64) of it');
  });

  it('no race when the wait comes first, and reads do not conflict with a send', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 8), d = r.buffer('d', 'f32', 8);
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.copy(d, c, 8, { guard: eq(X, 0) }); // reads the source of an in-flight send
    r.wait();
    r.fill(c, 8, 2);
    expect(emulate(b.build()).totalCycles).toBeGreaterThan(0);
  });

  it('W6005: a functional run needs every input, of the right size, and constant data', () => {
    const { b, r } = row(2);
    const c = r.buffer('c', 'f32', 8), k = r.buffer('k', 'f32', 8);
    r.send(c, 8, 1, { guard: eq(X, 0) });
    r.recv(c, 8, 1, { guard: eq(X, 1) });
    r.wait();
    b.input('x', 'f32', [2, 8], { buffer: c, tile: [1, 8], at: [X, 0] });
    const p = b.build();
    expect(diagnosticsOf(() => emulate(p, { mode: 'functional' }))[0]).toMatchObject({ code: 'W6005', message: 'input x is missing' });
    expect(diagnosticsOf(() => emulate(p, { mode: 'functional', inputs: new Map([['x', new Float32Array(3)]]) }))[0].message)
      .toBe('input x has 3 values; its shape [2, 8] needs 16');
    b.constant('w', 'f32', [2, 8], { buffer: k, tile: [1, 8], at: [X, 0] });
    const shapesOnly = b.build();
    expect(diagnosticsOf(() => emulate(shapesOnly, { mode: 'functional', inputs: new Map([['x', new Float32Array(16)]]) }))[0].message)
      .toBe('functional run of a shapes-only program: constants w carry no data');
    // Timing needs neither.
    expect(emulate(shapesOnly).hostIo.inputBytes).toBe(2 * 8 * 4);
  });
});
