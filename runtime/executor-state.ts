/**
 * Per-core executor state as a struct of typed arrays indexed by core id (no object per core), and
 * the pool of in-flight transfer records each core keeps in a short linked list: the SRAM range a
 * posted send / recv / forward reads or writes, and its completion cycle once known (−1 before its
 * stream starts). The list serves `wait` (block until no unknown completion remains), data-race
 * checks (W6002) and deadlock reports (W6001).
 */
import type { EventHeap } from './executor-heap.js';

export const CORE_IDLE = 0;
export const CORE_RUNNING = 1;
export const CORE_WAITING = 2;
export const CORE_FINISHING = 3;
export const CORE_DONE = 4;

export const EV_CORE = 0;
export const EV_STREAM = 1;

export const XF_SEND = 0;
export const XF_RECV = 1;
export const XF_FORWARD = 2;

export class CoreState {
  readonly cores: number;
  readonly heap: EventHeap;
  readonly state: Uint8Array;
  readonly pc: Int32Array;
  /** Local clock: the cycle the next instruction issues at (while waiting: the wait's issue end). */
  readonly clock: Float64Array;
  /** Loop counters and counts, 4 per core (i0..i3). */
  readonly iter: Int32Array;
  readonly count: Int32Array;
  /** Start of the current `wait` (or of the final implicit wait), for communication statistics. */
  readonly waitStart: Float64Array;
  readonly finish: Float64Array;
  readonly inflight: Int32Array;
  /** Posted transfers whose completion is not known yet. */
  readonly unknown: Int32Array;
  /** Latest known completion of the core's transfers. */
  readonly maxKnown: Float64Array;

  // transfer records
  xCore = new Int32Array(1024);
  xBuf = new Int32Array(1024);
  xOff = new Int32Array(1024);
  xLen = new Int32Array(1024);
  xWrite = new Uint8Array(1024);
  xKind = new Uint8Array(1024);
  xDone = new Float64Array(1024);
  xNext = new Int32Array(1024);
  xInstr = new Int32Array(1024);
  xColour = new Int32Array(1024);
  private xFree = -1;
  private xUsed = 0;

  constructor(cores: number, heap: EventHeap) {
    this.cores = cores;
    this.heap = heap;
    this.state = new Uint8Array(cores);
    this.pc = new Int32Array(cores);
    this.clock = new Float64Array(cores);
    this.iter = new Int32Array(cores * 4);
    this.count = new Int32Array(cores * 4);
    this.waitStart = new Float64Array(cores);
    this.finish = new Float64Array(cores);
    this.inflight = new Int32Array(cores).fill(-1);
    this.unknown = new Int32Array(cores);
    this.maxKnown = new Float64Array(cores);
  }

  private growX(): void {
    const n = this.xCore.length * 2;
    const g = <T extends Int32Array | Uint8Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(n); b.set(a); return b; };
    this.xCore = g(this.xCore); this.xBuf = g(this.xBuf); this.xOff = g(this.xOff); this.xLen = g(this.xLen);
    this.xWrite = g(this.xWrite); this.xKind = g(this.xKind); this.xDone = g(this.xDone); this.xNext = g(this.xNext);
    this.xInstr = g(this.xInstr); this.xColour = g(this.xColour);
  }

  /** Records a posted transfer of `core` touching [off, off+len) of physical buffer `buf`. */
  addXfer(core: number, buf: number, off: number, len: number, write: boolean, kind: number, instr: number, colour: number): number {
    let x = this.xFree;
    if (x >= 0) this.xFree = this.xNext[x];
    else {
      if (this.xUsed === this.xCore.length) this.growX();
      x = this.xUsed++;
    }
    this.xCore[x] = core; this.xBuf[x] = buf; this.xOff[x] = off; this.xLen[x] = len;
    this.xWrite[x] = write ? 1 : 0; this.xKind[x] = kind; this.xDone[x] = -1;
    this.xInstr[x] = instr; this.xColour[x] = colour;
    this.xNext[x] = this.inflight[core];
    this.inflight[core] = x;
    this.unknown[core]++;
    return x;
  }

  /** The transfer's completion cycle became known; wakes its core if that was the last one it waited for. */
  xferDone(x: number, time: number): void {
    this.xDone[x] = time;
    const c = this.xCore[x];
    if (time > this.maxKnown[c]) this.maxKnown[c] = time;
    if (--this.unknown[c] === 0) {
      const s = this.state[c];
      if (s === CORE_WAITING || s === CORE_FINISHING) {
        if (this.readyN === this.ready.length) { const g = new Int32Array(this.ready.length * 2); g.set(this.ready); this.ready = g; }
        this.ready[this.readyN++] = c;
      }
    }
  }

  /**
   * Cores whose wait (or final wait) ends at a now-known cycle, in the order they became ready. The
   * executor resumes them right away instead of queueing an event at that cycle: a core's actions
   * carry their own cycles and every decision depends on cycles only (docs/runtime-model.md,
   * "Events and determinism"), so resuming early changes nothing but the number of queued events.
   */
  ready = new Int32Array(1024);
  readyN = 0;

  /** Drops every transfer record of the core (after a completed wait: all are done). */
  clearXfers(core: number): void {
    let x = this.inflight[core];
    while (x >= 0) {
      const n = this.xNext[x];
      this.xNext[x] = this.xFree;
      this.xFree = x;
      x = n;
    }
    this.inflight[core] = -1;
  }

  /** Unlinks record x (prev: its predecessor in the core's list, or −1). */
  dropXfer(core: number, x: number, prev: number): void {
    if (prev < 0) this.inflight[core] = this.xNext[x];
    else this.xNext[prev] = this.xNext[x];
    this.xNext[x] = this.xFree;
    this.xFree = x;
  }
}
