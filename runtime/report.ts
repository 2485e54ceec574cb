/**
 * Run reports: turns a RunResult (runtime/result.ts) into the text `wafer run` prints and into the
 * JSON object `wafer run --json` writes. Both are pure functions of the result: no wall clock, no
 * locale, fixed number formats (report-format.ts) and fixed orderings (ties broken by name), so the
 * same run always gives the same bytes. What each field means is documented in docs/reports.md.
 */
import type { LocStats, RunResult } from './result.js';
import { clockOf, fmtBytes, fmtCore, fmtHz, fmtInt, fmtPct, fmtSeconds, fmtSi, table } from './report-format.js';

/** Per-op rows printed before the remainder is summarized in one "N more" line. */
export const REPORT_TOP_LOCS = 20;

/** Width in characters of the longest bar of the SRAM histogram. */
const BAR_WIDTH = 40;

/** Code-unit order, not localeCompare: the order must not depend on the machine's locale. */
function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Locations by core-cycles, most expensive first; equal cycles by name. */
export function sortLocs(locs: readonly LocStats[]): LocStats[] {
  return [...locs].sort((a, b) => b.cycles - a.cycles || cmpStr(a.loc, b.loc));
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

function headerLines(r: RunResult): string[] {
  const clock = clockOf(r);
  const at = clock !== undefined ? ` at ${fmtHz(clock)}` : '';
  const io = r.hostIo;
  return [
    `program ${r.program} on target ${r.target} (${r.mode === 'functional' ? 'functional' : 'timing only'})`,
    `total: ${fmtInt(r.totalCycles)} cycles = ${fmtSeconds(r.seconds)}${at}`,
    `host I/O (not in the total): ${fmtInt(io.inputBytes)} B in, ${fmtInt(io.outputBytes)} B out, ${fmtSeconds(io.seconds)}`,
    `events simulated: ${fmtInt(r.events)}`,
  ];
}

function regionLines(r: RunResult): string[] {
  const rows = [['region', 'cores', 'finish cycle', 'compute', 'comm', 'idle']];
  for (const g of r.regions) {
    const all = g.computeCycles + g.commCycles + g.idleCycles;
    rows.push([
      g.name,
      fmtInt(g.cores),
      fmtInt(g.finishCycle),
      fmtPct(ratio(g.computeCycles, all)),
      fmtPct(ratio(g.commCycles, all)),
      fmtPct(ratio(g.idleCycles, all)),
    ]);
  }
  return ['regions', ...table(rows, new Set([1, 2, 3, 4, 5]))];
}

function locLines(r: RunResult): string[] {
  const sorted = sortLocs(r.locs);
  const busy = sorted.reduce((s, l) => s + l.cycles, 0);
  const rows = [['op (loc)', 'core-cycles', 'share', 'count', 'cycles/exec']];
  for (const l of sorted.slice(0, REPORT_TOP_LOCS)) {
    rows.push([l.loc, fmtInt(l.cycles), fmtPct(ratio(l.cycles, busy)), fmtInt(l.count), l.count > 0 ? (l.cycles / l.count).toFixed(1) : '-']);
  }
  const out = ['ops by core-cycles', ...table(rows, new Set([1, 2, 3, 4]))];
  if (sorted.length > REPORT_TOP_LOCS) {
    const rest = sorted.slice(REPORT_TOP_LOCS);
    const cyc = rest.reduce((s, l) => s + l.cycles, 0);
    out.push(`  ... ${fmtInt(rest.length)} more (${fmtInt(cyc)} core-cycles, ${fmtPct(ratio(cyc, busy))})`);
  }
  if (sorted.length === 0) out.push('  (no instruction executed)');
  return out;
}

function linkLines(r: RunResult): string[] {
  const l = r.links;
  const hot = l.hottest ? `${fmtCore(l.hottest)} ${l.hottest.dir}, busy ${fmtPct(l.hottest.utilization)}` : 'none (no word crossed a link)';
  return [
    `links: ${fmtInt(l.wordHops)} word-hops, ${fmtInt(l.streams)} stream${l.streams === 1 ? '' : 's'}, utilization ${fmtPct(l.utilization)}`,
    `hottest link: ${hot}`,
  ];
}

/** The SRAM histogram as one bar per 10% bucket, scaled so the fullest bucket is BAR_WIDTH long. */
export function sramHistogramLines(hist: readonly number[]): string[] {
  const most = Math.max(0, ...hist);
  const countWidth = Math.max(...hist.map((c) => fmtInt(c).length), 1);
  return hist.map((count, i) => {
    const label = `${i * 10}-${(i + 1) * 10}%`.padStart(7);
    const len = count > 0 ? Math.max(1, Math.round((count / most) * BAR_WIDTH)) : 0;
    return (`  ${label}  ${fmtInt(count).padStart(countWidth)} ` + '#'.repeat(len)).trimEnd();
  });
}

function sramLines(r: RunResult): string[] {
  const s = r.sram;
  const where = s.maxCore ? ` on core ${fmtCore(s.maxCore)}` : '';
  return [
    `SRAM high-water: max ${fmtBytes(s.maxBytes)} = ${fmtPct(ratio(s.maxBytes, s.capacityBytes))} of ${fmtBytes(s.capacityBytes)}${where}`,
    'cores by SRAM high-water (share of capacity):',
    ...sramHistogramLines(s.histogram),
  ];
}

function energyLines(r: RunResult): string[] {
  const e = r.energy;
  const power = r.seconds > 0 ? `, mean ${fmtSi(e.joules / r.seconds, 'W')}` : '';
  return [
    `energy: ${fmtSi(e.joules, 'J')} (compute ${fmtSi(e.computeJoules, 'J')}, idle ${fmtSi(e.idleJoules, 'J')}, fabric ${fmtSi(e.fabricJoules, 'J')})${power}`,
  ];
}

/** The prediction check: one line when everything matched, else the first divergence (and the total). */
export function predictionLines(r: RunResult): string[] {
  const p = r.prediction;
  if (p.checked === 0 && p.predictedTotal === undefined) {
    return ['prediction: none (the program carries no predicted timing)'];
  }
  const totalOk = p.predictedTotal === undefined || p.predictedTotal === r.totalCycles;
  if (p.matched && !p.firstDivergence && totalOk) {
    if (p.checked === 0) return [`prediction: measured == predicted for the total (no instruction start predicted)`];
    const what = p.predictedTotal === undefined ? '' : ' and the total';
    return [`prediction: measured == predicted for all ${fmtInt(p.checked)} checked instruction starts${what}`];
  }
  const out: string[] = [];
  const d = p.firstDivergence;
  if (d) {
    const iter = d.iteration.length ? ` iteration [${d.iteration.join(',')}]` : '';
    out.push(
      `prediction: FIRST DIVERGENCE: instr #${d.instr} @${d.loc} on core ${fmtCore(d.core)}${iter}: ` +
        `predicted ${fmtInt(d.predicted)}, measured ${fmtInt(d.measured)}`,
    );
  } else if (!totalOk) {
    out.push(p.checked === 0
      ? 'prediction: the total diverges (no instruction start predicted)'
      : `prediction: all ${fmtInt(p.checked)} checked instruction starts matched, but the total did not`);
  } else {
    out.push(`prediction: MISMATCH reported without a divergence (${fmtInt(p.checked)} checked)`);
  }
  if (!totalOk) out.push(`  total: predicted ${fmtInt(p.predictedTotal!)}, measured ${fmtInt(r.totalCycles)} cycles`);
  return out;
}

/** The text report of a run (ends with a newline). */
export function formatReport(r: RunResult): string {
  const sections: string[][] = [
    headerLines(r),
    regionLines(r),
    locLines(r),
    [
      `time share of used cores: compute ${fmtPct(r.share.compute)}, communication ${fmtPct(r.share.communication)}, idle ${fmtPct(r.share.idle)}`,
      `core utilization: ${fmtPct(r.coreUtilization)}`,
    ],
    linkLines(r),
    sramLines(r),
    energyLines(r),
    predictionLines(r),
  ];
  return sections.map((s) => s.join('\n')).join('\n\n') + '\n';
}

// ---- JSON -----------------------------------------------------------------------------------

/** Version of the JSON report layout; bump when a key changes meaning or disappears. */
export const REPORT_JSON_VERSION = 1;

/** Non-finite numbers become null so the object survives JSON.stringify unchanged. */
function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function outputSummary(o: { name: string; shape: number[]; data: Float32Array }) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let nonFinite = 0;
  for (let i = 0; i < o.data.length; i++) {
    const v = o.data[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const finite = o.data.length - nonFinite;
  return {
    name: o.name,
    shape: [...o.shape],
    elements: o.data.length,
    min: finite ? num(min) : null,
    max: finite ? num(max) : null,
    mean: finite ? num(sum / finite) : null,
    nonFinite,
  };
}

/**
 * The run as a plain JSON-able object with a fixed key order (built literally, never by copying
 * the result's own keys). Outputs are summarized, not dumped; trace samples are left out (they go to
 * the --trace file). Optional fields are present as null so every report has the same keys.
 */
export function reportJson(r: RunResult): unknown {
  const p = r.prediction;
  const d = p.firstDivergence;
  const hot = r.links.hottest;
  return {
    format: 'wafer-run-report',
    version: REPORT_JSON_VERSION,
    program: r.program,
    target: r.target,
    mode: r.mode,
    totalCycles: r.totalCycles,
    seconds: num(r.seconds),
    clockHz: clockOf(r) ?? null,
    hostIo: { inputBytes: r.hostIo.inputBytes, outputBytes: r.hostIo.outputBytes, seconds: num(r.hostIo.seconds) },
    events: r.events,
    share: { compute: num(r.share.compute), communication: num(r.share.communication), idle: num(r.share.idle) },
    coreUtilization: num(r.coreUtilization),
    regions: r.regions.map((g) => ({
      name: g.name,
      cores: g.cores,
      finishCycle: g.finishCycle,
      computeCycles: g.computeCycles,
      commCycles: g.commCycles,
      idleCycles: g.idleCycles,
    })),
    locs: sortLocs(r.locs).map((l) => ({ loc: l.loc, cycles: l.cycles, count: l.count })),
    links: {
      wordHops: r.links.wordHops,
      streams: r.links.streams,
      utilization: num(r.links.utilization),
      hottest: hot ? { x: hot.x, y: hot.y, dir: hot.dir, utilization: num(hot.utilization) } : null,
    },
    sram: {
      maxBytes: r.sram.maxBytes,
      maxCore: r.sram.maxCore ? { x: r.sram.maxCore.x, y: r.sram.maxCore.y } : null,
      capacityBytes: r.sram.capacityBytes,
      histogram: [...r.sram.histogram],
    },
    energy: {
      joules: num(r.energy.joules),
      computeJoules: num(r.energy.computeJoules),
      idleJoules: num(r.energy.idleJoules),
      fabricJoules: num(r.energy.fabricJoules),
    },
    prediction: {
      checked: p.checked,
      matched: p.matched,
      predictedTotal: p.predictedTotal ?? null,
      firstDivergence: d
        ? { instr: d.instr, loc: d.loc, core: { x: d.core.x, y: d.core.y }, iteration: [...d.iteration], predicted: d.predicted, measured: d.measured }
        : null,
    },
    outputs: r.outputs ? r.outputs.map(outputSummary) : null,
  };
}
