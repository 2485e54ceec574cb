/**
 * Exact timing of the allreduce kernels along one line of cores, from the rules of
 * docs/runtime-model.md (no event simulation): the cycle every instruction of every position issues,
 * every stream starts and every transfer completes, hence each position's finish. Every line of the
 * region runs the same code on its own links (rows use east/west links, columns north/south), so one
 * line's timing is the whole kernel's. Offsets are from the kernel's T0 (kernel.ts: every core starts
 * at T0 with no transfer in flight and empty colour buffers).
 *
 * Notation (docs/kernels-gemv.md): I issue, C comm, post = I + C, ρ ramp, α hop, β relay, Q the colour
 * buffer (words), w the words of a message, D = ⌈w / words-per-link-cycle⌉ its link cycles.
 *
 * The rules used, all from docs/runtime-model.md "Transfers":
 * - a stream from u to a destination h hops away that starts at t delivers its first word at
 *   a = t + 2ρ + hα; a receive posted at p completes at max(a, p) + D (rendezvous streams start only
 *   once p ≤ t, so then it is a + D); a send completes at t + D, a forward when its outgoing stream's
 *   last word leaves (its start + D);
 * - a chain of forwards starts in lockstep: the stream leaving forward k starts β after the first
 *   word reached it. A message of w > Q words needs every receive of the chain posted by the head's
 *   start, so the head waits: t0 = max_k P_k. A message of w ≤ Q words is eager: it never waits for
 *   a receive; one that meets a forward not posted by the head's start is buffered there and relayed
 *   at max(arrival, posting) + β, on its own, so start_k = max(arrival_{k−1}, P_k) + β;
 * - `wait` ends at max(issue + I, latest completion); a core finishes at max(its last issue end, its
 *   latest completion).
 * One condition is not assumed but checked on the computed schedule: every link is free when a
 * stream wants it (streams are given links in the order they start and never back-fill: LinkLog).
 * A plan failing it throws ScheduleInvariantError, which allreduceCost reports as W3007; the plans
 * are built so that K ≤ 2 never does.
 */
import { lanesFor, fillCycles, unaryCycles } from '../../ir/program-cost.js';
import { wordsFor, type MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { TreePlan } from './allreduce-plan.js';

/** The target figures the allreduce timing reads, under the names of docs/kernels-gemv.md. */
export interface LineFigures {
  issue: number;
  comm: number;
  /** issue + comm: a transfer instruction issued at t is posted at t + post. */
  post: number;
  loop: number;
  ramp: number;
  hop: number;
  relay: number;
  /** Colour buffer per (core, colour), words: messages of at most this many words are eager. */
  queueWords: number;
  /** 32-bit words a link moves per cycle. */
  wpc: number;
  R: number;
  W: number;
  /** FMA lanes of a unary op on buffers of the reduction's type. */
  lanes: number;
}

export function lineFigures(t: Target, type: MemType): LineFigures {
  return {
    issue: t.overhead.issue, comm: t.overhead.comm, post: t.overhead.issue + t.overhead.comm, loop: t.overhead.loop,
    ramp: t.link.rampLatency, hop: t.link.hopLatency, relay: t.relayCycles, queueWords: t.router.queueWords,
    wpc: t.link.bitsPerCycle / 32, R: t.sram.readWordsPerCycle, W: t.sram.writeWordsPerCycle, lanes: lanesFor(t, [type], type),
  };
}

/** A message of n elements: its words and link cycles. */
export interface Message {
  words: number;
  D: number;
}

export function message(f: LineFigures, type: MemType, n: number): Message {
  const words = wordsFor(type, n);
  return { words, D: Math.ceil(words / f.wpc) };
}

/** Cost of a `copy` of n elements, issue included. */
export function copyCost(f: LineFigures, n: number): number {
  return f.issue + unaryCycles(n, 1, f.lanes, f.R, f.W);
}

/** Cost of a `fill` of n elements, issue included. */
export function fillCost(f: LineFigures, n: number): number {
  return f.issue + fillCycles(n, f.W);
}

/** Timing of one line: each position's finish offset from T0, and the latest. */
export interface LineTiming {
  finish: number[];
  /** Where each position's last instruction ends (≤ finish; finish also waits for its transfers). */
  issueEnd: number[];
  cycles: number;
}

/**
 * A schedule the timing rules cannot vouch for: streams that could contend for a link. The plans are
 * built so that this does not happen for K ≤ 2; allreduceCost turns it into a W3007 diagnostic.
 */
export class ScheduleInvariantError extends Error {}

// ---- link bookkeeping (for the verification) ----------------------------------------------------

/** Link ids along a line: 4 per position (ramp out, ramp in, the + link to p+1, the − link to p−1). */
const RAMP_OUT = 0, RAMP_IN = 1, PLUS = 2, MINUS = 3;
const linkId = (p: number, kind: number): number => p * 4 + kind;

/**
 * Link occupancies of the streams of a schedule: per link, the cycle the stream was given its links
 * (the start of the head of its lockstep chain), the head's position (same-cycle starts go in core
 * order, and along a line the core id grows with the position) and the occupied interval.
 */
class LinkLog {
  readonly entries: { link: number; commit: number; head: number; from: number; to: number }[] = [];

  /** A stream from u starting at t, D cycles, given links at `commit` by the chain headed at `head`. */
  stream(f: LineFigures, u: number, dests: number[], t: number, D: number, commit: number, head: number): void {
    const add = (link: number, s: number) => this.entries.push({ link, commit, head, from: s, to: s + D });
    add(linkId(u, RAMP_OUT), t);
    for (const dir of [1, -1]) {
      const far = dests.reduce((m, d) => (Math.sign(d - u) === dir ? Math.max(m, Math.abs(d - u)) : m), 0);
      for (let j = 0; j < far; j++) add(linkId(u + j * dir, dir === 1 ? PLUS : MINUS), t + f.ramp + j * f.hop);
    }
    for (const d of dests) add(linkId(d, RAMP_IN), t + f.ramp + Math.abs(d - u) * f.hop);
  }

  /**
   * Verifies the link rule of docs/runtime-model.md on the logged schedule: on every link, a stream
   * given the link later must not enter it before every stream given it earlier has left it (no
   * back-filling), and one lockstep chain never uses a link twice.
   */
  check(what: string): void {
    const e = [...this.entries].sort((a, b) => a.link - b.link || a.commit - b.commit || a.head - b.head || a.from - b.from);
    let busy = -Infinity;
    for (let i = 0; i < e.length; i++) {
      if (i === 0 || e[i].link !== e[i - 1].link) busy = -Infinity;
      else if (e[i].commit === e[i - 1].commit && e[i].head === e[i - 1].head) busy = Infinity;
      if (e[i].from < busy) {
        throw new ScheduleInvariantError(`${what}: two streams would contend for the link of position ${e[i].link >> 2} (${['ramp out', 'ramp in', '+', '−'][e[i].link & 3]}) at cycle ${e[i].from}`);
      }
      busy = Math.max(busy, e[i].to);
    }
  }
}

// ---- chains of forwards ---------------------------------------------------------------------------

interface ChainResult {
  /** Start of the stream leaving member k (k = 0: the sender). */
  start: number[];
  /** Cycle each stream was given its links (the start of the head of its lockstep segment). */
  commit: number[];
  /** Index of the member heading each stream's lockstep segment. */
  head: number[];
  /** Completion of the root's receive. */
  rootDone: number;
  /** Posting cycle of the root's receive. */
  rootPost: number;
}

/**
 * One side of a group: members u_0 (sender) … u_{m−1} (forwarders), then the root's receive.
 * `posts[k]` is the posting cycle of member k's send/forward (k < m) or of the root's receive (k = m),
 * `hops[k]` the hops from member k to the next one (or the root).
 *
 * A rendezvous chain starts once every receive along it is posted (docs/runtime-model.md, condition
 * 2 holds for the whole chain at the head's start): t0 = max_k P_k.
 */
export function chainTiming(f: LineFigures, msg: Message, posts: number[], hops: number[]): ChainResult {
  const m = hops.length;
  const lat = (k: number) => 2 * f.ramp + hops[k] * f.hop;
  const start = new Array<number>(m);
  const commit = new Array<number>(m);
  const head = new Array<number>(m).fill(0);
  if (msg.words > f.queueWords) {
    const t0 = Math.max(...posts);
    let o = 0;
    for (let k = 0; k < m; k++) {
      start[k] = t0 + o;
      commit[k] = t0;
      o += lat(k) + f.relay;
    }
  } else {
    // Eager: a stream meeting a forward not posted by its segment's start is buffered there; the
    // forward relays it at max(arrival, posting) + β, on its own (a new lockstep segment).
    start[0] = posts[0];
    commit[0] = posts[0];
    for (let k = 1; k < m; k++) {
      start[k] = Math.max(start[k - 1] + lat(k - 1), posts[k]) + f.relay;
      const joined = posts[k] <= commit[k - 1];
      commit[k] = joined ? commit[k - 1] : start[k];
      head[k] = joined ? head[k - 1] : k;
    }
  }
  const rootDone = Math.max(start[m - 1] + lat(m - 1), posts[m]) + msg.D;
  return { start, commit, head, rootDone, rootPost: posts[m] };
}

/**
 * Delays the last lockstep segment of a chain by `delta` cycles (when positive): the emulator
 * re-evaluates a chain whose link is taken at exactly the cycle the link frees, and the whole
 * segment moves with its head. `lastHops`: hops of the last stream, to recompute the root's receive.
 */
function delaySegment(f: LineFigures, msg: Message, r: ChainResult, delta: number, lastHops: number): void {
  if (delta <= 0) return;
  const m = r.start.length;
  const seg = r.commit[m - 1];
  for (let k = 0; k < m; k++) {
    if (r.commit[k] !== seg) continue;
    r.start[k] += delta;
    r.commit[k] += delta;
  }
  r.rootDone = Math.max(r.start[m - 1] + 2 * f.ramp + lastHops * f.hop, r.rootPost) + msg.D;
}

// ---- tree plans (chain, K-tree) -------------------------------------------------------------------

export interface TreeTimingOptions {
  msg: Message;
  broadcast: boolean;
  /** Issue-included cost of the root's copy of its result into dst (0: no copy). */
  rootCopy: number;
  /** Issue-included cost of the `binary` a two-sided root combines its + side's sum with. */
  rootCombine: number;
}

/**
 * Times a tree plan in the instruction order allreduce-emit.ts emits. Per level, each member posts
 * its send or forward; each root posts its receive of the − side's chain (combining into src) and of
 * the + side's (into a scratch buffer when it also has a − side: two receives combining into one
 * buffer may not be in flight together), waits, and combines the scratch into src (`binary`). Then
 * the global root posts the multicast and copies; every other position posts its broadcast receive.
 *
 * Both sides of a group end on the root's ramp (router → core): the side given its links later (the
 * − side on a tie: its head has the lower core id) enters the ramp after the other left it
 * (delaySegment).
 */
export function treeTiming(f: LineFigures, plan: TreePlan, o: TreeTimingOptions): LineTiming {
  const L = plan.length;
  const clock = new Array<number>(L).fill(0);
  const done = new Array<number>(L).fill(0);
  const log = new LinkLog();
  const { msg } = o;
  for (const level of plan.levels) {
    const memberPost = new Map<number, number>();
    for (const g of level) for (const u of [...g.left, ...g.right]) memberPost.set(u, (clock[u] += f.post));
    for (const g of level) {
      if (!g.left.length && !g.right.length) continue;
      const rootPostL = g.left.length ? (clock[g.root] += f.post) : 0;
      const rootPostR = g.right.length ? (clock[g.root] += f.post) : 0;
      const side = (members: number[], rootPost: number) => {
        const chain = [...members, g.root];
        const posts = members.map((u) => memberPost.get(u)!).concat(rootPost);
        const hops = members.map((u, k) => Math.abs(chain[k + 1] - u));
        return { members, chain, hops, r: chainTiming(f, msg, posts, hops) };
      };
      // When a side's last segment was given its links, and by which head (same-cycle starts go in core order).
      const lastOf = (x: ReturnType<typeof side>) => {
        const k = x.members.length - 1;
        return { at: x.r.commit[k], head: x.members[x.r.head[k]] };
      };
      const sides = [];
      if (g.left.length) sides.push(side(g.left, rootPostL));
      if (g.right.length) sides.push(side(g.right, rootPostR));
      if (sides.length === 2) {
        const [l, r] = sides;
        const a = lastOf(l), b = lastOf(r);
        const [first, second] = b.at < a.at || (b.at === a.at && b.head < a.head) ? [r, l] : [l, r];
        const lastHops = (x: ReturnType<typeof side>) => x.hops[x.hops.length - 1];
        const rampIn = (x: ReturnType<typeof side>) => x.r.start[x.members.length - 1] + f.ramp + lastHops(x) * f.hop;
        delaySegment(f, msg, second.r, rampIn(first) + msg.D - rampIn(second), lastHops(second));
      }
      for (const x of sides) {
        done[g.root] = Math.max(done[g.root], x.r.rootDone);
        x.members.forEach((u, k) => {
          done[u] = Math.max(done[u], x.r.start[k] + msg.D);
          log.stream(f, u, [x.chain[k + 1]], x.r.start[k], msg.D, x.r.commit[k], x.members[x.r.head[k]]);
        });
      }
      // The root's wait, then (two sides) the combine of the scratch into src.
      clock[g.root] = Math.max(clock[g.root] + f.issue, done[g.root]);
      if (sides.length === 2) clock[g.root] += o.rootCombine;
    }
  }
  const R = plan.root;
  if (o.broadcast && L > 1) {
    const sendPost = (clock[R] += f.post);
    const dests: number[] = [];
    let latest = sendPost;
    const recvPost = new Array<number>(L).fill(0);
    for (let p = 0; p < L; p++) {
      if (p === R) continue;
      recvPost[p] = clock[p] += f.post;
      latest = Math.max(latest, recvPost[p]);
      dests.push(p);
    }
    const t = msg.words > f.queueWords ? latest : sendPost;
    for (const p of dests) done[p] = Math.max(done[p], Math.max(t + 2 * f.ramp + Math.abs(p - R) * f.hop, recvPost[p]) + msg.D);
    done[R] = Math.max(done[R], t + msg.D);
    log.stream(f, R, dests, t, msg.D, t, R);
  }
  clock[R] += o.rootCopy;
  // The closing wait: the kernel leaves no transfer in flight (kernel.ts), so finish = next issue.
  for (let p = 0; p < L; p++) clock[p] = Math.max(clock[p] + f.issue, done[p]);
  log.check('allreduce schedule');
  const finish = clock.map((c, p) => Math.max(c, done[p]));
  return { finish, issueEnd: clock, cycles: Math.max(0, ...finish) };
}

// ---- ring -----------------------------------------------------------------------------------------

export interface RingTimingOptions {
  /** The chunk message (⌈n/L⌉ elements). */
  msg: Message;
  /** Issue-included cost of the set-up before the first loop (copy src → work, fill of the padding). */
  setup: number;
  /** Issue-included cost after the second loop (copy work → dst). */
  teardown: number;
}

/**
 * Times the ring: reduce-scatter then allgather, each a loop of L − 1 steps of {send, recv, wait};
 * position p sends to p + 1 (L − 1 to 0 over the wrap, L − 1 hops). The recurrence runs step by step
 * over all positions (O(L²) arithmetic): a step's send from p starts at its posting if the receiver
 * has posted its receive by then or the message is eager and p + 1's colour buffer has room, else at
 * the earliest cycle one of those becomes true; links are never shared (each link carries only its
 * sender's streams, one step after the other), so no link waits.
 */
export function ringTiming(f: LineFigures, L: number, o: RingTimingOptions): LineTiming {
  const { msg } = o;
  if (L <= 1) return { finish: [o.setup + o.teardown], issueEnd: [o.setup + o.teardown], cycles: o.setup + o.teardown };
  const steps = 2 * (L - 1);
  const eager = msg.words <= f.queueWords;
  const lat1 = 2 * f.ramp + f.hop, latWrap = 2 * f.ramp + (L - 1) * f.hop;
  const begin = new Float64Array(L).fill(o.setup + f.issue + f.loop);
  // Eager streams buffered at each receiving position and not known to be released: release cycles.
  const buffered: number[][] = Array.from({ length: L }, () => []);
  const rp = new Float64Array(L), sendDone = new Float64Array(L), recvDone = new Float64Array(L);
  for (let k = 0; k < steps; k++) {
    for (let p = 0; p < L; p++) rp[p] = begin[p] + 2 * f.post;
    for (let p = 0; p < L; p++) {
      const q = p + 1 === L ? 0 : p + 1;
      const sp = begin[p] + f.post;
      let t = sp;
      let viaBuffer = false;
      if (!eager) t = Math.max(t, rp[q]);
      else if (rp[q] > t) {
        // Eager: starts once the receive is posted or q's buffer has room for it.
        const buf = buffered[q];
        for (;;) {
          let held = 0, next = rp[q];
          for (const rel of buf) if (rel > t) { held += msg.words; if (rel < next) next = rel; }
          if (held + msg.words <= f.queueWords || t >= rp[q]) break;
          t = next;
        }
        viaBuffer = rp[q] > t;
      }
      sendDone[p] = t + msg.D;
      recvDone[q] = Math.max(t + (q === 0 ? latWrap : lat1), rp[q]) + msg.D;
      if (viaBuffer) buffered[q].push(recvDone[q]);
    }
    for (let p = 0; p < L; p++) {
      const end = Math.max(rp[p] + f.issue, sendDone[p], recvDone[p]);
      // Between the loops: the second loop's issue; inside a loop: the next iteration's loop overhead.
      begin[p] = k === steps - 1 ? end : k === L - 2 ? end + f.issue + f.loop : end + f.loop;
    }
    // Entries released before the next posting of the position that sends into them can no longer count.
    for (let q = 0; q < L; q++) {
      if (!buffered[q].length) continue;
      const next = begin[q === 0 ? L - 1 : q - 1] + f.post;
      buffered[q] = buffered[q].filter((rel) => rel > next);
    }
  }
  const finish = Array.from(begin, (e) => e + o.teardown);
  return { finish, issueEnd: finish, cycles: Math.max(...finish) };
}
