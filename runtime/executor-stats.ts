/**
 * Turns a finished Executor into a RunResult (runtime/result.ts): totals, per-region and per-loc
 * cycles, shares, link and SRAM statistics, energy, the prediction check and the trace samples.
 * Definitions (what counts as compute, communication, idle, busy link cycles) are in
 * docs/runtime-model.md, "Statistics". Every list is in a fixed order: regions by program order,
 * locations by cycles then name, trace spans by sampled core then start.
 */
import type { LinkStats, LocStats, RegionStats, RunResult, SramStats, TraceData } from './result.js';
import type { Executor } from './executor.js';
import { LINKS_PER_ROUTER, PORT_NAMES } from './machine.js';

export interface HostIo {
  inputBytes: number;
  outputBytes: number;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function buildResult(ex: Executor, mode: 'functional' | 'timing', io: HostIo): RunResult {
  const lp = ex.lp, m = ex.m, t = m.target, cs = ex.cs;
  const p = lp.program;
  let total = 0;
  const regions: RegionStats[] = lp.regions.map((r) => {
    let fin = 0;
    for (let y = 0; y < r.height; y++) {
      for (let x = 0; x < r.width; x++) {
        const f = cs.finish[(r.y0 + y) * m.width + r.x0 + x];
        if (f > fin) fin = f;
      }
    }
    if (fin > total) total = fin;
    return { name: r.region.name, cores: r.cores, finishCycle: fin, computeCycles: ex.stats.regionCompute[r.index], commCycles: ex.stats.regionComm[r.index], idleCycles: 0 };
  });
  let compute = 0, comm = 0, idle = 0;
  for (const r of regions) {
    r.idleCycles = r.cores * total - r.computeCycles - r.commCycles;
    compute += r.computeCycles;
    comm += r.commCycles;
    idle += r.idleCycles;
  }
  const all = lp.usedCores * total;

  const byLoc = new Map<string, LocStats>();
  lp.instrs.forEach((ins, ix) => {
    let l = byLoc.get(ins.loc);
    if (!l) byLoc.set(ins.loc, (l = { loc: ins.loc, cycles: 0, count: 0 }));
    l.cycles += ex.stats.instrCycles[ix];
    l.count += ex.stats.instrCount[ix];
  });
  const locs = [...byLoc.values()].sort((a, b) => b.cycles - a.cycles || cmp(a.loc, b.loc));

  const f = ex.fabric;
  let busy = 0, hotId = -1, hot = 0;
  for (let id = 0; id < f.linkCycles.length; id++) {
    const v = f.linkCycles[id];
    if (v === 0) continue;
    busy += v;
    if (v > hot) { hot = v; hotId = id; }
  }
  const links: LinkStats = {
    wordHops: f.wordHops,
    utilization: m.meshLinks > 0 && total > 0 ? busy / (m.meshLinks * total) : 0,
    streams: f.streams,
  };
  if (hotId >= 0) {
    const core = Math.floor(hotId / LINKS_PER_ROUTER);
    links.hottest = {
      x: core % m.width, y: Math.floor(core / m.width), dir: PORT_NAMES[hotId % LINKS_PER_ROUTER] as 'north' | 'south' | 'east' | 'west',
      utilization: total > 0 ? hot / total : 0,
    };
  }

  const cap = t.sram.bytesPerCore;
  const sram: SramStats = { maxBytes: 0, capacityBytes: cap, histogram: new Array(10).fill(0) };
  const addSram = (hw: number, x: number, y: number, cores: number) => {
    if (hw > sram.maxBytes || sram.maxCore === undefined) { sram.maxBytes = hw; sram.maxCore = { x, y }; }
    sram.histogram[Math.min(9, Math.floor((hw / cap) * 10))] += cores;
  };
  for (const r of lp.regions) {
    const pr = r.kernel.presence, ghw = r.kernel.groupHighWater;
    if (pr === null || ghw === null) { addSram(r.kernel.liveHighWater, r.x0, r.y0, r.cores); continue; }
    // Per-core maps (buffer guards): each group of cores counts the buffers present on it.
    for (let g = 0; g < pr.groups; g++) addSram(ghw[g], r.x0 + (pr.first[g] % r.width), r.y0 + Math.floor(pr.first[g] / r.width), pr.count[g]);
  }

  const clock = t.clockHz;
  const computeJoules = ((compute + comm) * t.power.coreActiveWatts) / clock;
  const idleJoules = (idle * t.power.coreIdleWatts) / clock;
  const fabricJoules = f.wordHops * t.power.joulesPerWordHop;

  const predictedTotal = p.predicted?.totalCycles;
  const prediction = {
    checked: ex.checked,
    matched: ex.divergence === undefined && (predictedTotal === undefined || predictedTotal === total),
    ...(predictedTotal !== undefined ? { predictedTotal } : {}),
    ...(ex.divergence ? { firstDivergence: ex.divergence } : {}),
  };

  const hostSeconds = (bytes: number) => (bytes > 0 ? bytes / t.host.bytesPerSecond + t.host.latencySeconds : 0);
  const result: RunResult = {
    program: p.name,
    target: t.name,
    mode,
    totalCycles: total,
    seconds: total / clock,
    hostIo: { inputBytes: io.inputBytes, outputBytes: io.outputBytes, seconds: hostSeconds(io.inputBytes) + hostSeconds(io.outputBytes) },
    regions,
    locs,
    share: all > 0 ? { compute: compute / all, communication: comm / all, idle: idle / all } : { compute: 0, communication: 0, idle: 1 },
    coreUtilization: all > 0 ? (compute + comm) / all : 0,
    links,
    sram,
    energy: { joules: computeJoules + idleJoules + fabricJoules, computeJoules, idleJoules, fabricJoules },
    prediction,
    events: ex.events,
  };
  if (ex.sampleOf !== null) result.trace = traceData(ex);
  return result;
}

function traceData(ex: Executor): TraceData {
  const W = ex.m.width;
  const order = ex.sampleOf!;
  const spans = [...ex.spans].sort((a, b) =>
    order[a.core.y * W + a.core.x] - order[b.core.y * W + b.core.x] || a.start - b.start || b.end - a.end || a.instr - b.instr);
  const b = ex.opts.bucketCycles;
  const linkLoad = [];
  let last = ex.linkLoad.length - 1;
  while (last >= 0 && ex.linkLoad[last] === 0) last--;
  for (let k = 0; k <= last; k++) linkLoad.push({ cycle: k * b, words: ex.linkLoad[k] });
  return { sampledCores: ex.sampled.map((c) => ({ x: c % W, y: Math.floor(c / W) })), spans, bucketCycles: b, linkLoad };
}

