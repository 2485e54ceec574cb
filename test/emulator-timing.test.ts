/**
 * Closed-form cycle counts of docs/runtime-model.md on small meshes: a neighbour shift, a row
 * multicast, chain reductions (store-and-forward, streaming forwards, forwards with pass-through
 * routers), a two-level tree reduction, link contention, eager vs rendezvous delivery. Every
 * expected count is written as the formula (I issue, C comm, RAMP, ALPHA hop, BETA relay; POST =
 * ISSUE + C is when a transfer instruction issued at 0 is posted), and the functional values are
 * checked too.
 */
import { describe, expect, it } from 'vitest';
import { add, and, eq, gt, I, InstrRef, lt, mod, mul, ProgramBuilder, select, sub, W, X } from '../ir/program-builder.js';
import type { Expr, Program } from '../ir/program.js';
import { emulate, loadProgram } from '../runtime/emulate.js';
import type { RunResult } from '../runtime/result.js';
import { ALPHA, BETA, ISSUE, LOOP, POST, RAMP, ramp, testTarget } from './emulator-fixtures.js';

/** End cycle of the last span of `op` on core (x, y) in a traced run. */
function lastEnd(r: RunResult, x: number, op: string): number {
  const s = r.trace!.spans.filter((sp) => sp.core.x === x && sp.core.y === 0 && sp.op === op);
  return s[s.length - 1].end;
}

function rowInput(b: ProgramBuilder, buf: Parameters<ProgramBuilder['input']>[3]['buffer'], P: number, n: number, name = 'in') {
  b.input(name, 'f32', [P, n], { buffer: buf, tile: [1, n], at: [X, 0] });
}

describe('neighbour shift', () => {
  const shift = (n: number, type: 'f32' | 'f16' = 'f32'): Program => {
    const b = new ProgramBuilder('shift', testTarget(2, 1));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const a = r.buffer('a', type, n), c = r.buffer('c', type, n);
    r.send(a, n, 1, { guard: eq(X, 0) });
    r.recv(c, n, 1, { guard: eq(X, 1) });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    b.input('in', type, [2, n], { buffer: a, tile: [1, n], at: [X, 0] });
    b.output('out', type, [2, n], { buffer: c, tile: [1, n], at: [X, 0] });
    return b.build();
  };

  it.each([1, 16, 100])('moves %i f32 words in POST + 2·ramp + α + n cycles', (n) => {
    const input = ramp(2 * n);
    const r = emulate(shift(n), { mode: 'functional', inputs: new Map([['in', input]]), trace: {} });
    expect(r.totalCycles).toBe(POST + 2 * RAMP + ALPHA + n);
    // The sender's wait ends when its last word has left: the stream starts at POST and takes n cycles.
    expect(lastEnd(r, 0, 'wait')).toBe(Math.max(POST + ISSUE, POST + n));
    expect(r.links.wordHops).toBe(n);
    expect(r.links.streams).toBe(1);
    expect(r.links.hottest).toEqual({ x: 0, y: 0, dir: 'east', utilization: n / r.totalCycles });
    expect(Array.from(r.outputs![0].data.subarray(n))).toEqual(Array.from(input.subarray(0, n)));
    expect(r.regions[0].computeCycles).toBe(0);
    expect(r.regions[0].commCycles).toBe(Math.max(POST + ISSUE, POST + n) + r.totalCycles);
  });

  it('packs two f16 elements per word and rounds values to float16', () => {
    const n = 33;
    const input = Float32Array.from({ length: 2 * n }, (_, i) => 1 + i / 3000);
    const r = emulate(shift(n, 'f16'), { mode: 'functional', inputs: new Map([['in', input]]) });
    expect(r.totalCycles).toBe(POST + 2 * RAMP + ALPHA + Math.ceil(n / 2));
    const got = r.outputs![0].data.subarray(n);
    expect(got[1]).not.toBe(input[1]);
    expect(Math.abs(got[1] - input[1])).toBeLessThan(1e-3);
  });
});

describe('multicast along a row of P cores', () => {
  it.each([3, 8])('reaches core x at POST + 2·ramp + x·α + n (P = %i)', (P) => {
    const n = 20;
    const b = new ProgramBuilder('mcast', testTarget(P, 1));
    const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
    const a = r.buffer('a', 'f32', n), c = r.buffer('c', 'f32', n);
    r.send(a, n, 4, { guard: eq(X, 0) });
    r.recv(c, n, 4, { guard: gt(X, 0) });
    r.wait();
    r.route({ colour: 4, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 4, input: 'west', outputs: ['ramp', 'east'], guard: and(gt(X, 0), lt(X, sub(W, 1))) });
    r.route({ colour: 4, input: 'west', outputs: 'ramp', guard: eq(X, sub(W, 1)) });
    rowInput(b, a, P, n);
    b.output('out', 'f32', [P, n], { buffer: c, tile: [1, n], at: [X, 0] });
    const input = ramp(P * n);
    const res = emulate(b.build(), { mode: 'functional', inputs: new Map([['in', input]]), trace: { cores: P } });
    expect(res.totalCycles).toBe(POST + 2 * RAMP + (P - 1) * ALPHA + n);
    for (let x = 1; x < P; x++) expect(lastEnd(res, x, 'wait')).toBe(POST + 2 * RAMP + x * ALPHA + n);
    // One stream, n words over P − 1 hops.
    expect(res.links.streams).toBe(1);
    expect(res.links.wordHops).toBe(n * (P - 1));
    for (let x = 1; x < P; x++) expect(Array.from(res.outputs![0].data.subarray(x * n, x * n + n))).toEqual(Array.from(input.subarray(0, n)));
  });
});

/** Sum over the given rows of a P×n input, as float32 additions in order from the far end. */
function rowSum(input: Float32Array, rows: number[], n: number): number[] {
  return Array.from({ length: n }, (_, i) => rows.reduce((s, x) => Math.fround(s + input[x * n + i]), 0));
}

describe('chain reduce-add along a row of P cores (to core 0)', () => {
  const n = 24;

  it.each([2, 5])('store-and-forward: 2·issue + (P − 1)·(POST + 2·ramp + α + n) (P = %i)', (P) => {
    const b = new ProgramBuilder('chain', testTarget(P, 1));
    const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
    const v = r.buffer('v', 'f32', n);
    r.recv(v, n, 2, { guard: lt(X, sub(W, 1)), combine: 'add' });
    r.wait();
    r.send(v, n, 2, { guard: gt(X, 0) });
    r.wait();
    r.route({ colour: 2, input: 'ramp', outputs: 'west', guard: gt(X, 0) });
    r.route({ colour: 2, input: 'east', outputs: 'ramp', guard: lt(X, sub(W, 1)) });
    rowInput(b, v, P, n);
    b.output('out', 'f32', [P, n], { buffer: v, tile: [1, n], at: [X, 0] });
    const input = ramp(P * n, 3);
    const res = emulate(b.build(), { mode: 'functional', inputs: new Map([['in', input]]) });
    // Core P−1 passes its (empty) wait and sends; each stage receives (n words, 2·ramp + α after the
    // start), its wait ends with the last word, it re-sends (posted POST later); core 0 ends with a wait.
    expect(res.totalCycles).toBe(ISSUE + (P - 1) * (POST + 2 * RAMP + ALPHA + n) + ISSUE);
    const rows = Array.from({ length: P }, (_, i) => P - 1 - i);
    expect(Array.from(res.outputs![0].data.subarray(0, n))).toEqual(rowSum(input, rows, n));
  });

  it.each([3, 6])('streaming forwards: POST + (P − 1)·(2·ramp + α) + (P − 2)·β + n (P = %i)', (P) => {
    const b = new ProgramBuilder('stream', testTarget(P, 1));
    const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
    const v = r.buffer('v', 'f32', n);
    const mid = and(gt(X, 0), lt(X, sub(W, 1)));
    r.send(v, n, 3, { guard: eq(X, sub(W, 1)) });
    r.forward(v, n, 3, 3, { guard: mid, combine: 'add' });
    r.recv(v, n, 3, { guard: eq(X, 0), combine: 'add' });
    r.wait();
    r.route({ colour: 3, input: 'ramp', outputs: 'west', guard: gt(X, 0) });
    r.route({ colour: 3, input: 'east', outputs: 'ramp', guard: lt(X, sub(W, 1)) });
    rowInput(b, v, P, n);
    b.output('out', 'f32', [P, n], { buffer: v, tile: [1, n], at: [X, 0] });
    const input = ramp(P * n, 5);
    const res = emulate(b.build(), { mode: 'functional', inputs: new Map([['in', input]]), trace: { cores: P } });
    expect(res.totalCycles).toBe(POST + (P - 1) * (2 * RAMP + ALPHA) + (P - 2) * BETA + n);
    // Forward at x completes when its outgoing stream's last word leaves: started (P−1−x) segments in.
    for (let x = 1; x < P - 1; x++) {
      expect(lastEnd(res, x, 'wait')).toBe(POST + (P - 1 - x) * (2 * RAMP + ALPHA + BETA) + n);
    }
    // All P − 1 streams start in one chain.
    expect(res.links.streams).toBe(P - 1);
    const rows = Array.from({ length: P }, (_, i) => P - 1 - i);
    expect(Array.from(res.outputs![0].data.subarray(0, n))).toEqual(rowSum(input, rows, n));
  });

  it.each([5, 9])('forwards on every other core, colours passing the others: POST + s·(2·ramp + 2α) + (s − 1)·β + n, s = (P − 1)/2 (P = %i)', (P) => {
    const b = new ProgramBuilder('stream2', testTarget(P, 1));
    const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
    const v = r.buffer('v', 'f32', n);
    const even = eq(mod(X, 2), 0);
    r.send(v, n, 7, { guard: eq(X, sub(W, 1)) });
    r.forward(v, n, 7, 7, { guard: and(even, gt(X, 0), lt(X, sub(W, 1))), combine: 'add' });
    r.recv(v, n, 7, { guard: eq(X, 0), combine: 'add' });
    r.wait();
    r.route({ colour: 7, input: 'ramp', outputs: 'west', guard: and(even, gt(X, 0)) });
    r.route({ colour: 7, input: 'east', outputs: 'ramp', guard: and(even, lt(X, sub(W, 1))) });
    r.route({ colour: 7, input: 'east', outputs: 'west', guard: eq(mod(X, 2), 1) });
    rowInput(b, v, P, n);
    b.output('out', 'f32', [P, n], { buffer: v, tile: [1, n], at: [X, 0] });
    const input = ramp(P * n, 7);
    const res = emulate(b.build(), { mode: 'functional', inputs: new Map([['in', input]]) });
    const s = (P - 1) / 2;
    expect(res.totalCycles).toBe(POST + s * (2 * RAMP + 2 * ALPHA) + (s - 1) * BETA + n);
    // Word-hops: every router-to-router link of the row once, n words each.
    expect(res.links.wordHops).toBe(n * (P - 1));
    const rows = Array.from({ length: P }, (_, i) => P - 1 - i).filter((x) => x % 2 === 0);
    expect(Array.from(res.outputs![0].data.subarray(0, n))).toEqual(rowSum(input, rows, n));
  });
});

describe('two-level tree reduce on a row of 2g cores', () => {
  it('streams within groups of g, then the second root sends through g − 1 routers to core 0', () => {
    const g = 4, P = 2 * g, n = 16;
    const b = new ProgramBuilder('tree', testTarget(P, 1));
    const r = b.region('row', { x: 0, y: 0, width: P, height: 1 });
    const v = r.buffer('v', 'f32', n);
    const gx = mod(X, g); // position within the group
    const root = eq(gx, 0);
    r.send(v, n, 1, { guard: eq(gx, g - 1) });
    r.forward(v, n, 1, 1, { guard: and(gt(gx, 0), lt(gx, g - 1)), combine: 'add' });
    r.recv(v, n, 1, { guard: root, combine: 'add' });
    r.wait();
    r.send(v, n, 2, { guard: eq(X, g) });
    r.recv(v, n, 2, { guard: eq(X, 0), combine: 'add' });
    r.wait();
    // Level 1 (colour 1): within each group, toward its root.
    r.route({ colour: 1, input: 'ramp', outputs: 'west', guard: gt(gx, 0) });
    r.route({ colour: 1, input: 'east', outputs: 'ramp', guard: lt(gx, g - 1) });
    // Level 2 (colour 2): core g to core 0, straight through routers 1..g−1.
    r.route({ colour: 2, input: 'ramp', outputs: 'west', guard: eq(X, g) });
    r.route({ colour: 2, input: 'east', outputs: 'west', guard: and(gt(X, 0), lt(X, g)) });
    r.route({ colour: 2, input: 'east', outputs: 'ramp', guard: eq(X, 0) });
    rowInput(b, v, P, n);
    b.output('out', 'f32', [P, n], { buffer: v, tile: [1, n], at: [X, 0] });
    const input = ramp(P * n, 2);
    const res = emulate(b.build(), { mode: 'functional', inputs: new Map([['in', input]]) });
    const level1 = POST + (g - 1) * (2 * RAMP + ALPHA) + (g - 2) * BETA + n;
    expect(res.totalCycles).toBe(level1 + POST + 2 * RAMP + g * ALPHA + n);
    const group = (k: number) => Array.from({ length: g }, (_, i) => k * g + g - 1 - i);
    const l1 = [rowSum(input, group(0), n), rowSum(input, group(1), n)];
    expect(Array.from(res.outputs![0].data.subarray(0, n))).toEqual(l1[0].map((v0, i) => Math.fround(v0 + l1[1][i])));
  });
});

describe('link contention', () => {
  /** Cores 0 and 1 both send n words two hops east (0→2, 1→3): they share the link 1→2. */
  const program = (both: boolean, n: number) => {
    const b = new ProgramBuilder('contention', testTarget(4, 1));
    const r = b.region('row', { x: 0, y: 0, width: 4, height: 1 });
    const a = r.buffer('a', 'f32', n), c = r.buffer('c', 'f32', n);
    if (both) { r.send(a, n, 1, { guard: eq(X, 0) }); r.recv(c, n, 1, { guard: eq(X, 2) }); }
    r.send(a, n, 2, { guard: eq(X, 1) });
    r.recv(c, n, 2, { guard: eq(X, 3) });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'east', guard: eq(X, 1) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 2) });
    r.route({ colour: 2, input: 'ramp', outputs: 'east', guard: eq(X, 1) });
    r.route({ colour: 2, input: 'west', outputs: 'east', guard: eq(X, 2) });
    r.route({ colour: 2, input: 'west', outputs: 'ramp', guard: eq(X, 3) });
    return b.build();
  };

  it.each([8, 50])('the second stream over a shared link starts α + n later (n = %i)', (n) => {
    const alone = emulate(program(false, n), { trace: { cores: 4 } });
    const both = emulate(program(true, n), { trace: { cores: 4 } });
    expect(lastEnd(alone, 3, 'wait')).toBe(POST + 2 * RAMP + 2 * ALPHA + n);
    // Core 0's stream takes link 1→2 during [POST + ramp + α, +n); core 1's needs it from its start + ramp.
    expect(lastEnd(both, 3, 'wait') - lastEnd(alone, 3, 'wait')).toBe(ALPHA + n);
    expect(lastEnd(both, 2, 'wait')).toBe(POST + 2 * RAMP + 2 * ALPHA + n);
    expect(both.links.hottest).toEqual({ x: 1, y: 0, dir: 'east', utilization: (2 * n) / both.totalCycles });
  });
});

describe('eager small messages vs rendezvous', () => {
  /** Core 0 sends n words at once; core 1 first fills F elements (ISSUE + F cycles), then receives. */
  const program = (queueWords: number, n: number, F: number) => {
    const b = new ProgramBuilder('eager', testTarget(2, 1, { queueWords }));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const a = r.buffer('a', 'f32', n), c = r.buffer('c', 'f32', n), f = r.buffer('f', 'f32', F);
    r.send(a, n, 1, { guard: eq(X, 0) });
    r.fill(f, F, 0, { guard: eq(X, 1) });
    r.recv(c, n, 1, { guard: eq(X, 1) });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    return b.build();
  };
  const n = 4, F = 60;
  const recvPosted = ISSUE + F + POST; // fill costs issue + ceil(F / write words), 1 write word per cycle

  it('a message within the colour buffer goes at once and is copied out when the receive is posted', () => {
    const r = emulate(program(8, n, F), { trace: { cores: 2 } });
    expect(lastEnd(r, 0, 'wait')).toBe(POST + n);
    expect(r.totalCycles).toBe(recvPosted + n);
  });

  it('without buffering (or for a larger message) the stream waits for the receive', () => {
    const r = emulate(program(0, n, F), { trace: { cores: 2 } });
    expect(lastEnd(r, 0, 'wait')).toBe(recvPosted + n);
    expect(r.totalCycles).toBe(recvPosted + 2 * RAMP + ALPHA + n);
    const big = emulate(program(3, n, F));
    expect(big.totalCycles).toBe(recvPosted + 2 * RAMP + ALPHA + n);
  });
});

describe('colour buffers: back-pressure and buffered forwards', () => {
  it('a second eager stream waits until the receive that drains the buffer completes', () => {
    const n = 6, F = 50, G = 10; // two 6-word messages, 8 words of buffering
    const b = new ProgramBuilder('pressure', testTarget(2, 1, { queueWords: 8 }));
    const r = b.region('row', { x: 0, y: 0, width: 2, height: 1 });
    const a = r.buffer('a', 'f32', n), c = r.buffer('c', 'f32', n), c2 = r.buffer('c2', 'f32', n), f = r.buffer('f', 'f32', F);
    r.send(a, n, 1, { guard: eq(X, 0) });
    r.send(a, n, 1, { guard: eq(X, 0) });
    r.fill(f, F, 0, { guard: eq(X, 1) });
    r.recv(c, n, 1, { guard: eq(X, 1) });
    r.fill(f, G, 0, { guard: eq(X, 1) });
    r.recv(c2, n, 1, { guard: eq(X, 1) });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    const res = emulate(b.build(), { trace: { cores: 2 } });
    // The first stream is buffered at once; the first receive takes it and completes n later, which
    // releases the buffer: the second stream starts then, eagerly again (its receive comes later).
    const firstRecv = ISSUE + F + POST;
    const released = firstRecv + n;
    expect(lastEnd(res, 0, 'wait')).toBe(released + n);
    const secondRecv = firstRecv + ISSUE + G + POST;
    expect(secondRecv).toBeGreaterThan(released + 2 * RAMP + ALPHA);
    expect(res.totalCycles).toBe(secondRecv + n);
    // Without buffering both streams wait for their receives.
    const rdv = emulate({ ...b.build(), target: testTarget(2, 1) });
    expect(rdv.totalCycles).toBe(secondRecv + 2 * RAMP + ALPHA + n);
  });

  it('a forward posted after its input was buffered relays it on its own, β after it is posted', () => {
    const n = 4, F = 40;
    const b = new ProgramBuilder('bufwd', testTarget(3, 1, { queueWords: 8 }));
    const r = b.region('row', { x: 0, y: 0, width: 3, height: 1 });
    const v = r.buffer('v', 'f32', n), f = r.buffer('f', 'f32', F);
    r.send(v, n, 1, { guard: eq(X, 0) });
    r.fill(f, F, 0, { guard: eq(X, 1) });
    r.forward(v, n, 1, 2, { guard: eq(X, 1), combine: 'add' });
    r.recv(v, n, 2, { guard: eq(X, 2), combine: 'add' });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    r.route({ colour: 2, input: 'ramp', outputs: 'east', guard: eq(X, 1) });
    r.route({ colour: 2, input: 'west', outputs: 'ramp', guard: eq(X, 2) });
    rowInput(b, v, 3, n);
    b.output('out', 'f32', [3, n], { buffer: v, tile: [1, n], at: [X, 0] });
    const input = ramp(3 * n, 4);
    const res = emulate(b.build(), { mode: 'functional', inputs: new Map([['in', input]]), trace: { cores: 3 } });
    const fwdPosted = ISSUE + F + POST; // later than the buffered words' arrival, POST + 2·ramp + α
    expect(lastEnd(res, 0, 'wait')).toBe(POST + n);
    expect(lastEnd(res, 1, 'wait')).toBe(fwdPosted + BETA + n);
    expect(res.totalCycles).toBe(fwdPosted + BETA + 2 * RAMP + ALPHA + n);
    expect(Array.from(res.outputs![0].data.subarray(2 * n))).toEqual(rowSum(input, [0, 1, 2], n));
  });
});

describe('determinism and prediction check', () => {
  /** Two cores exchange n words three times (colour 1 east, 2 west), then fill; optional predictions. */
  const n = 10;
  const build = (recvStart?: Expr, fillStart?: Expr, total?: number): Program => {
    const b = new ProgramBuilder('pred', testTarget(2, 1));
    const r = b.region('pair', { x: 0, y: 0, width: 2, height: 1 });
    const a = r.buffer('a', 'f32', n), c = r.buffer('c', 'f32', n);
    let rv: InstrRef | undefined;
    r.loop(3, (body) => {
      body.send(a, n, add(1, X), {});
      rv = body.recv(c, n, sub(2, X));
      body.wait();
    });
    const tail = r.fill(c, n, 1);
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    r.route({ colour: 2, input: 'ramp', outputs: 'west', guard: eq(X, 1) });
    r.route({ colour: 2, input: 'east', outputs: 'ramp', guard: eq(X, 0) });
    if (recvStart !== undefined) b.predict(rv!, recvStart);
    if (fillStart !== undefined) b.predict(tail, fillStart);
    if (total !== undefined) b.predictTotal(total);
    return b.build();
  };
  // Per iteration: loop overhead, two postings, then the wait until the last word arrives.
  const iter = LOOP + 2 * POST + 2 * RAMP + ALPHA + n;
  const fillAt = ISSUE + 3 * iter;
  const total = fillAt + ISSUE + n;
  const recvAt = add(ISSUE + LOOP + POST, mul(I(0), iter));

  it('two runs give deep-equal results (with traces)', () => {
    const p = build();
    const first = emulate(p, { trace: { cores: 2, bucketCycles: 7 } });
    expect(first.totalCycles).toBe(total);
    expect(emulate(p, { trace: { cores: 2, bucketCycles: 7 } })).toEqual(first);
    // A loaded program is reusable: its runs equal the direct ones.
    const lp = loadProgram(p);
    expect(emulate(lp, { trace: { cores: 2, bucketCycles: 7 } })).toEqual(first);
    expect(emulate(lp, { trace: { cores: 2, bucketCycles: 7 } })).toEqual(first);
  });

  it('matches right predictions: every execution on every core and iteration is checked', () => {
    const r = emulate(build(recvAt, fillAt, total));
    expect(r.prediction).toEqual({ checked: 2 * 3 + 2, matched: true, predictedTotal: total });
  });

  it('reports the earliest divergence with its core, iteration and both cycles', () => {
    // Iteration 2 predicted 5 cycles late on core 0 and 3 cycles early on core 1: core 1 parts first.
    const wrong = add(recvAt, select(eq(I(0), 2), select(eq(X, 0), 5, -3), 0));
    const r = emulate(build(wrong, fillAt, total));
    const measured = ISSUE + 2 * iter + LOOP + POST;
    expect(r.prediction.matched).toBe(false);
    expect(r.prediction.firstDivergence).toEqual({ instr: 2, loc: '', core: { x: 1, y: 0 }, iteration: [2], predicted: measured - 3, measured });
    const off = emulate(build(recvAt, fillAt, total + 1));
    expect(off.prediction).toMatchObject({ matched: false, predictedTotal: total + 1 });
    expect(off.prediction.firstDivergence).toBeUndefined();
  });
});

describe('statistics', () => {
  it('per-loc cycles, shares, utilization, SRAM histogram and energy follow their definitions', () => {
    const n = 40;
    const t = testTarget(3, 1);
    const b = new ProgramBuilder('stats', t);
    const r = b.region('row', { x: 0, y: 0, width: 3, height: 1 });
    const a = r.buffer('a', 'f32', n), c = r.buffer('c', 'f32', n);
    r.buffer('pad', 'f32', 5000); // 20,000 + 320 bytes: bucket 4 of 48 KB
    r.fill(a, n, 1, { loc: 'init' });
    r.unary('exp', c, a, n, { loc: 'act', guard: eq(X, 0) });
    r.send(c, n, 1, { loc: 'xfer', guard: eq(X, 0) });
    r.recv(c, n, 1, { loc: 'xfer', guard: eq(X, 1) });
    r.wait({ loc: 'xfer' });
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    const res = emulate(b.build());
    const fill = ISSUE + n; // W = 1
    const exp = ISSUE + Math.max(4 * n, Math.ceil(n / 2), n); // c_fn 4, L = 1, R = 2
    const start = fill + exp + POST; // core 0's stream starts when its send is posted (core 1's recv is earlier)
    const total = start + 2 * RAMP + ALPHA + n;
    expect(res.totalCycles).toBe(total);
    expect(res.locs).toEqual([
      { loc: 'act', cycles: exp, count: 1 },
      // core 0: send + wait until its last word leaves; core 1: recv + wait until the last word arrives; core 2: wait
      { loc: 'xfer', cycles: POST + n + (total - fill) + ISSUE, count: 5 },
      { loc: 'init', cycles: 3 * fill, count: 3 },
    ].sort((p, q) => q.cycles - p.cycles));
    const busy = [fill + exp + POST + n, total, fill + ISSUE];
    const compute = 3 * fill + exp;
    const all = 3 * total;
    expect(res.regions[0]).toEqual({ name: 'row', cores: 3, finishCycle: total, computeCycles: compute, commCycles: busy[0] + busy[1] + busy[2] - compute, idleCycles: all - busy[0] - busy[1] - busy[2] });
    expect(res.share.compute).toBeCloseTo(compute / all, 12);
    expect(res.share.compute + res.share.communication + res.share.idle).toBeCloseTo(1, 12);
    expect(res.coreUtilization).toBeCloseTo((busy[0] + busy[1] + busy[2]) / all, 12);
    expect(res.sram).toEqual({ maxBytes: 2 * 4 * n + 20_000, maxCore: { x: 0, y: 0 }, capacityBytes: 48 * 1024, histogram: [0, 0, 0, 0, 3, 0, 0, 0, 0, 0] });
    const p = t.power;
    expect(res.energy.computeJoules).toBeCloseTo((busy[0] + busy[1] + busy[2]) * p.coreActiveWatts / t.clockHz, 20);
    expect(res.energy.idleJoules).toBeCloseTo((all - busy[0] - busy[1] - busy[2]) * p.coreIdleWatts / t.clockHz, 20);
    expect(res.energy.fabricJoules).toBeCloseTo(n * p.joulesPerWordHop, 20);
    expect(res.links.utilization).toBeCloseTo(n / (2 * 2 * 1 * total), 12); // 4 directed links on a 3×1 row
  });

  it('traces every instruction of the sampled cores, loops and blocked waits included', () => {
    const b = new ProgramBuilder('trace', testTarget(2, 1));
    const r = b.region('pair', { x: 0, y: 0, width: 2, height: 1 });
    const a = r.buffer('a', 'f32', 8);
    r.loop(2, (body) => {
      body.send(a, 8, 1, { guard: eq(X, 0) });
      body.recv(a, 8, 1, { guard: eq(X, 1) });
      body.wait();
    }, { loc: 'L' });
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
    const res = emulate(b.build(), { trace: { cores: 1, bucketCycles: 10 } });
    expect(res.trace!.sampledCores).toEqual([{ x: 0, y: 0 }]);
    // Iteration 1: both post at ISSUE + LOOP + POST, the stream starts then; core 1's wait ends at d1.
    const s1 = ISSUE + LOOP + POST;
    const d1 = s1 + 2 * RAMP + ALPHA + 8;
    // Iteration 2: core 0 posts earlier than core 1 (whose wait ended later), so the stream starts at s2.
    const send2 = s1 + 8 + LOOP;
    const s2 = d1 + LOOP + POST;
    expect(res.trace!.spans.map((s) => [s.op, s.start, s.end])).toEqual([
      ['loop', 0, s2 + 8],
      ['send', ISSUE + LOOP, s1],
      ['wait', s1, s1 + 8],
      ['send', send2, send2 + POST],
      ['wait', send2 + POST, s2 + 8],
    ]);
    expect(res.trace!.linkLoad.reduce((s, l) => s + l.words, 0)).toBe(16);
    expect(res.trace!.linkLoad[0]).toEqual({ cycle: 0, words: 10 - (s1 + RAMP) });
    expect(res.totalCycles).toBe(s2 + 2 * RAMP + ALPHA + 8);
  });
});
