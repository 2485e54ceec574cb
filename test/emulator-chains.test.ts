/**
 * Rendezvous forward chains whose deeper receive is posted after the chain's head is ready
 * (docs/runtime-model.md, "Transfers", condition 3: every receive along a chain is posted by the
 * head's start). A row of five cores: core 0 sends, cores 1–3 forward (combine add), core 4 receives.
 * One core L of the chain posts its forward (L = 3) or receive (L = 4) late, at the same cycle P in two
 * variants that differ only in how far the emulator can run that core ahead:
 *
 * - `delay`: L runs a `delay` first, so the emulator registers its posting at once (cycle 0 of the
 *   event order), long before P;
 * - `wait`: L first sends n2 > Q words to the core below it and waits; that core posts its receive
 *   only at X0 + POST, so the stream starts then and the emulator learns when L's wait ends, hence
 *   L's posting, only after the chain's head was first evaluated (at POST).
 *
 * Both must give the cycles of the rule: the chain starts at t0 = max(every posting along it) = P,
 * forward k completes at t0 + k·(2ρ + α + β) + n, the receive at t0 + 4·(2ρ + α) + 3β + n. An eager
 * message (w ≤ Q) instead starts at its posting, is buffered at L and relayed from there.
 *
 * Last, a colour-buffer case of the same principle: a stream waiting for room starts at the first
 * release, even when that release becomes known only after the stream was re-scheduled at a later,
 * already known one.
 */
import { describe, expect, it } from 'vitest';
import { and, eq, gt, lt, ProgramBuilder, X, Y } from '../ir/program-builder.js';
import type { Program } from '../ir/program.js';
import { emulate } from '../runtime/emulate.js';
import type { RunResult } from '../runtime/result.js';
import { ALPHA, BETA, ISSUE, POST, RAMP, ramp, testTarget } from './emulator-fixtures.js';

const P = 5; // cores in the chain's row
const n = 8; // f32 words of the chain's message
const X0 = 6, n2 = 10; // the `wait` variant: the core below L receives n2 words after a delay of X0
/** When L posts its transfer: after its send to the core below has left (both variants use this). */
const LATE = X0 + POST + n2 + POST;
const STAGE = 2 * RAMP + ALPHA + BETA;

function chain(late: number, variant: 'delay' | 'wait', queueWords = 0): Program {
  const b = new ProgramBuilder(`chain-${variant}`, testTarget(P, 2, { queueWords }));
  const r = b.region('mesh', { x: 0, y: 0, width: P, height: 2 });
  const v = r.buffer('v', 'f32', n), side = r.buffer('side', 'f32', n2);
  const row0 = eq(Y, 0);
  const isLate = and(row0, eq(X, late)), below = and(eq(Y, 1), eq(X, late));
  if (variant === 'delay') r.delay(LATE - POST, { guard: isLate });
  else {
    r.send(side, n2, 2, { guard: isLate });
    r.delay(X0, { guard: below });
    r.recv(side, n2, 2, { guard: below });
    r.wait({ guard: eq(X, late) });
  }
  r.send(v, n, 1, { guard: and(row0, eq(X, 0)) });
  r.forward(v, n, 1, 1, { guard: and(row0, gt(X, 0), lt(X, P - 1)), combine: 'add' });
  r.recv(v, n, 1, { guard: and(row0, eq(X, P - 1)), combine: 'add' });
  r.wait();
  r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: and(row0, lt(X, P - 1)) });
  r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: and(row0, gt(X, 0)) });
  r.route({ colour: 2, input: 'ramp', outputs: 'south', guard: isLate });
  r.route({ colour: 2, input: 'north', outputs: 'ramp', guard: below });
  b.input('in', 'f32', [P, n], { buffer: v, tile: [1, n], at: [X, 0], guard: row0 });
  b.output('out', 'f32', [1, n], { buffer: v, tile: [1, n], at: [0, 0], guard: and(row0, eq(X, P - 1)) });
  return b.build();
}

/** End of the last `wait` of core (x, 0). */
function waitEnd(res: RunResult, x: number): number {
  const s = res.trace!.spans.filter((sp) => sp.core.x === x && sp.core.y === 0 && sp.op === 'wait');
  return s[s.length - 1].end;
}

function run(late: number, variant: 'delay' | 'wait', queueWords = 0) {
  const input = ramp(P * n, 3);
  const res = emulate(chain(late, variant, queueWords), { mode: 'functional', inputs: new Map([['in', input]]), trace: { cores: 2 * P } });
  const sum = Array.from({ length: n }, (_, i) => Array.from({ length: P }, (_, x) => input[x * n + i]).reduce((a, c) => Math.fround(a + c), 0));
  expect(Array.from(res.outputs![0].data)).toEqual(sum);
  return { total: res.totalCycles, ends: Array.from({ length: P }, (_, x) => waitEnd(res, x)), streams: res.links.streams };
}

describe('a rendezvous chain starts once every receive along it is posted', () => {
  it.each([3, 4])('late core %i: same cycles whether the emulator saw its posting early (delay) or late (wait)', (late) => {
    // Under the former rule ("posted by its own stream's start") the delay variant started at POST.
    expect(LATE).toBeGreaterThan(POST);
    expect(LATE).toBeLessThanOrEqual(POST + (late - 1) * STAGE);
    const t0 = LATE;
    const want = {
      total: t0 + (P - 1) * (2 * RAMP + ALPHA) + (P - 2) * BETA + n,
      ends: Array.from({ length: P }, (_, x) => (x < P - 1 ? Math.max(POST + ISSUE, t0 + x * STAGE + n) : t0 + (P - 1) * (2 * RAMP + ALPHA) + (P - 2) * BETA + n)),
    };
    const early = run(late, 'delay'), seenLate = run(late, 'wait');
    expect(early).toEqual({ ...want, streams: P - 1 });
    expect(seenLate).toEqual({ ...want, streams: P });
  });
});

describe('an eager chain does not wait for a deeper receive', () => {
  it.each([3, 4])('late core %i: buffered there, relayed (forward) or taken (recv) as it arrives, in both variants', (late) => {
    // The message fits the colour buffer: the head starts at its posting; the stream into L arrives
    // after L posted (LATE), so the timing equals the lockstep chain's from POST.
    const a = POST + (late - 1) * STAGE + 2 * RAMP + ALPHA;
    expect(a).toBeGreaterThan(LATE);
    const total = POST + (P - 1) * (2 * RAMP + ALPHA) + (P - 2) * BETA + n;
    const early = run(late, 'delay', n), seenLate = run(late, 'wait', n);
    expect(early.total).toBe(total);
    expect(seenLate.total).toBe(total);
    expect(early.ends).toEqual(seenLate.ends);
  });
});

describe('a colour buffer release learned after the stream was re-scheduled', () => {
  it('a third eager stream starts when the forwarded first one leaves the buffer, not at a later known release', () => {
    // Core 0 sends three 4-word streams to core 1 (colour buffer Q = 8). Core 1 posts, after a delay,
    // a forward (relaying to core 2) and a recv, then later a second recv. Stream 1 is buffered and
    // taken by the forward, whose relay starts at PF + β: its release (+ m) is fixed only then.
    // Stream 2 is taken by the recv (release PF + POST + m, known at once). Stream 3 finds the buffer
    // full at its posting and must start at the earlier release, stream 1's.
    const m = 4, d = 16, d2 = 10, beta = 1;
    const t = testTarget(3, 1, { queueWords: 8 });
    t.relayCycles = beta;
    const b = new ProgramBuilder('release', t);
    const r = b.region('row', { x: 0, y: 0, width: 3, height: 1 });
    const a = r.buffer('a', 'f32', m), w = r.buffer('w', 'f32', m), z = r.buffer('z', 'f32', m);
    const at = (x: number) => eq(X, x);
    for (let i = 0; i < 3; i++) r.send(a, m, 1, { guard: at(0) });
    r.delay(d, { guard: at(1) });
    r.forward(a, m, 1, 2, { guard: at(1), combine: 'add' });
    r.recv(w, m, 1, { guard: at(1) });
    r.delay(d2, { guard: at(1) });
    r.recv(z, m, 1, { guard: at(1) });
    r.recv(a, m, 2, { guard: at(2) });
    r.wait();
    r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: at(0) });
    r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: at(1) });
    r.route({ colour: 2, input: 'ramp', outputs: 'east', guard: at(1) });
    r.route({ colour: 2, input: 'west', outputs: 'ramp', guard: at(2) });
    const res = emulate(b.build(), { trace: { cores: 3 } });
    const PF = d + POST; // the forward's posting; stream 1 arrived at POST + 2ρ + α, earlier
    const rel1 = PF + beta + m; // stream 1 leaves core 1's buffer
    const rel2 = PF + POST + m; // stream 2 is copied out of it
    expect(rel1).toBeLessThan(rel2);
    expect(waitEnd(res, 0)).toBe(rel1 + m); // stream 3 starts at rel1
    expect(waitEnd(res, 2)).toBe(PF + beta + 2 * RAMP + ALPHA + m);
    const recv2 = PF + POST + d2 + POST;
    expect(waitEnd(res, 1)).toBe(Math.max(rel1 + 2 * RAMP + ALPHA, recv2) + m);
  });
});
