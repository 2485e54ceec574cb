/**
 * Record pools of the fabric as structs of growable typed arrays with free lists: streams (a posted
 * send, or the outgoing side of a forward), receives (a posted recv or the incoming side of a
 * forward), channels (the state of one (core, colour): its unmatched receives, its queue of pending
 * sends, the streams blocked on it, its eagerly buffered streams) and buffer entries (an eager
 * stream held in a channel's colour buffer). Indices are stable while a record is live.
 */

type Arr = Int32Array | Uint8Array | Float64Array;

function grown<T extends Arr>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Base: allocation with a free list threaded through `link` (an Int32Array field of the pool). */
abstract class Pool {
  protected cap = 256;
  private used = 0;
  private freeList = -1;
  live = 0;
  /** Records ever allocated (indices below this may be live). */
  get size(): number { return this.used; }
  protected abstract link(): Int32Array;
  protected abstract grow(n: number): void;
  alloc(): number {
    this.live++;
    if (this.freeList >= 0) {
      const i = this.freeList;
      this.freeList = this.link()[i];
      return i;
    }
    if (this.used === this.cap) { this.cap *= 2; this.grow(this.cap); }
    return this.used++;
  }
  free(i: number): void {
    this.live--;
    this.link()[i] = this.freeList;
    this.freeList = i;
  }
}

export const S_FREE = 0;
export const S_QUEUED = 1;
export const S_HEAD = 2;

export const SK_SEND = 0;
export const SK_FORWARD = 1;

export class StreamPool extends Pool {
  sender = new Int32Array(this.cap);
  ci = new Int32Array(this.cap);
  elems = new Int32Array(this.cap);
  words = new Int32Array(this.cap);
  type = new Uint8Array(this.cap);
  post = new Float64Array(this.cap);
  /** Tie-breaker among stream starts of one cycle: sender core, then posting order. */
  order = new Float64Array(this.cap);
  kind = new Uint8Array(this.cap);
  state = new Uint8Array(this.cap);
  nextQ = new Int32Array(this.cap);
  nextWait = new Int32Array(this.cap);
  waitChan = new Int32Array(this.cap);
  /** 1 when parked on its wait channel's send side. */
  waitSend = new Uint8Array(this.cap);
  evAt = new Float64Array(this.cap);
  /** Functional mode: absolute index of the source data in the sender's region image. */
  srcAbs = new Int32Array(this.cap);
  instr = new Int32Array(this.cap);
  /** The sender's transfer record (for a forward: the forward's). */
  xfer = new Int32Array(this.cap);
  /** Forward streams fed from a colour buffer start on their own (not in lockstep). */
  indep = new Uint8Array(this.cap);
  ready = new Float64Array(this.cap);
  bufEntry = new Int32Array(this.cap);
  /** The channel whose send queue holds the stream. */
  chan = new Int32Array(this.cap);
  /** Offset of its path in the route table's pool (−1: not looked up yet). */
  path = new Int32Array(this.cap);
  protected link(): Int32Array { return this.nextQ; }
  protected grow(n: number): void {
    this.sender = grown(this.sender, n); this.ci = grown(this.ci, n); this.elems = grown(this.elems, n);
    this.words = grown(this.words, n); this.type = grown(this.type, n); this.post = grown(this.post, n);
    this.order = grown(this.order, n); this.kind = grown(this.kind, n); this.state = grown(this.state, n);
    this.nextQ = grown(this.nextQ, n); this.nextWait = grown(this.nextWait, n); this.waitChan = grown(this.waitChan, n); this.waitSend = grown(this.waitSend, n);
    this.evAt = grown(this.evAt, n); this.srcAbs = grown(this.srcAbs, n);
    this.instr = grown(this.instr, n); this.xfer = grown(this.xfer, n); this.indep = grown(this.indep, n);
    this.ready = grown(this.ready, n); this.bufEntry = grown(this.bufEntry, n); this.chan = grown(this.chan, n);
    this.path = grown(this.path, n);
  }
}

export const RK_RECV = 0;
export const RK_FORWARD = 1;

export class RecvPool extends Pool {
  core = new Int32Array(this.cap);
  ci = new Int32Array(this.cap);
  elems = new Int32Array(this.cap);
  words = new Int32Array(this.cap);
  type = new Uint8Array(this.cap);
  post = new Float64Array(this.cap);
  kind = new Uint8Array(this.cap);
  combine = new Uint8Array(this.cap);
  /** Functional mode: absolute index of the destination (recv) or combine operand (forward). */
  dstAbs = new Int32Array(this.cap);
  round = new Uint8Array(this.cap);
  next = new Int32Array(this.cap);
  /** Forward: its outgoing stream. */
  out = new Int32Array(this.cap);
  xfer = new Int32Array(this.cap);
  instr = new Int32Array(this.cap);
  /** Evaluation epoch that tentatively matched it (one receive serves one stream). */
  claim = new Int32Array(this.cap);
  protected link(): Int32Array { return this.next; }
  protected grow(n: number): void {
    this.core = grown(this.core, n); this.ci = grown(this.ci, n); this.elems = grown(this.elems, n);
    this.words = grown(this.words, n); this.type = grown(this.type, n); this.post = grown(this.post, n);
    this.kind = grown(this.kind, n); this.combine = grown(this.combine, n); this.dstAbs = grown(this.dstAbs, n);
    this.round = grown(this.round, n); this.next = grown(this.next, n); this.out = grown(this.out, n);
    this.xfer = grown(this.xfer, n); this.instr = grown(this.instr, n); this.claim = grown(this.claim, n);
  }
}

export class ChanPool extends Pool {
  core = new Int32Array(this.cap);
  ci = new Int32Array(this.cap);
  recvHead = new Int32Array(this.cap);
  recvTail = new Int32Array(this.cap);
  sendHead = new Int32Array(this.cap);
  sendTail = new Int32Array(this.cap);
  waitHead = new Int32Array(this.cap);
  waitTail = new Int32Array(this.cap);
  sendWaitHead = new Int32Array(this.cap);
  sendWaitTail = new Int32Array(this.cap);
  bufHead = new Int32Array(this.cap);
  bufTail = new Int32Array(this.cap);
  /** First buffered entry no receive has consumed yet (−1: none). */
  bufFree = new Int32Array(this.cap);
  /** Words tentatively buffered by the evaluation of epoch evalStamp. */
  evalStamp = new Int32Array(this.cap);
  evalWords = new Int32Array(this.cap);
  protected link(): Int32Array { return this.recvHead; }
  protected grow(n: number): void {
    this.core = grown(this.core, n); this.ci = grown(this.ci, n); this.recvHead = grown(this.recvHead, n);
    this.recvTail = grown(this.recvTail, n); this.sendHead = grown(this.sendHead, n); this.sendTail = grown(this.sendTail, n);
    this.waitHead = grown(this.waitHead, n); this.waitTail = grown(this.waitTail, n);
    this.sendWaitHead = grown(this.sendWaitHead, n); this.sendWaitTail = grown(this.sendWaitTail, n); this.bufHead = grown(this.bufHead, n);
    this.bufTail = grown(this.bufTail, n); this.bufFree = grown(this.bufFree, n); this.evalStamp = grown(this.evalStamp, n);
    this.evalWords = grown(this.evalWords, n);
  }
  init(i: number, core: number, ci: number): void {
    this.core[i] = core; this.ci[i] = ci;
    this.recvHead[i] = -1; this.recvTail[i] = -1; this.sendHead[i] = -1; this.sendTail[i] = -1;
    this.waitHead[i] = -1; this.waitTail[i] = -1; this.sendWaitHead[i] = -1; this.sendWaitTail[i] = -1; this.bufHead[i] = -1; this.bufTail[i] = -1; this.bufFree[i] = -1;
    this.evalStamp[i] = 0; this.evalWords[i] = 0;
  }
}

export class BufPool extends Pool {
  words = new Int32Array(this.cap);
  elems = new Int32Array(this.cap);
  type = new Uint8Array(this.cap);
  /** Cycle its first word arrived at the destination. */
  arrive = new Float64Array(this.cap);
  /** Cycles its words occupy a link. */
  dur = new Float64Array(this.cap);
  /** Cycle the buffer space is released (−1: not known yet). */
  release = new Float64Array(this.cap);
  next = new Int32Array(this.cap);
  sender = new Int32Array(this.cap);
  instr = new Int32Array(this.cap);
  ci = new Int32Array(this.cap);
  protected link(): Int32Array { return this.next; }
  protected grow(n: number): void {
    this.words = grown(this.words, n); this.elems = grown(this.elems, n); this.type = grown(this.type, n);
    this.arrive = grown(this.arrive, n); this.dur = grown(this.dur, n); this.release = grown(this.release, n);
    this.next = grown(this.next, n); this.sender = grown(this.sender, n); this.instr = grown(this.instr, n);
    this.ci = grown(this.ci, n);
  }
}
