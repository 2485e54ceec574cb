/**
 * The executor's event queue: a 4-ary min-heap over typed arrays (no object per event), ordered by
 * (cycle, key). The key packs the named priority above everything else (docs/runtime-model.md,
 * "Events and determinism"), then a deterministic tie-breaker chosen by the caller, so equal cycles
 * never fall back on insertion order. Cycle and key of an entry sit side by side in one
 * Float64Array and a node's four children are adjacent, so a level costs about one cache line:
 * at wafer scale the heap holds one entry per core and would otherwise miss the cache at every level.
 */

/** Named priorities, first to last within a cycle. */
export const PRIO_STREAM_COMPLETE = 0;
export const PRIO_CORE_STEP = 1;
export const PRIO_STREAM_START = 2;

/** Keys are prio·2^50 + tie, with tie < 2^50 (exact in a float64). */
export const PRIO_SCALE = 2 ** 50;

export class EventHeap {
  /** [cycle, key] per entry. */
  private tk = new Float64Array(2 * 1024);
  /** id · 2 + kind per entry. */
  private pay = new Int32Array(1024);
  size = 0;

  /** Fields of the last popped event. */
  popTime = 0;
  popKey = 0;
  popKind = 0;
  popId = 0;

  private grow(): void {
    const tk = new Float64Array(this.tk.length * 2); tk.set(this.tk); this.tk = tk;
    const p = new Int32Array(this.pay.length * 2); p.set(this.pay); this.pay = p;
  }

  /** Adds an event; kind is 0 or 1, id < 2^30. */
  push(time: number, key: number, kind: number, id: number): void {
    if (this.size === this.pay.length) this.grow();
    const tk = this.tk, pay = this.pay;
    const v = id * 2 + kind;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = tk[2 * p];
      if (pt < time || (pt === time && tk[2 * p + 1] <= key)) break;
      tk[2 * i] = pt; tk[2 * i + 1] = tk[2 * p + 1]; pay[i] = pay[p];
      i = p;
    }
    tk[2 * i] = time; tk[2 * i + 1] = key; pay[i] = v;
  }

  /** Removes the smallest event into popTime/popKey/popKind/popId; false when empty. */
  pop(): boolean {
    if (this.size === 0) return false;
    const tk = this.tk, pay = this.pay;
    this.popTime = tk[0];
    this.popKey = tk[1];
    this.popKind = pay[0] & 1;
    this.popId = pay[0] >> 1;
    const n = --this.size;
    if (n === 0) return true;
    const time = tk[2 * n], key = tk[2 * n + 1], v = pay[n];
    let i = 0;
    for (;;) {
      const c0 = 4 * i + 1;
      if (c0 >= n) break;
      // Smallest of up to four children.
      let c = c0;
      let ct = tk[2 * c0], ck = tk[2 * c0 + 1];
      const end = c0 + 4 < n ? c0 + 4 : n;
      for (let j = c0 + 1; j < end; j++) {
        const t = tk[2 * j];
        if (t < ct || (t === ct && tk[2 * j + 1] < ck)) { c = j; ct = t; ck = tk[2 * j + 1]; }
      }
      if (time < ct || (time === ct && key <= ck)) break;
      tk[2 * i] = ct; tk[2 * i + 1] = ck; pay[i] = pay[c];
      i = c;
    }
    tk[2 * i] = time; tk[2 * i + 1] = key; pay[i] = v;
    return true;
  }
}
