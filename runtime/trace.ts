/**
 * Perfetto / Chrome Trace Event JSON from a RunResult's trace samples (runtime/result.ts TraceData).
 * Opens in ui.perfetto.dev (and chrome://tracing). Layout:
 *
 * - one process per region ("region NAME"), holding a "region" thread with one span from cycle 0 to
 *   the region's finish, and one thread per sampled core ("core (x,y)") with a complete event
 *   (`ph: "X"`) per instruction execution;
 * - one "fabric" process with a counter (`ph: "C"`) of the words crossing router-to-router links per
 *   time bucket;
 * - name and sort-order metadata events (`ph: "M"`).
 *
 * Time unit: `ts` and `dur` are **cycles**, written where the format expects microseconds (so the
 * viewer's "1 µs" reads "1 cycle"); `metadata.clockHz` converts to seconds. Integers keep every
 * cycle exact — fractional microseconds at a ~1 GHz clock would fall below the viewers' nanosecond
 * resolution and adjacent spans would overlap after rounding.
 *
 * Spans on one core that overlap without nesting (an instruction still running when the next one
 * starts) would be mis-drawn on one thread, so they go to extra lanes "core (x,y) lane 2", ...
 *
 * The output is a pure function of the result: events in a fixed order, keys in a fixed order, one
 * event per line, no real-clock timestamps — identical results give identical bytes.
 */
import type { CoreRef, RunResult, TraceSpan } from './result.js';
import { clockOf, fmtCore } from './report-format.js';

/** Trace Event records, with their keys in the order they are written. */
type TraceEvent =
  | { name: string; ph: 'M'; pid: number; tid?: number; args: { name: string } | { sort_index: number } }
  | { name: string; cat: string; ph: 'X'; ts: number; dur: number; pid: number; tid: number; args: Record<string, number | string> }
  | { name: string; ph: 'C'; ts: number; pid: number; args: { words: number } };

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpCore(a: CoreRef, b: CoreRef): number {
  return a.y - b.y || a.x - b.x;
}

/** Parents before children: earlier start first, then the longer span, then by instruction. */
function cmpSpan(a: TraceSpan, b: TraceSpan): number {
  return a.start - b.start || b.end - a.end || a.instr - b.instr || cmpStr(a.loc, b.loc) || cmpStr(a.op, b.op);
}

/**
 * Splits one core's spans (sorted by cmpSpan) into lanes in which every pair of spans is either
 * disjoint or nested, placing each span in the first lane where it fits.
 */
export function assignLanes(spans: readonly TraceSpan[]): TraceSpan[][] {
  const lanes: { spans: TraceSpan[]; open: number[] }[] = [];
  for (const s of spans) {
    const end = Math.max(s.start, s.end);
    let placed = false;
    for (const lane of lanes) {
      while (lane.open.length && lane.open[lane.open.length - 1] <= s.start) lane.open.pop();
      const top = lane.open[lane.open.length - 1];
      if (top === undefined || end <= top) {
        lane.spans.push(s);
        lane.open.push(end);
        placed = true;
        break;
      }
    }
    if (!placed) lanes.push({ spans: [s], open: [end] });
  }
  return lanes.map((l) => l.spans);
}

/** The Trace Event JSON of a run (a string ending with a newline). */
export function traceJson(r: RunResult, programName: string): string {
  const trace = r.trace;
  const spans = trace ? [...trace.spans] : [];

  // Processes: one per region (pid = index + 1), then the fabric, then (rarely) sampled cores that ran
  // nothing and so belong to no region.
  let regionCount = r.regions.length;
  for (const s of spans) regionCount = Math.max(regionCount, s.region + 1);
  const regionName = (i: number) => r.regions[i]?.name ?? `#${i}`;
  const fabricPid = regionCount + 1;
  const idlePid = regionCount + 2;

  // Cores: the sampled ones and any core a span names, deduplicated, ordered by row then column.
  const byCore = new Map<string, { core: CoreRef; spans: TraceSpan[] }>();
  const coreEntry = (c: CoreRef) => {
    const key = `${c.x},${c.y}`;
    let e = byCore.get(key);
    if (!e) byCore.set(key, (e = { core: { x: c.x, y: c.y }, spans: [] }));
    return e;
  };
  for (const c of trace?.sampledCores ?? []) coreEntry(c);
  for (const s of spans) coreEntry(s.core).spans.push(s);
  const cores = [...byCore.values()].sort((a, b) => cmpCore(a.core, b.core));

  const meta: TraceEvent[] = [];
  const body: TraceEvent[] = [];
  let nextTid = 1;
  const procName = (pid: number, name: string, sort: number) => {
    meta.push({ name: 'process_name', ph: 'M', pid, args: { name } });
    meta.push({ name: 'process_sort_index', ph: 'M', pid, args: { sort_index: sort } });
  };
  const threadName = (pid: number, tid: number, name: string) => {
    meta.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name } });
    meta.push({ name: 'thread_sort_index', ph: 'M', pid, tid, args: { sort_index: tid } });
  };

  for (let i = 0; i < regionCount; i++) {
    const pid = i + 1;
    procName(pid, `region ${regionName(i)}`, pid);
    const g = r.regions[i];
    if (!g) continue;
    const tid = nextTid++;
    threadName(pid, tid, 'region');
    body.push({
      name: g.name,
      cat: 'region',
      ph: 'X',
      ts: 0,
      dur: g.finishCycle,
      pid,
      tid,
      args: { cores: g.cores, finishCycle: g.finishCycle, computeCycles: g.computeCycles, commCycles: g.commCycles, idleCycles: g.idleCycles },
    });
  }
  procName(fabricPid, 'fabric', fabricPid);

  let idleCores = false;
  for (const { core, spans: own } of cores) {
    own.sort(cmpSpan);
    const pid = own.length ? own.reduce((m, s) => Math.min(m, s.region), Infinity) + 1 : idlePid;
    if (!own.length) idleCores = true;
    const lanes = own.length ? assignLanes(own) : [[]];
    lanes.forEach((lane, k) => {
      const tid = nextTid++;
      threadName(pid, tid, k === 0 ? `core ${fmtCore(core)}` : `core ${fmtCore(core)} lane ${k + 1}`);
      for (const s of lane) {
        body.push({
          name: s.loc,
          cat: s.op,
          ph: 'X',
          ts: s.start,
          dur: Math.max(0, s.end - s.start),
          pid,
          tid,
          args: { instr: s.instr, op: s.op, loc: s.loc, cycles: Math.max(0, s.end - s.start) },
        });
      }
    });
  }
  if (idleCores) procName(idlePid, 'sampled cores without instructions', idlePid);

  if (trace && trace.linkLoad.length) {
    const name = `link words per ${trace.bucketCycles} cycles`;
    const samples = [...trace.linkLoad].sort((a, b) => a.cycle - b.cycle);
    for (const s of samples) body.push({ name, ph: 'C', ts: s.cycle, pid: fabricPid, args: { words: s.words } });
    // Close the last bucket so the counter does not appear to stay loaded past the run.
    const last = samples[samples.length - 1];
    if (last.words !== 0) body.push({ name, ph: 'C', ts: last.cycle + trace.bucketCycles, pid: fabricPid, args: { words: 0 } });
  }

  const clock = clockOf(r);
  const metadata = {
    program: programName,
    target: r.target,
    mode: r.mode,
    timeUnit: 'cycles (ts and dur count cycles; the viewer labels them us)',
    clockHz: clock ?? null,
    totalCycles: r.totalCycles,
    seconds: Number.isFinite(r.seconds) ? r.seconds : null,
    sampledCores: cores.length,
    linkBucketCycles: trace ? trace.bucketCycles : null,
  };
  const events = [...meta, ...body].map((e) => JSON.stringify(e));
  return `{"traceEvents":[\n${events.join(',\n')}\n],\n"displayTimeUnit":"ns",\n"metadata":${JSON.stringify(metadata)}}\n`;
}
