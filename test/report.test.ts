/**
 * Run reports (runtime/report.ts) on hand-made RunResults: exact text of the key lines (total time at
 * the clock, tables, the SRAM histogram, the prediction verdicts), and the JSON report's fixed keys.
 * The end-to-end runs (emulator → report, and `wafer run` on a program file) are at the end.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxPkg from 'onnx-proto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCommand } from '../cli/commands/run.js';
import { CliExit } from '../cli/exit.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import { encodeProgram } from '../ir/program-codec.js';
import { ProgramBuilder, X, eq } from '../ir/program-builder.js';
import type { Program } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import { emulate } from '../runtime/emulate.js';
import { formatReport, predictionLines, reportJson, sramHistogramLines } from '../runtime/report.js';
import { fmtBytes, fmtInt, fmtPct, fmtSeconds, fmtSi } from '../runtime/report-format.js';
import type { RunResult } from '../runtime/result.js';
import { traceJson } from '../runtime/trace.js';

/** 22 locations: 20 printed, 2 summarized. loc-a and loc-b tie on cycles (name order decides). */
function locs() {
  const out = [
    { loc: 'loc-b', cycles: 3000, count: 4 },
    { loc: 'loc-a', cycles: 3000, count: 3 },
  ];
  for (let i = 0; i < 20; i++) out.push({ loc: `op${String(i).padStart(2, '0')}`, cycles: 200 - i, count: 1 });
  return out;
}

function sampleResult(): RunResult {
  return {
    program: 'two-regions',
    target: 'mesh:4x2',
    mode: 'functional',
    totalCycles: 2200,
    seconds: 2200 / 1.1e9,
    hostIo: { inputBytes: 1048576, outputBytes: 64, seconds: 0.0015 },
    regions: [
      { name: 'left', cores: 4, finishCycle: 2200, computeCycles: 4400, commCycles: 2200, idleCycles: 2200 },
      { name: 'right', cores: 4, finishCycle: 1100, computeCycles: 0, commCycles: 1100, idleCycles: 7700 },
    ],
    locs: locs(),
    share: { compute: 0.25, communication: 0.1875, idle: 0.5625 },
    coreUtilization: 0.4375,
    links: { wordHops: 12345, utilization: 0.0004, hottest: { x: 1, y: 0, dir: 'east', utilization: 0.5 }, streams: 7 },
    sram: { maxBytes: 24576, maxCore: { x: 3, y: 1 }, capacityBytes: 49152, histogram: [3, 0, 1, 0, 0, 4, 0, 0, 0, 0] },
    energy: { joules: 0.000528, computeJoules: 0.0004, idleJoules: 0.000128, fabricJoules: 0 },
    prediction: {
      checked: 96,
      matched: false,
      predictedTotal: 2196,
      firstDivergence: { instr: 12, loc: 'gemm.shift', core: { x: 2, y: 1 }, iteration: [3, 1], predicted: 812, measured: 816 },
    },
    events: 123456,
    outputs: [{ name: 'y', shape: [2, 3], data: new Float32Array([1, -2, 3, 4, 5, 0.5]) }],
    trace: { sampledCores: [{ x: 0, y: 0 }], spans: [], bucketCycles: 64, linkLoad: [] },
  };
}

describe('number formats', () => {
  it('uses fixed rules', () => {
    expect(fmtInt(0)).toBe('0');
    expect(fmtInt(999)).toBe('999');
    expect(fmtInt(1000)).toBe('1,000');
    expect(fmtInt(-1234567)).toBe('-1,234,567');
    expect(fmtPct(0.25)).toBe('25.0%');
    expect(fmtPct(0.0004)).toBe('<0.1%');
    expect(fmtPct(0)).toBe('0.0%');
    expect(fmtSeconds(0)).toBe('0 s');
    expect(fmtSeconds(2.5)).toBe('2.500 s');
    expect(fmtSeconds(0.0015)).toBe('1.500 ms');
    expect(fmtSeconds(2e-6)).toBe('2.000 µs');
    expect(fmtSeconds(9.09e-10)).toBe('0.909 ns');
    expect(fmtSi(0.000528, 'J')).toBe('528.000 µJ');
    expect(fmtSi(30, 'W')).toBe('30.000 W');
    expect(fmtBytes(49152)).toBe('49,152 B (48.0 KiB)');
    expect(fmtBytes(100)).toBe('100 B');
  });
});

describe('formatReport', () => {
  const text = formatReport(sampleResult());
  const lines = text.split('\n');

  it('prints the total at the target clock and host I/O apart', () => {
    expect(lines.slice(0, 4)).toEqual([
      'program two-regions on target mesh:4x2 (functional)',
      // 2200 cycles / 1.1 GHz = 2 µs
      'total: 2,200 cycles = 2.000 µs at 1.100 GHz',
      'host I/O (not in the total): 1,048,576 B in, 64 B out, 1.500 ms',
      'events simulated: 123,456',
    ]);
  });

  it('prints the per-region table with shares of each region\'s core-cycles', () => {
    const i = lines.indexOf('regions');
    expect(lines.slice(i + 1, i + 4)).toEqual([
      '  region  cores  finish cycle  compute   comm   idle',
      // left: 4400 / 8800, 2200 / 8800, 2200 / 8800
      '  left        4         2,200    50.0%  25.0%  25.0%',
      // right: 0, 1100 / 8800, 7700 / 8800
      '  right       4         1,100     0.0%  12.5%  87.5%',
    ]);
  });

  it('sorts ops by cycles (ties by name), prints 20 and summarizes the rest', () => {
    const i = lines.indexOf('ops by core-cycles');
    expect(lines[i + 1]).toBe('  op (loc)  core-cycles  share  count  cycles/exec');
    // busy = 6000 + (200 + ... + 181) = 9810; 3000 / 9810 = 30.6%
    expect(lines[i + 2]).toBe('  loc-a           3,000  30.6%      3       1000.0');
    expect(lines[i + 3]).toBe('  loc-b           3,000  30.6%      4        750.0');
    expect(lines[i + 4]).toMatch(/^ {2}op00 +200 +2\.0% +1 +200\.0$/);
    expect(lines[i + 21]).toMatch(/^ {2}op17 +183 /);
    // op18 + op19 = 182 + 181 = 363 core-cycles = 3.7% of 9810
    expect(lines[i + 22]).toBe('  ... 2 more (363 core-cycles, 3.7%)');
  });

  it('prints shares, utilization, links and energy', () => {
    expect(lines).toContain('time share of used cores: compute 25.0%, communication 18.8%, idle 56.3%');
    expect(lines).toContain('core utilization: 43.8%');
    expect(lines).toContain('links: 12,345 word-hops, 7 streams, utilization <0.1%');
    expect(lines).toContain('hottest link: (1,0) east, busy 50.0%');
    // 528 µJ over 2 µs = 264 W
    expect(lines).toContain('energy: 528.000 µJ (compute 400.000 µJ, idle 128.000 µJ, fabric 0 J), mean 264.000 W');
  });

  it('prints the SRAM maximum and the histogram as bars scaled to the fullest bucket', () => {
    const i = lines.findIndex((l) => l.startsWith('SRAM high-water'));
    expect(lines.slice(i, i + 12)).toEqual([
      'SRAM high-water: max 24,576 B (24.0 KiB) = 50.0% of 49,152 B (48.0 KiB) on core (3,1)',
      'cores by SRAM high-water (share of capacity):',
      '    0-10%  3 ' + '#'.repeat(30), // 3/4 of 40
      '   10-20%  0',
      '   20-30%  1 ' + '#'.repeat(10),
      '   30-40%  0',
      '   40-50%  0',
      '   50-60%  4 ' + '#'.repeat(40),
      '   60-70%  0',
      '   70-80%  0',
      '   80-90%  0',
      '  90-100%  0',
    ]);
  });

  it('prints the first divergence and the total', () => {
    expect(text.endsWith(
      'prediction: FIRST DIVERGENCE: instr #12 @gemm.shift on core (2,1) iteration [3,1]: predicted 812, measured 816\n' +
        '  total: predicted 2,196, measured 2,200 cycles\n',
    )).toBe(true);
  });

  it('has no trailing blanks and is identical for a deep copy', () => {
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
    expect(formatReport(structuredClone(sampleResult()))).toBe(text);
  });
});

describe('prediction verdicts', () => {
  const with_ = (p: RunResult['prediction'], totalCycles = 2200) => predictionLines({ ...sampleResult(), totalCycles, prediction: p });

  it('says everything matched', () => {
    expect(with_({ checked: 96, matched: true, predictedTotal: 2200 })).toEqual([
      'prediction: measured == predicted for all 96 checked instruction starts and the total',
    ]);
  });
  it('says when the program carries no prediction', () => {
    expect(with_({ checked: 0, matched: true })).toEqual(['prediction: none (the program carries no predicted timing)']);
  });
  it('omits the iteration of a top-level instruction', () => {
    const d = { instr: 3, loc: 'relu', core: { x: 0, y: 5 }, iteration: [], predicted: 10, measured: 11 };
    expect(with_({ checked: 4, matched: false, predictedTotal: 2200, firstDivergence: d })).toEqual([
      'prediction: FIRST DIVERGENCE: instr #3 @relu on core (0,5): predicted 10, measured 11',
    ]);
  });
  it('reports a total that alone diverges', () => {
    expect(with_({ checked: 8, matched: false, predictedTotal: 2100 })).toEqual([
      'prediction: all 8 checked instruction starts matched, but the total did not',
      '  total: predicted 2,100, measured 2,200 cycles',
    ]);
  });
});

describe('sramHistogramLines', () => {
  it('keeps a non-empty bucket visible however small', () => {
    const h = [1000, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    const l = sramHistogramLines(h);
    expect(l[0]).toBe('    0-10%  1,000 ' + '#'.repeat(40));
    expect(l[1]).toBe('   10-20%      1 #');
    expect(l[2]).toBe('   20-30%      0');
  });
});

describe('reportJson', () => {
  it('has a fixed key order, summarizes outputs and leaves the trace out', () => {
    const j = reportJson(sampleResult()) as Record<string, unknown>;
    expect(Object.keys(j)).toEqual([
      'format', 'version', 'program', 'target', 'mode', 'totalCycles', 'seconds', 'clockHz', 'hostIo', 'events', 'share',
      'coreUtilization', 'regions', 'locs', 'links', 'sram', 'energy', 'prediction', 'outputs',
    ]);
    expect(j.clockHz).toBe(1.1e9);
    expect(j.outputs).toEqual([{ name: 'y', shape: [2, 3], elements: 6, min: -2, max: 5, mean: 11.5 / 6, nonFinite: 0 }]);
    const locsOut = j.locs as { loc: string }[];
    expect(locsOut.length).toBe(22); // all of them, sorted, not truncated
    expect(locsOut.slice(0, 3).map((l) => l.loc)).toEqual(['loc-a', 'loc-b', 'op00']);
    expect(j.prediction).toEqual({
      checked: 96,
      matched: false,
      predictedTotal: 2196,
      firstDivergence: { instr: 12, loc: 'gemm.shift', core: { x: 2, y: 1 }, iteration: [3, 1], predicted: 812, measured: 816 },
    });
    expect(JSON.stringify(j)).not.toContain('trace');
  });

  it('does not depend on the key order or identity of the input', () => {
    const a = sampleResult();
    // Same content, keys inserted in reverse order.
    const b = Object.fromEntries(Object.entries(structuredClone(a)).reverse()) as unknown as RunResult;
    b.links = Object.fromEntries(Object.entries(b.links).reverse()) as unknown as RunResult['links'];
    expect(JSON.stringify(reportJson(b))).toBe(JSON.stringify(reportJson(a)));
  });

  it('keeps absent optional fields as null', () => {
    const r = sampleResult();
    delete r.outputs;
    delete r.links.hottest;
    delete r.sram.maxCore;
    r.prediction = { checked: 0, matched: true };
    const j = reportJson(r) as Record<string, Record<string, unknown> | null>;
    expect(j.outputs).toBeNull();
    expect(j.links!.hottest).toBeNull();
    expect(j.sram!.maxCore).toBeNull();
    expect(j.prediction).toEqual({ checked: 0, matched: true, predictedTotal: null, firstDivergence: null });
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });
});

// ---- end to end: emulator → report / trace, and `wafer run` -------------------------------------

/**
 * Core (0,0) sends x (4 floats) east on colour 1, core (1,0) receives it into c, both wait, then
 * (1,0) doubles c: y = 2x. With `predictTotal` the program carries a prediction.
 */
function shiftScale(opts: { predictTotal?: number; predictScale?: number } = {}): Program {
  const b = new ProgramBuilder('shift-scale', resolveTarget('mesh:2x1'));
  const r = b.region('pair', { x: 0, y: 0, width: 2, height: 1 });
  const a = r.buffer('a', 'f32', 4);
  const c = r.buffer('c', 'f32', 4);
  r.setLoc('shift');
  r.send(a, 4, 1, { guard: eq(X, 0) });
  r.recv(c, 4, 1, { guard: eq(X, 1) });
  r.wait();
  r.setLoc('scale');
  const scale = r.unary('scale', c, c, 4, { scalar: 2, guard: eq(X, 1) });
  r.route({ colour: 1, input: 'ramp', outputs: 'east', guard: eq(X, 0) });
  r.route({ colour: 1, input: 'west', outputs: 'ramp', guard: eq(X, 1) });
  b.input('x', 'f32', [4], { buffer: a, tile: [1, 4], at: [0, 0], guard: eq(X, 0) });
  b.output('y', 'f32', [4], { buffer: c, tile: [1, 4], at: [0, 0], guard: eq(X, 1) });
  if (opts.predictTotal !== undefined) b.predictTotal(opts.predictTotal);
  if (opts.predictScale !== undefined) b.predict(scale, opts.predictScale);
  return b.build();
}

/** The closed form of docs/runtime-model.md for shiftScale on its target. */
function expectedCycles(p: Program) {
  const t = p.target;
  const post = t.overhead.issue + t.overhead.comm; // send and recv both posted at this cycle
  const n = 4; // f32 words
  const arrive = post + 2 * t.link.rampLatency + 1 * t.link.hopLatency; // one hop east
  const recvDone = Math.max(arrive, post) + n;
  const L = t.flopsPerCycle.float32 / 2;
  const scale = t.overhead.issue + Math.max(Math.ceil(n / L), Math.ceil(n / t.sram.readWordsPerCycle), Math.ceil(n / t.sram.writeWordsPerCycle));
  return { post, sendDone: post + n, recvDone, total: recvDone + scale };
}

const X_VALUES = new Float32Array([1, 2, 3, 4]);
const run = (p: Program) => emulate(p, { mode: 'functional', inputs: new Map([['x', X_VALUES]]), trace: { cores: 2, bucketCycles: 4 } });

describe('report of an emulated run', () => {
  const p = shiftScale();
  const e = expectedCycles(p);
  const r = run(p);

  it('prints the closed-form total at the target clock', () => {
    expect(e.total).toBe(17); // 5 to post, +3 to arrive, +4 words, +5 for the scale (WSE-2 figures)
    const ns = ((e.total / p.target.clockHz) * 1e9).toFixed(3);
    expect(formatReport(r).split('\n')[1]).toBe(`total: 17 cycles = ${ns} ns at 1.100 GHz`);
    expect(r.outputs![0].data).toEqual(new Float32Array([2, 4, 6, 8]));
  });

  it('gives identical report text and trace bytes for two runs', () => {
    const again = run(shiftScale());
    expect(formatReport(again)).toBe(formatReport(r));
    expect(JSON.stringify(reportJson(again))).toBe(JSON.stringify(reportJson(r)));
    expect(traceJson(again, p.name)).toBe(traceJson(r, p.name));
  });

  it('traces every instruction of the sampled cores at its closed-form cycles', () => {
    const ev = JSON.parse(traceJson(r, p.name)).traceEvents as { ph: string; name: string; cat: string; ts: number; dur: number; tid: number }[];
    const spans = ev.filter((x) => x.ph === 'X' && x.cat !== 'region').map((x) => [x.tid, x.cat, x.ts, x.ts + x.dur]);
    expect(spans).toEqual([
      [2, 'send', 0, e.post],
      [2, 'wait', e.post, e.sendDone],
      [3, 'recv', 0, e.post],
      [3, 'wait', e.post, e.recvDone],
      [3, 'unary', e.recvDone, e.total],
    ]);
  });

  it('reports a wrong prediction of the total', () => {
    const text = formatReport(run(shiftScale({ predictTotal: 16 })));
    expect(text).toContain('prediction: the total diverges (no instruction start predicted)\n  total: predicted 16, measured 17 cycles\n');
    expect(formatReport(run(shiftScale({ predictTotal: 17 })))).toContain(
      'prediction: measured == predicted for the total (no instruction start predicted)\n',
    );
  });

  it('reports the first divergent instruction start, or the checked count when all match', () => {
    expect(formatReport(run(shiftScale({ predictTotal: 17, predictScale: e.recvDone })))).toContain(
      'prediction: measured == predicted for all 1 checked instruction starts and the total\n',
    );
    const text = formatReport(run(shiftScale({ predictTotal: 17, predictScale: e.recvDone - 1 })));
    expect(text).toContain(`prediction: FIRST DIVERGENCE: instr #3 @scale on core (1,0): predicted ${e.recvDone - 1}, measured ${e.recvDone}\n`);
    expect(text).not.toContain('  total:');
  });
});

describe('wafer run (runCommand)', () => {
  const { onnx } = onnxPkg;
  const tensorFile = (name: string, dims: number[], values: number[]) => onnx.TensorProto.encode({ name, dims, dataType: 1, floatData: values }).finish();
  let out = '';
  let err = '';
  beforeEach(() => {
    out = '';
    err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());

  function setup(p: Program, files: Record<string, Uint8Array>) {
    const dir = mkdtempSync(join(tmpdir(), 'wafer-run-'));
    const prog = join(dir, 'prog.wafer');
    writeFileSync(prog, encodeProgram(p));
    const data = join(dir, 'data');
    mkdirSync(data);
    for (const [f, bytes] of Object.entries(files)) writeFileSync(join(data, f), bytes);
    return { dir, prog, data };
  }

  const exitCode = async (f: () => Promise<void>) => {
    try {
      await f();
      return 0;
    } catch (e) {
      if (e instanceof CliExit) return e.exitCode;
      throw e;
    }
  };
  const codeOf = async (f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      if (e instanceof DiagnosticError) return e.diagnostics[0].code;
      throw e;
    }
    return 'none';
  };

  it('runs a program file, compares outputs, writes the JSON report and the trace', async () => {
    const p = shiftScale();
    const { dir, prog, data } = setup(p, { 'input_0.pb': tensorFile('x', [4], [1, 2, 3, 4]), 'output_0.pb': tensorFile('y', [4], [2, 4, 6, 8]) });
    const json = join(dir, 'r.json');
    const trace = join(dir, 't.json');
    expect(await exitCode(() => runCommand(prog, { inputs: data, json, trace, traceCores: '2' }))).toBe(0);
    const direct = emulate(p, { mode: 'functional', inputs: new Map([['x', X_VALUES]]), trace: { cores: 2 } });
    expect(out).toBe(formatReport(direct) + '\noutputs\n  y  f32[4]  match (max abs err 0.00e+0, vs output_0.pb)\n');
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(reportJson(direct));
    expect(readFileSync(trace, 'utf8')).toBe(traceJson(direct, 'shift-scale'));
    expect(err).toMatch(/^wall time \d+\.\d{3} s/);
  });

  it('exits 1 when an output differs from output_N.pb', async () => {
    const { prog, data } = setup(shiftScale(), { 'input_0.pb': tensorFile('x', [4], [1, 2, 3, 4]), 'output_0.pb': tensorFile('y', [4], [1, 2, 3, 4]) });
    expect(await exitCode(() => runCommand(prog, { inputs: data }))).toBe(1);
    expect(out).toContain('y  f32[4]  MISMATCH: 4 of 4 elements differ');
  });

  it('exits 1 on a timing divergence only with --check', async () => {
    const { prog, data } = setup(shiftScale({ predictTotal: 16 }), { 'in.pb': tensorFile('x', [4], [1, 2, 3, 4]) });
    expect(await exitCode(() => runCommand(prog, { inputs: data }))).toBe(0);
    expect(await exitCode(() => runCommand(prog, { inputs: data, check: true }))).toBe(1);
    expect(out).toContain('total: predicted 16, measured 17 cycles');
  });

  it('times without inputs with --timing-only', async () => {
    const { prog } = setup(shiftScale(), {});
    expect(await exitCode(() => runCommand(prog, { timingOnly: true }))).toBe(0);
    expect(out).toContain('program shift-scale on target mesh:2x1 (timing only)\ntotal: 17 cycles');
  });

  it('refuses missing, mis-shaped or surplus inputs with W6005, and an unreadable program with W5002', async () => {
    const p = shiftScale();
    expect(await codeOf(() => runCommand(setup(p, {}).prog, {}))).toBe('W6005');
    const bad = setup(p, { 'input_0.pb': tensorFile('x', [2, 2], [1, 2, 3, 4]) });
    expect(await codeOf(() => runCommand(bad.prog, { inputs: bad.data }))).toBe('W6005');
    const extra = setup(p, { 'input_0.pb': tensorFile('x', [4], [1, 2, 3, 4]), 'input_1.pb': tensorFile('z', [4], [1, 2, 3, 4]) });
    expect(await codeOf(() => runCommand(extra.prog, { inputs: extra.data }))).toBe('W6005');
    expect(await codeOf(() => runCommand(p.name, { inputs: '/no/such/dir' }))).toBe('W5002');
    expect(await codeOf(() => runCommand(setup(p, {}).prog, { inputs: '/no/such/dir' }))).toBe('W6005');
  });

  it('matches input files by position when their names are not the program\'s', async () => {
    const { prog, data } = setup(shiftScale(), { 'input_0.pb': tensorFile('whatever', [4], [1, 2, 3, 4]), 'output_0.pb': tensorFile('', [4], [2, 4, 6, 8]) });
    expect(await exitCode(() => runCommand(prog, { inputs: data }))).toBe(0);
    expect(out).toContain('y  f32[4]  match');
  });
});
