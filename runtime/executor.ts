/**
 * The event-driven executor (docs/runtime-model.md): owns the machine state (CoreState, Fabric,
 * functional SRAM images), runs the event loop in (cycle, priority, tie) order and collects the raw
 * statistics that executor-stats.ts turns into a RunResult.
 *
 * Events: EV_CORE (a core resumes: after a `wait` whose completions are all known, at the end of
 * its kernel, or to re-check a possible race) and EV_STREAM (evaluate a stream's start). Every core
 * starts at cycle 0 with one core step in core order. Run-time errors (W6001–W6004) stop the run
 * with a DiagnosticError; the event loop never spins without progress and stops with W6001 when the
 * event budget is exhausted.
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import type { Divergence, TraceSpan } from './result.js';
import { runCore } from './executor-core.js';
import { EventHeap, PRIO_CORE_STEP, PRIO_SCALE } from './executor-heap.js';
import { allocateMemory, type RegionMemory } from './executor-sram.js';
import { CORE_DONE, CORE_FINISHING, CORE_IDLE, CORE_RUNNING, CORE_WAITING, CoreState, EV_CORE } from './executor-state.js';
import type { CInstr } from './loader-kernel.js';
import type { LoadedProgram } from './loader.js';
import type { Machine } from './machine.js';
import { Fabric } from './streams.js';
import { deadlockError } from './executor-deadlock.js';

export interface ExecOptions {
  functional: boolean;
  /** Sample up to this many cores for trace spans (undefined: no trace). */
  traceCores?: number;
  bucketCycles: number;
  maxEvents: number;
}

export interface ExecStats {
  instrCount: Float64Array;
  instrCycles: Float64Array;
  regionCompute: Float64Array;
  regionComm: Float64Array;
}

export class Executor {
  readonly m: Machine;
  readonly heap = new EventHeap();
  readonly cs: CoreState;
  readonly fabric: Fabric;
  readonly env = new Float64Array(8);
  /** Per region: buffer binding of each core (logical → physical), only where the kernel swaps. */
  readonly bindings: (Int32Array | null)[];
  readonly memory: RegionMemory[] | null;
  readonly stats: ExecStats;
  /** Trace: sample index of each core (−1: not sampled), or null without a trace. */
  readonly sampleOf: Int32Array | null = null;
  readonly sampled: number[] = [];
  readonly spans: TraceSpan[] = [];
  linkLoad: Float64Array = new Float64Array(0);
  instructions = 0;
  readonly maxInstructions: number;
  events = 0;
  checked = 0;
  divergence?: Divergence;
  private divergenceKey = [Infinity, Infinity, Infinity];
  private readonly openSpans = new Map<number, number>();

  constructor(readonly lp: LoadedProgram, readonly opts: ExecOptions) {
    const m = (this.m = lp.machine);
    this.cs = new CoreState(m.cores, this.heap);
    this.memory = opts.functional ? allocateMemory(lp) : null;
    this.bindings = lp.regions.map((r) => {
      if (!r.kernel.hasSwap) return null;
      const nb = r.kernel.buffers.length;
      const b = new Int32Array(r.cores * nb);
      for (let i = 0; i < b.length; i++) b[i] = i % nb;
      return b;
    });
    const n = lp.instrs.length;
    this.stats = {
      instrCount: new Float64Array(n), instrCycles: new Float64Array(n),
      regionCompute: new Float64Array(lp.regions.length), regionComm: new Float64Array(lp.regions.length),
    };
    this.maxInstructions = opts.maxEvents * 64;
    if (opts.traceCores !== undefined) {
      const used: number[] = [];
      for (const r of lp.regions) for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) used.push((r.y0 + y) * m.width + r.x0 + x);
      const k = Math.min(Math.max(0, Math.floor(opts.traceCores)), used.length);
      this.sampleOf = new Int32Array(m.cores).fill(-1);
      for (let i = 0; i < k; i++) {
        const c = used[Math.floor((i * used.length) / k)];
        this.sampleOf[c] = i;
        this.sampled.push(c);
      }
    }
    const memory = this.memory;
    this.fabric = new Fabric(m, lp.routes, this.cs, this.heap, {
      describeInstr: (ix) => this.describeInstr(ix),
      memOf: (core) => (memory ? memory[lp.coreRegion[core]] : undefined),
      linkLoad: opts.traceCores !== undefined ? (from, dur, words) => this.addLinkLoad(from, dur, words) : undefined,
    }, opts.functional);
  }

  describeInstr(ix: number): string {
    const i = this.lp.instrs[ix];
    return i ? `instruction #${i.id} (${i.loc})` : `instruction ?`;
  }

  colourIndex(colour: number, c: number, ins: CInstr, code: 'W5009' | 'W5010'): number {
    const ci = this.lp.routes.colourIndex(colour);
    if (ci >= 0) return ci;
    const W = this.m.width;
    throw new DiagnosticError({
      code,
      message: `${ins.opName} ${code === 'W5009' ? 'sends' : 'receives'} on colour ${colour}, which no route rule configures`,
      location: `core (${c % W},${Math.floor(c / W)}), colour ${colour}, ${this.describeInstr(ins.ix)}`,
      hint: 'Add route rules for the colour.',
    });
  }

  overBudget(): DiagnosticError {
    return new DiagnosticError({
      code: 'W6001',
      message: `the run exceeded its budget of ${this.opts.maxEvents} events (${this.events} events, ${this.instructions} instructions executed) without finishing`,
      hint: 'Raise maxEvents if the program is just long; otherwise look for a loop with a huge count.',
    });
  }

  yieldCore(c: number, t: number): void {
    this.heap.push(t, PRIO_CORE_STEP * PRIO_SCALE + c, EV_CORE, c);
  }

  addRegion(ri: number, compute: number, comm: number): void {
    this.stats.regionCompute[ri] += compute;
    this.stats.regionComm[ri] += comm;
  }

  checkPrediction(ins: CInstr, c: number, measured: number, predicted: number): void {
    this.checked++;
    if (measured === predicted) return;
    const key = [Math.min(measured, predicted), c, ins.ix];
    const k = this.divergenceKey;
    if (key[0] > k[0] || (key[0] === k[0] && (key[1] > k[1] || (key[1] === k[1] && key[2] >= k[2])))) return;
    this.divergenceKey = key;
    const W = this.m.width;
    const iteration: number[] = [];
    for (let d = 0; d < ins.depth; d++) iteration.push(this.env[4 + d]);
    this.divergence = { instr: ins.id, loc: ins.loc, core: { x: c % W, y: Math.floor(c / W) }, iteration, predicted, measured };
  }

  span(c: number, ins: CInstr, start: number, end: number): void {
    const W = this.m.width;
    this.spans.push({ core: { x: c % W, y: Math.floor(c / W) }, region: this.lp.coreRegion[c], instr: ins.id, loc: ins.loc, op: ins.opName, start, end });
  }
  loopBegin(c: number, ins: CInstr, t: number): void { this.openSpans.set(c * 8 + ins.depth, t); }
  loopEnd(c: number, endIns: CInstr, t: number): void {
    const start = this.openSpans.get(c * 8 + endIns.depth);
    if (start !== undefined) this.span(c, this.lp.instrs[endIns.ix], start, t);
  }
  waitBegin(c: number, t: number): void { this.openSpans.set(c * 8 + 4, t); }

  private addLinkLoad(from: number, dur: number, words: number): void {
    const b = this.opts.bucketCycles;
    const last = Math.floor((from + dur - 1) / b);
    if (last >= this.linkLoad.length) {
      const g = new Float64Array(Math.max(last + 1, this.linkLoad.length * 2));
      g.set(this.linkLoad);
      this.linkLoad = g;
    }
    const perCycle = words / dur;
    for (let k = Math.floor(from / b); k <= last; k++) {
      const lo = Math.max(from, k * b), hi = Math.min(from + dur, (k + 1) * b);
      this.linkLoad[k] += (hi - lo) * perCycle;
    }
  }

  /**
   * Resumes core c at cycle `at` (global event cycle `now` ≤ at): after a wait whose completions are
   * all known, at the end of its kernel, or (state RUNNING) to re-check a possible race.
   */
  private step(c: number, at: number, now: number): void {
    const cs = this.cs;
    const st = cs.state[c];
    if (st === CORE_WAITING || st === CORE_FINISHING) {
      const waited = at - cs.waitStart[c];
      const ri = this.lp.coreRegion[c];
      this.stats.regionComm[ri] += waited;
      cs.clearXfers(c);
      if (st === CORE_FINISHING) {
        cs.finish[c] = at;
        cs.state[c] = CORE_DONE;
        return;
      }
      // The wait instruction precedes pc; its issue cycle was counted when it blocked.
      const code = this.lp.regions[ri].kernel.code;
      const w = code[cs.pc[c] - 1];
      this.stats.instrCycles[w.ix] += waited;
      if (this.sampleOf !== null && this.sampleOf[c] >= 0) this.span(c, w, this.openSpans.get(c * 8 + 4) ?? cs.waitStart[c], at);
      cs.state[c] = CORE_RUNNING;
      cs.clock[c] = at;
    } else if (st !== CORE_RUNNING) return;
    runCore(this, c, now);
  }

  /** Resumes every core whose wait ended (CoreState.ready), including those that resuming readies. */
  private drainReady(now: number): void {
    const cs = this.cs;
    for (let i = 0; i < cs.readyN; i++) {
      const c = cs.ready[i];
      this.events++;
      const at = cs.clock[c] > cs.maxKnown[c] ? cs.clock[c] : cs.maxKnown[c];
      this.step(c, at, now);
    }
    cs.readyN = 0;
  }

  run(): void {
    const cs = this.cs, lp = this.lp, m = this.m;
    for (const r of lp.regions) {
      for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) cs.state[(r.y0 + y) * m.width + r.x0 + x] = CORE_RUNNING;
    }
    // Cycle 0: every core steps once, in core order (the order core-step events of one cycle take).
    for (let c = 0; c < m.cores; c++) {
      if (cs.state[c] !== CORE_RUNNING) continue;
      this.events++;
      runCore(this, c, 0);
      if (cs.readyN > 0) this.drainReady(0);
    }
    const heap = this.heap, fabric = this.fabric;
    const max = this.opts.maxEvents;
    while (heap.pop()) {
      if (++this.events > max) throw this.overBudget();
      const now = heap.popTime;
      if (heap.popKind === EV_CORE) this.step(heap.popId, now, now);
      else fabric.onEvent(heap.popId, heap.popKey, now);
      if (cs.readyN > 0) this.drainReady(now);
    }
    for (let c = 0; c < m.cores; c++) {
      if (cs.state[c] !== CORE_DONE && cs.state[c] !== CORE_IDLE) throw deadlockError(this);
    }
    const left = fabric.unconsumed();
    if (left.length > 0) {
      const W = m.width, at = (c: number) => `(${c % W},${Math.floor(c / W)})`;
      const colours = lp.routes.colours;
      const shown = left.slice(0, 10).map((u) => `  a stream from core ${at(u.sender)} (${this.describeInstr(u.instr)}) waits in the colour ${colours[u.ci]} buffer of core ${at(u.core)}`);
      throw new DiagnosticError({
        code: 'W6006',
        message: [`the run ended with ${left.length} stream${left.length === 1 ? '' : 's'} that no receive took`, ...shown, ...(left.length > 10 ? [`  ... and ${left.length - 10} more`] : [])].join('\n'),
        location: `core ${at(left[0].core)}, colour ${colours[left[0].ci]}`,
        hint: 'Add the missing receives, or remove the sends.',
      });
    }
  }
}
