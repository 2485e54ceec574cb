/**
 * The fabric: posted sends and receives, and the stream start rule of docs/runtime-model.md
 * ("Transfers"). A stream is evaluated at a cycle `now` (in global event order) and either starts
 * exactly then — reserving every link of its path, and of the chain of forwards it feeds, for the
 * cycles its words cross them — or is re-scheduled at the earliest cycle it could start as far as
 * is known (links busy, a receive posted later, buffer space released later), or parks on the wait
 * list of the channel (core, colour) whose change it needs (a receive to be posted, a buffered
 * stream to be consumed, an earlier send of a forwarding core to start) — or both, when a buffer
 * entry's release is not known yet and may turn out earlier than the cycle it is re-scheduled at.
 *
 * Decisions depend only on simulated time, never on how far cores have run ahead: a chain's
 * conditions 1–2 are all checked at the head's evaluation cycle `now` (every receive along the
 * chain posted by then, colour buffers with room then), and everything a decision at `now` reads is
 * fixed by then — every receive posted by `now` is registered (cores post at their local cycle,
 * which is ≥ the global one) and every release ≤ `now` is known. Whatever was registered early
 * (a receive whose posting cycle is still ahead) counts only from its posting cycle. So the outcome
 * is what the spec says whatever the processing order. Completion cycles are known when a stream
 * starts; they are handed to the cores' transfer records at once (completions take effect at the
 * start of their cycle, before core steps and stream starts of that cycle, as their priority says).
 * Values (functional mode) move at the start too, which is equivalent: the race check forbids
 * touching a range in flight.
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import { MEM_TYPES } from './loader-kernel.js';
import { combineValue, roundTo } from './compute.js';
import { EventHeap, PRIO_SCALE, PRIO_STREAM_START } from './executor-heap.js';
import { CoreState, EV_STREAM } from './executor-state.js';
import type { RegionMemory } from './executor-sram.js';
import { LINKS_PER_ROUTER, type Machine } from './machine.js';
import type { RouteTable } from './routes.js';
import { BufPool, ChanPool, RecvPool, RK_FORWARD, RK_RECV, S_FREE, S_HEAD, S_QUEUED, SK_FORWARD, SK_SEND, StreamPool } from './streams-pool.js';

/** Hooks the fabric needs from the executor (diagnostic texts, functional memory). */
export interface FabricHost {
  describeInstr(id: number): string;
  memOf(core: number): RegionMemory | undefined;
  /** Link-load trace: words crossing a router-to-router link during [from, from + dur). */
  linkLoad?(from: number, dur: number, words: number): void;
}

const NO_VALUES: (Float32Array | undefined)[] = [];
const MODE_RDV = 0;
const MODE_BUF = 1;

export class Fabric {
  readonly S = new StreamPool();
  readonly R = new RecvPool();
  readonly C = new ChanPool();
  readonly B = new BufPool();
  /** Per colour index: channel id of each core (−1: none yet). */
  private readonly chanOf: (Int32Array | undefined)[];
  /** Link busy-until per link direction (core·6 + port). */
  readonly busy: Float64Array;
  /** Busy cycles per router-to-router link direction (statistics). */
  readonly linkCycles: Float64Array;
  wordHops = 0;
  streams = 0;
  private epoch = 0;
  /** Stream-start tie key: sender core · 2^counterBits + per-core counter. */
  private readonly counterScale: number;
  private readonly sendCount: Float64Array;
  /** Functional mode: values of forward streams fed from a colour buffer, and of buffered streams. */
  private readonly sVals: (Float32Array | undefined)[] = [];
  private readonly bVals: (Float32Array | undefined)[] = [];

  // One evaluation's chain (streams and their start offsets) and per-destination decisions: typed
  // scratch arrays with explicit counts, grown on demand (chains are short; multicasts can be wide).
  private chS = new Int32Array(64);
  private chO = new Float64Array(64);
  private chN = 0;
  private dK = new Int32Array(64);
  private dDest = new Int32Array(64);
  private dHops = new Int32Array(64);
  private dChan = new Int32Array(64);
  private dRecv = new Int32Array(64);
  private dMode = new Uint8Array(64);
  private dChild = new Int32Array(64);

  constructor(
    private readonly m: Machine,
    private readonly routes: RouteTable,
    private readonly cores: CoreState,
    private readonly heap: EventHeap,
    private readonly host: FabricHost,
    private readonly functional: boolean,
  ) {
    this.chanOf = routes.colours.map(() => undefined);
    this.busy = new Float64Array(m.cores * LINKS_PER_ROUTER);
    this.linkCycles = new Float64Array(m.cores * LINKS_PER_ROUTER);
    const coreBits = Math.max(1, Math.ceil(Math.log2(m.cores + 1)));
    this.counterScale = 2 ** Math.max(8, 50 - coreBits);
    this.sendCount = new Float64Array(m.cores);
  }

  private dur(words: number): number {
    return this.m.wordsPerCycle === 1 ? words : Math.ceil(words / this.m.wordsPerCycle);
  }

  chan(core: number, ci: number): number {
    let a = this.chanOf[ci];
    if (!a) { a = new Int32Array(this.m.cores).fill(-1); this.chanOf[ci] = a; }
    let c = a[core];
    if (c < 0) { c = this.C.alloc(); this.C.init(c, core, ci); a[core] = c; }
    return c;
  }

  /** Channel id if it exists (no allocation), −1 otherwise. */
  chanIfAny(core: number, ci: number): number {
    const a = this.chanOf[ci];
    return a ? a[core] : -1;
  }

  // ---- posting (called by cores, at their local cycle `post` ≥ the global cycle) ---------------

  private newStream(core: number, ci: number, elems: number, words: number, type: number, post: number, kind: number, instr: number, xfer: number, srcAbs: number): number {
    const S = this.S;
    const s = S.alloc();
    S.sender[s] = core; S.ci[s] = ci; S.elems[s] = elems; S.words[s] = words; S.type[s] = type; S.post[s] = post;
    S.kind[s] = kind; S.nextQ[s] = -1; S.nextWait[s] = -1; S.waitChan[s] = -1; S.evAt[s] = -1; S.instr[s] = instr;
    S.xfer[s] = xfer; S.indep[s] = 0; S.ready[s] = 0; S.bufEntry[s] = -1; S.srcAbs[s] = srcAbs; S.path[s] = -1;
    S.order[s] = core * this.counterScale + (this.sendCount[core]++ % this.counterScale);
    const ch = this.chan(core, ci);
    S.chan[s] = ch;
    const C = this.C;
    if (C.sendTail[ch] < 0) { C.sendHead[ch] = s; S.state[s] = S_HEAD; } else { S.nextQ[C.sendTail[ch]] = s; S.state[s] = S_QUEUED; }
    C.sendTail[ch] = s;
    return s;
  }

  postSend(core: number, ci: number, elems: number, words: number, type: number, post: number, instr: number, xfer: number, srcAbs: number): void {
    const s = this.newStream(core, ci, elems, words, type, post, SK_SEND, instr, xfer, srcAbs);
    if (this.S.state[s] === S_HEAD) this.arm(s, post);
  }

  /** A recv (out = −1) or a forward (out: its outgoing colour index) posted at `post`. */
  postRecv(core: number, ci: number, elems: number, words: number, type: number, post: number, combine: number, dstAbs: number, round: number,
    instr: number, xfer: number, outCi: number, now: number): void {
    const R = this.R;
    const r = R.alloc();
    R.core[r] = core; R.ci[r] = ci; R.elems[r] = elems; R.words[r] = words; R.type[r] = type; R.post[r] = post;
    R.combine[r] = combine; R.dstAbs[r] = dstAbs; R.round[r] = round; R.next[r] = -1; R.xfer[r] = xfer; R.instr[r] = instr; R.claim[r] = 0;
    if (outCi >= 0) {
      R.kind[r] = RK_FORWARD;
      R.out[r] = this.newStream(core, outCi, elems, words, type, post, SK_FORWARD, instr, xfer, -1);
    } else {
      R.kind[r] = RK_RECV;
      R.out[r] = -1;
    }
    const ch = this.chan(core, ci);
    const C = this.C;
    const e = C.bufFree[ch];
    if (e >= 0) {
      C.bufFree[ch] = this.B.next[e];
      this.consume(e, r, now);
      return;
    }
    if (C.recvTail[ch] < 0) C.recvHead[ch] = r; else R.next[C.recvTail[ch]] = r;
    C.recvTail[ch] = r;
    this.wake(ch, post);
  }

  // ---- scheduling ----------------------------------------------------------------------------

  /**
   * First scheduling of a stream that became ready to be considered at t (head of its send queue,
   * posted). A stream too long for the colour buffer cannot start before its direct destinations
   * have posted receives, and a channel's receives are posted in non-decreasing cycles, so the
   * evaluation goes straight to the latest of their posting cycles, or parks on the channel of a
   * destination that has none registered yet. (Only saves events: evaluate() decides.)
   */
  private arm(s: number, t: number): void {
    const S = this.S, C = this.C, R = this.R;
    if (S.words[s] > this.m.queueWords) {
      const p = this.pathOf(s);
      const P = this.routes.pool;
      const nDest = P[p];
      for (let j = 0; j < nDest; j++) {
        const ch = this.chan(P[p + 3 + 2 * j], S.ci[s]);
        const r = C.recvHead[ch];
        if (r < 0) { this.block(s, ch); return; }
        if (R.post[r] > t) t = R.post[r];
      }
    }
    this.schedule(s, t);
  }

  private schedule(s: number, t: number): void {
    const S = this.S;
    if (S.evAt[s] >= 0 && S.evAt[s] <= t) return;
    S.evAt[s] = t;
    this.heap.push(t, PRIO_STREAM_START * PRIO_SCALE + S.order[s], EV_STREAM, s);
  }

  /**
   * An EV_STREAM event popped: evaluate it unless it is stale — superseded by an earlier one
   * (evAt moved), or the stream started and its record was reused (its order key differs).
   */
  onEvent(s: number, key: number, now: number): void {
    const S = this.S;
    if (S.state[s] === S_FREE || S.evAt[s] !== now || key !== PRIO_STREAM_START * PRIO_SCALE + S.order[s]) return;
    S.evAt[s] = -1;
    if (S.waitChan[s] >= 0) this.unpark(s);
    this.evaluate(s, now);
  }

  /**
   * Parks stream s on a wait list of channel ch: the receive side (woken when a receive is posted
   * there or buffer space is released) or, with `sendSide`, the send side (woken when the head of
   * the channel's send queue changes: a chain waiting for a forwarding core's earlier sends).
   */
  private block(s: number, ch: number, sendSide = false): void {
    const S = this.S, C = this.C;
    if (S.waitChan[s] >= 0) this.unpark(s);
    S.evAt[s] = -1;
    S.waitChan[s] = ch;
    S.waitSend[s] = sendSide ? 1 : 0;
    S.nextWait[s] = -1;
    const head = sendSide ? C.sendWaitHead : C.waitHead, tail = sendSide ? C.sendWaitTail : C.waitTail;
    if (tail[ch] < 0) head[ch] = s; else S.nextWait[tail[ch]] = s;
    tail[ch] = s;
  }

  /** Takes a parked stream off its wait list (it is evaluated on a timer before the wake came). */
  private unpark(s: number): void {
    const S = this.S, C = this.C;
    const ch = S.waitChan[s];
    const head = S.waitSend[s] ? C.sendWaitHead : C.waitHead, tail = S.waitSend[s] ? C.sendWaitTail : C.waitTail;
    let prev = -1;
    for (let x = head[ch]; x >= 0; prev = x, x = S.nextWait[x]) {
      if (x !== s) continue;
      if (prev < 0) head[ch] = S.nextWait[x]; else S.nextWait[prev] = S.nextWait[x];
      if (tail[ch] === s) tail[ch] = prev;
      break;
    }
    S.waitChan[s] = -1;
    S.nextWait[s] = -1;
  }

  private wake(ch: number, t: number, sendSide = false): void {
    const S = this.S, C = this.C;
    const head = sendSide ? C.sendWaitHead : C.waitHead, tail = sendSide ? C.sendWaitTail : C.waitTail;
    let s = head[ch];
    if (s < 0) return;
    head[ch] = -1;
    tail[ch] = -1;
    while (s >= 0) {
      const n = S.nextWait[s];
      S.waitChan[s] = -1;
      S.nextWait[s] = -1;
      this.schedule(s, t);
      s = n;
    }
  }

  // ---- the start rule ------------------------------------------------------------------------

  private pathOf(s: number): number {
    const S = this.S;
    let p = S.path[s];
    if (p >= 0) return p;
    p = this.routes.path(S.sender[s], S.ci[s]);
    if (p < 0) {
      const d = this.routes.pathError(S.sender[s], S.ci[s])!;
      throw new DiagnosticError({ ...d, location: `${d.location}, ${this.host.describeInstr(S.instr[s])}` });
    }
    S.path[s] = p;
    return p;
  }

  /**
   * Buffered words of channel ch still held at the global cycle `now` (which never goes back).
   * Entries released by then are dropped from the front of the list; the others count, including
   * those whose release is not known yet (a release ≤ now is always known by now: it is fixed when
   * the consuming receive is registered or the relaying forward's stream starts, never later).
   */
  private occupancy(ch: number, now: number): number {
    const C = this.C, B = this.B;
    let e = C.bufHead[ch];
    while (e >= 0 && B.release[e] >= 0 && B.release[e] <= now) {
      const n = B.next[e];
      this.bVals[e] = undefined;
      B.free(e);
      e = n;
    }
    C.bufHead[ch] = e;
    if (e < 0) C.bufTail[ch] = -1;
    let occ = 0;
    for (; e >= 0; e = B.next[e]) if (B.release[e] < 0 || B.release[e] > now) occ += B.words[e];
    return occ;
  }

  /** Buffered streams no receive has taken (checked at the end of a run). */
  unconsumed(): { core: number; ci: number; sender: number; instr: number }[] {
    const out = [];
    for (let ch = 0; ch < this.C.size; ch++) {
      for (let e = this.C.bufFree[ch]; e >= 0; e = this.B.next[e]) out.push({ core: this.C.core[ch], ci: this.C.ci[ch], sender: this.B.sender[e], instr: this.B.instr[e] });
    }
    return out;
  }

  /** Whether some buffered entry of ch has a release cycle not known yet (it is > the global cycle). */
  private releasePending(ch: number): boolean {
    const B = this.B;
    for (let e = this.C.bufHead[ch]; e >= 0; e = B.next[e]) if (B.release[e] < 0) return true;
    return false;
  }

  /** Earliest known release after t among ch's buffered entries (Infinity: none known). */
  private nextRelease(ch: number, t: number): number {
    const B = this.B;
    let best = Infinity;
    for (let e = this.C.bufHead[ch]; e >= 0; e = B.next[e]) if (B.release[e] > t && B.release[e] < best) best = B.release[e];
    return best;
  }

  evaluate(h: number, now: number): void {
    const S = this.S, R = this.R, C = this.C, m = this.m;
    if (S.state[h] !== S_HEAD) return;
    let ready: number;
    if (S.kind[h] === SK_SEND) ready = S.post[h];
    else if (S.indep[h]) ready = S.ready[h];
    else return; // a forward's stream starts with the chain that feeds it
    if (ready > now) { this.schedule(h, ready); return; }
    const epoch = ++this.epoch;
    this.chN = 0;
    this.pushChain(h, 0);
    let nd = 0;
    let lb = -1;
    let feasible = true;
    /** A channel holding buffered words whose release is not known yet (it may turn out earlier than lb). */
    let park = -1;
    const Q = m.queueWords;
    for (let k = 0; k < this.chN; k++) {
      const s = this.chS[k], o = this.chO[k];
      const p = this.pathOf(s);
      const nDest = this.routes.pool[p];
      const ci = S.ci[s];
      const words = S.words[s];
      for (let j = 0; j < nDest; j++) {
        const P = this.routes.pool;
        const d = P[p + 3 + 2 * j], hops = P[p + 4 + 2 * j];
        const ch = this.chan(d, ci);
        let r = C.recvHead[ch];
        while (r >= 0 && R.claim[r] === epoch) r = R.next[r];
        if (r >= 0 && R.post[r] <= now) {
          R.claim[r] = epoch;
          let child = -1;
          if (R.kind[r] === RK_FORWARD) {
            const out = R.out[r];
            const och = S.chan[out];
            if (C.sendHead[och] !== out) { this.block(h, och, true); return; }
            child = this.chN;
            this.pushChain(out, o + 2 * m.ramp + hops * m.hop + m.relay);
          }
          this.decide(nd++, k, d, hops, ch, r, MODE_RDV, child);
          continue;
        }
        if (words <= Q) {
          const extra = C.evalStamp[ch] === epoch ? C.evalWords[ch] : 0;
          if (this.occupancy(ch, now) + extra + words <= Q) {
            if (r >= 0) R.claim[r] = epoch;
            C.evalStamp[ch] = epoch;
            C.evalWords[ch] = extra + words;
            this.decide(nd++, k, d, hops, ch, r, MODE_BUF, -1);
            continue;
          }
          let t1 = this.nextRelease(ch, now);
          if (r >= 0 && R.post[r] < t1) t1 = R.post[r];
          if (t1 === Infinity) { this.block(h, ch); return; }
          if (park < 0 && this.releasePending(ch)) park = ch;
          if (t1 > lb) lb = t1;
          feasible = false;
          continue;
        }
        if (r >= 0) {
          if (R.post[r] > lb) lb = R.post[r];
          feasible = false;
          continue;
        }
        this.block(h, ch);
        return;
      }
    }
    const busy = this.busy;
    const P = this.routes.pool;
    for (let k = 0; k < this.chN; k++) {
      const p = S.path[this.chS[k]];
      const nDest = P[p], nLinks = P[p + 1];
      const base = p + 3 + 2 * nDest;
      const o = this.chO[k];
      for (let j = 0; j < nLinks; j++) {
        const id = P[base + 2 * j], e = P[base + 2 * j + 1];
        const b = busy[id];
        if (b > now + o + e) {
          feasible = false;
          if (b - o - e > lb) lb = b - o - e;
        }
      }
    }
    if (!feasible) {
      // Re-evaluated at the earliest cycle known now, or earlier if a release becomes known first.
      if (park >= 0) this.block(h, park);
      this.schedule(h, lb > now ? lb : now + 1);
      return;
    }
    this.commit(now, nd);
  }

  private pushChain(s: number, offset: number): void {
    if (this.chN === this.chS.length) {
      const n = this.chN * 2;
      const a = new Int32Array(n); a.set(this.chS); this.chS = a;
      const b = new Float64Array(n); b.set(this.chO); this.chO = b;
    }
    this.chS[this.chN] = s;
    this.chO[this.chN++] = offset;
  }

  private decide(i: number, k: number, d: number, hops: number, ch: number, r: number, mode: number, child: number): void {
    if (i === this.dK.length) {
      const n = i * 2;
      const g = <T extends Int32Array | Uint8Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(n); b.set(a); return b; };
      this.dK = g(this.dK); this.dDest = g(this.dDest); this.dHops = g(this.dHops); this.dChan = g(this.dChan);
      this.dRecv = g(this.dRecv); this.dMode = g(this.dMode); this.dChild = g(this.dChild);
    }
    this.dK[i] = k; this.dDest[i] = d; this.dHops[i] = hops; this.dChan[i] = ch;
    this.dRecv[i] = r; this.dMode[i] = mode; this.dChild[i] = child;
  }

  private unlinkRecv(ch: number, r: number): void {
    const C = this.C, R = this.R;
    let prev = -1;
    for (let x = C.recvHead[ch]; x >= 0; prev = x, x = R.next[x]) {
      if (x !== r) continue;
      if (prev < 0) C.recvHead[ch] = R.next[x]; else R.next[prev] = R.next[x];
      if (C.recvTail[ch] === r) C.recvTail[ch] = prev;
      return;
    }
  }

  private mismatch(sender: number, sInstr: number, elems: number, sType: number, ci: number, r: number): DiagnosticError {
    const R = this.R, W = this.m.width;
    const at = (c: number) => `(${c % W},${Math.floor(c / W)})`;
    const colour = this.routes.colours[ci];
    return new DiagnosticError({
      code: 'W6003',
      message: `a stream of ${elems} ${MEM_TYPES[sType]} elements from core ${at(sender)} (${this.host.describeInstr(sInstr)}) on colour ${colour} met a receive of ${R.elems[r]} ${MEM_TYPES[R.type[r]]} elements at core ${at(R.core[r])} (${this.host.describeInstr(R.instr[r])})`,
      location: `core ${at(R.core[r])}, colour ${colour}, ${this.host.describeInstr(R.instr[r])}`,
      hint: "The sender's and receiver's counts (and element types) must agree.",
    });
  }

  private checkMatch(elems: number, words: number, type: number, sender: number, sInstr: number, ci: number, r: number): void {
    const R = this.R;
    if (R.elems[r] !== elems || R.words[r] !== words) throw this.mismatch(sender, sInstr, elems, type, ci, r);
  }

  /** Applies incoming values to a receive's destination (recv) in its core's image. */
  private deliver(r: number, vals: Float32Array): void {
    const R = this.R;
    const mem = this.host.memOf(R.core[r])!.mem;
    const d = R.dstAbs[r], comb = R.combine[r], round = R.round[r];
    for (let i = 0; i < vals.length; i++) mem[d + i] = roundTo(round, combineValue(comb, mem[d + i], vals[i]));
  }

  /** A forward's outgoing values: in ⊕ its buffer, rounded to its type. */
  private forwardValues(r: number, vals: Float32Array): Float32Array {
    const R = this.R;
    const comb = R.combine[r], round = R.round[r];
    const out = new Float32Array(vals.length);
    if (comb === 0) { for (let i = 0; i < vals.length; i++) out[i] = roundTo(round, vals[i]); return out; }
    const mem = this.host.memOf(R.core[r])!.mem;
    const b = R.dstAbs[r];
    for (let i = 0; i < vals.length; i++) out[i] = roundTo(round, combineValue(comb, mem[b + i], vals[i]));
    return out;
  }

  private commit(now: number, nd: number): void {
    const S = this.S, R = this.R, C = this.C, B = this.B, m = this.m;
    const chS = this.chS, chO = this.chO, chN = this.chN;
    const vals: (Float32Array | undefined)[] = this.functional ? new Array(chN) : NO_VALUES;
    let di = 0;
    for (let k = 0; k < chN; k++) {
      const s = chS[k];
      const t = now + chO[k];
      const words = S.words[s];
      const D = this.dur(words);
      const P = this.routes.pool;
      const p = S.path[s];
      const nDest = P[p], nLinks = P[p + 1], rr = P[p + 2];
      const base = p + 3 + 2 * nDest;
      if (D > 0) {
        for (let j = 0; j < nLinks; j++) {
          const id = P[base + 2 * j], e = P[base + 2 * j + 1];
          if (this.busy[id] > t + e) throw this.selfConflict(s, id);
          this.busy[id] = t + e + D;
          if (id % LINKS_PER_ROUTER < 4) {
            this.linkCycles[id] += D;
            if (this.host.linkLoad) this.host.linkLoad(t + e, D, words);
          }
        }
      }
      this.wordHops += words * rr;
      this.streams++;
      this.cores.xferDone(S.xfer[s], t + D);
      if (this.functional && vals[k] === undefined) {
        if (S.kind[s] === SK_SEND) {
          const mem = this.host.memOf(S.sender[s])!.mem;
          vals[k] = mem.slice(S.srcAbs[s], S.srcAbs[s] + S.elems[s]);
        } else {
          vals[k] = this.sVals[s];
          this.sVals[s] = undefined;
        }
      }
      if (S.indep[s]) {
        const e = S.bufEntry[s];
        B.release[e] = t + D;
        this.wake(this.chan(S.sender[s], B.ci[e]), now);
      }
      for (; di < nd && this.dK[di] === k; di++) {
        const r = this.dRecv[di], ch = this.dChan[di];
        const a = t + 2 * m.ramp + this.dHops[di] * m.hop;
        if (this.dMode[di] === MODE_RDV) {
          this.unlinkRecv(ch, r);
          this.checkMatch(S.elems[s], words, S.type[s], S.sender[s], S.instr[s], S.ci[s], r);
          if (R.kind[r] === RK_RECV) {
            if (this.functional) this.deliver(r, vals[k]!);
            this.cores.xferDone(R.xfer[r], a + D);
          } else if (this.functional) {
            vals[this.dChild[di]] = this.forwardValues(r, vals[k]!);
          }
          R.free(r);
        } else {
          const e = B.alloc();
          B.words[e] = words; B.elems[e] = S.elems[s]; B.type[e] = S.type[s]; B.arrive[e] = a; B.dur[e] = D;
          B.release[e] = -1; B.next[e] = -1; B.sender[e] = S.sender[s]; B.instr[e] = S.instr[s]; B.ci[e] = S.ci[s];
          if (this.functional) this.bVals[e] = vals[k];
          if (C.bufTail[ch] < 0) C.bufHead[ch] = e; else B.next[C.bufTail[ch]] = e;
          C.bufTail[ch] = e;
          if (r >= 0) {
            this.unlinkRecv(ch, r);
            this.consume(e, r, now);
          } else if (C.bufFree[ch] < 0) C.bufFree[ch] = e;
        }
      }
    }
    // Retire the chain's streams and advance their send queues.
    for (let k = 0; k < chN; k++) {
      const s = chS[k];
      const ch = S.chan[s];
      const next = S.nextQ[s];
      C.sendHead[ch] = next;
      if (next < 0) C.sendTail[ch] = -1;
      S.state[s] = S_FREE;
      S.evAt[s] = -1;
      S.free(s);
      if (next >= 0) {
        S.state[next] = S_HEAD;
        if (S.kind[next] === SK_SEND) this.arm(next, S.post[next] > now ? S.post[next] : now);
        else if (S.indep[next]) this.arm(next, S.ready[next] > now ? S.ready[next] : now);
      }
      this.wake(ch, now, true);
    }
  }

  /** A buffered stream e is taken by receive r (posted at R.post[r]); r is already off its queue. */
  private consume(e: number, r: number, now: number): void {
    const R = this.R, B = this.B, S = this.S;
    this.checkMatch(B.elems[e], B.words[e], B.type[e], B.sender[e], B.instr[e], B.ci[e], r);
    const p = R.post[r];
    const from = B.arrive[e] > p ? B.arrive[e] : p;
    const vals = this.bVals[e];
    if (R.kind[r] === RK_RECV) {
      const done = from + B.dur[e];
      B.release[e] = done;
      if (this.functional) this.deliver(r, vals!);
      this.cores.xferDone(R.xfer[r], done);
      this.wake(this.chan(R.core[r], R.ci[r]), now);
    } else {
      const out = R.out[r];
      S.indep[out] = 1;
      S.ready[out] = from + this.m.relay;
      S.bufEntry[out] = e;
      if (this.functional) this.sVals[out] = this.forwardValues(r, vals!);
      if (S.state[out] === S_HEAD) this.arm(out, S.ready[out] > now ? S.ready[out] : now);
    }
    this.bVals[e] = undefined;
    R.free(r);
  }

  private selfConflict(s: number, link: number): DiagnosticError {
    const W = this.m.width, c = Math.floor(link / LINKS_PER_ROUTER);
    return new DiagnosticError({
      code: 'W6001',
      message: `a chain of forwards started by ${this.host.describeInstr(this.S.instr[s])} would cross the link at router (${c % W},${Math.floor(c / W)}) twice at overlapping cycles; it can never start`,
      location: `router (${c % W},${Math.floor(c / W)})`,
      hint: 'Route the forwarded colours over different links.',
    });
  }
}

