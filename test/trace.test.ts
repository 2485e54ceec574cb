/**
 * Perfetto traces (runtime/trace.ts) from hand-made RunResults: valid JSON, the metadata / track /
 * counter events with exact ts and dur (cycles), lanes for overlapping spans, and byte-identical
 * output for repeated calls, deep copies and reordered samples.
 */
import { describe, expect, it } from 'vitest';
import { assignLanes, traceJson } from '../runtime/trace.js';
import type { RunResult, TraceSpan } from '../runtime/result.js';

const span = (x: number, y: number, region: number, instr: number, op: string, loc: string, start: number, end: number): TraceSpan => ({
  core: { x, y },
  region,
  instr,
  loc,
  op,
  start,
  end,
});

function result(): RunResult {
  return {
    program: 'p',
    target: 'mesh:2x2',
    mode: 'timing',
    totalCycles: 500,
    seconds: 500 / 1e9,
    hostIo: { inputBytes: 0, outputBytes: 0, seconds: 0 },
    regions: [
      { name: 'r0', cores: 2, finishCycle: 500, computeCycles: 300, commCycles: 400, idleCycles: 300 },
      { name: 'r1', cores: 2, finishCycle: 200, computeCycles: 100, commCycles: 0, idleCycles: 900 },
    ],
    locs: [],
    share: { compute: 0.2, communication: 0.2, idle: 0.6 },
    coreUtilization: 0.4,
    links: { wordHops: 64, utilization: 0.01, streams: 2 },
    sram: { maxBytes: 0, capacityBytes: 49152, histogram: [4, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
    energy: { joules: 0, computeJoules: 0, idleJoules: 0, fabricJoules: 0 },
    prediction: { checked: 0, matched: true },
    events: 10,
    trace: {
      sampledCores: [{ x: 1, y: 0 }, { x: 0, y: 0 }, { x: 0, y: 1 }, { x: 1, y: 1 }],
      spans: [
        span(1, 0, 0, 0, 'matmul', 'mm', 0, 300),
        span(1, 0, 0, 1, 'send', 'tx', 300, 303),
        span(0, 0, 0, 2, 'recv', 'rx', 0, 3),
        span(0, 0, 0, 3, 'wait', 'rx', 3, 500),
        span(0, 1, 1, 4, 'loop', 'body', 0, 200),
        span(0, 1, 1, 5, 'unary', 'relu', 10, 110),
        // Overlaps relu without nesting in it: goes to a second lane.
        span(0, 1, 1, 6, 'unary', 'exp', 100, 150),
        span(1, 1, 1, 7, 'fill', 'zero', 0, 4),
      ],
      bucketCycles: 100,
      linkLoad: [{ cycle: 100, words: 0 }, { cycle: 0, words: 32 }, { cycle: 200, words: 32 }],
    },
  };
}

interface Ev {
  name: string;
  ph: string;
  cat?: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  args: Record<string, unknown>;
}

function parse(text: string): { traceEvents: Ev[]; displayTimeUnit: string; metadata: Record<string, unknown> } {
  return JSON.parse(text);
}

describe('traceJson', () => {
  const text = traceJson(result(), 'my-prog');
  const t = parse(text);
  const ev = t.traceEvents;
  const named = (pid: number, tid: number | undefined) =>
    ev.find((e) => e.ph === 'M' && e.pid === pid && e.tid === tid && (e.name === 'process_name' || e.name === 'thread_name'))?.args.name;

  it('is Trace Event JSON with the run in its metadata', () => {
    expect(Object.keys(t)).toEqual(['traceEvents', 'displayTimeUnit', 'metadata']);
    expect(t.displayTimeUnit).toBe('ns');
    expect(t.metadata).toMatchObject({ program: 'my-prog', target: 'mesh:2x2', mode: 'timing', clockHz: 1e9, totalCycles: 500, sampledCores: 4, linkBucketCycles: 100 });
  });

  it('has one process per region, plus the fabric, with names', () => {
    expect(named(1, undefined)).toBe('region r0');
    expect(named(2, undefined)).toBe('region r1');
    expect(named(3, undefined)).toBe('fabric');
    expect(ev.filter((e) => e.name === 'process_name').length).toBe(3);
  });

  it('has one track per sampled core in its region, ordered by row then column', () => {
    const threads = ev.filter((e) => e.name === 'thread_name').map((e) => [e.pid, e.tid, e.args.name]);
    expect(threads).toEqual([
      [1, 1, 'region'],
      [2, 2, 'region'],
      [1, 3, 'core (0,0)'],
      [1, 4, 'core (1,0)'],
      [2, 5, 'core (0,1)'],
      [2, 6, 'core (0,1) lane 2'],
      [2, 7, 'core (1,1)'],
    ]);
  });

  it('writes each span as a complete event with ts and dur in cycles', () => {
    const xs = ev.filter((e) => e.ph === 'X').map((e) => [e.name, e.cat, e.ts, e.dur, e.pid, e.tid]);
    expect(xs).toEqual([
      ['r0', 'region', 0, 500, 1, 1],
      ['r1', 'region', 0, 200, 2, 2],
      ['rx', 'recv', 0, 3, 1, 3],
      ['rx', 'wait', 3, 497, 1, 3],
      ['mm', 'matmul', 0, 300, 1, 4],
      ['tx', 'send', 300, 3, 1, 4],
      ['body', 'loop', 0, 200, 2, 5],
      ['relu', 'unary', 10, 100, 2, 5],
      ['exp', 'unary', 100, 50, 2, 6],
      ['zero', 'fill', 0, 4, 2, 7],
    ]);
    const mm = ev.find((e) => e.name === 'mm')!;
    expect(mm.args).toEqual({ instr: 0, op: 'matmul', loc: 'mm', cycles: 300 });
  });

  it('writes link load counters on the fabric track, closed after the last bucket', () => {
    const cs = ev.filter((e) => e.ph === 'C').map((e) => [e.name, e.pid, e.ts, e.args.words]);
    expect(cs).toEqual([
      ['link words per 100 cycles', 3, 0, 32],
      ['link words per 100 cycles', 3, 100, 0],
      ['link words per 100 cycles', 3, 200, 32],
      ['link words per 100 cycles', 3, 300, 0],
    ]);
  });

  it('gives identical bytes for repeated calls, deep copies and reordered samples', () => {
    expect(traceJson(result(), 'my-prog')).toBe(text);
    expect(traceJson(structuredClone(result()), 'my-prog')).toBe(text);
    const r = result();
    r.trace!.spans.reverse();
    r.trace!.sampledCores.reverse();
    r.trace!.linkLoad.reverse();
    expect(traceJson(r, 'my-prog')).toBe(text);
  });

  it('puts sampled cores that ran nothing in their own process', () => {
    const r = result();
    r.trace!.sampledCores.push({ x: 5, y: 5 });
    const e = parse(traceJson(r, 'p')).traceEvents;
    const proc = e.find((x) => x.name === 'process_name' && x.args.name === 'sampled cores without instructions')!;
    expect(e.find((x) => x.name === 'thread_name' && x.args.name === 'core (5,5)')!.pid).toBe(proc.pid);
  });

  it('still writes regions and metadata for a run without trace samples', () => {
    const r = result();
    delete r.trace;
    const p = parse(traceJson(r, 'p'));
    expect(p.traceEvents.filter((e) => e.ph === 'X').length).toBe(2);
    expect(p.metadata.linkBucketCycles).toBeNull();
  });
});

describe('assignLanes', () => {
  it('keeps nested and disjoint spans in one lane and moves crossing ones out', () => {
    const s = [
      span(0, 0, 0, 0, 'loop', 'l', 0, 100),
      span(0, 0, 0, 1, 'send', 'a', 0, 40),
      span(0, 0, 0, 2, 'unary', 'b', 30, 60), // crosses a
      span(0, 0, 0, 3, 'unary', 'c', 40, 50), // inside l after a ended
      span(0, 0, 0, 4, 'unary', 'd', 90, 120), // crosses l
    ];
    expect(assignLanes(s).map((l) => l.map((x) => x.loc))).toEqual([['l', 'a', 'c'], ['b', 'd']]);
  });
});
