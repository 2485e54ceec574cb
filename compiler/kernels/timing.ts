/**
 * Closed-form timing primitives of docs/runtime-model.md that the kernels and the scheduler share,
 * so that every predicted cycle comes from one formula. All results are offsets in cycles from a
 * step's start T0, under the composition rule of kernel.ts: every core of the region starts the
 * step at T0 with no transfer in flight, no buffered stream, and every link free.
 *
 * Notation (target fields): I = overhead.issue, C = overhead.comm, ρ = link.rampLatency,
 * α = link.hopLatency, D(n) = ⌈words(n) / (link.bitsPerCycle / 32)⌉ link cycles of a stream of n
 * elements.
 *
 * The transfer sequence (one stream, sender s, destinations d with h_d router hops):
 *   sender:        send  @0   → posted at P = I + C;   wait @P → ends at P + max(I, D)
 *   destination d: recv  @0   → posted at P;           wait @P → ends at P + max(I, 2ρ + h_d·α + D)
 * The stream starts at P (the send is posted at P and every receive is posted by P, or the stream is
 * eager), word i reaches d at P + 2ρ + h_d·α + i, the receive completes at P + 2ρ + h_d·α + D and the
 * send when its last word has left, P + D.
 */
import { wordsFor, type MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { wordsPerLinkCycle } from '../../ir/target.js';

/** Cycles a stream of n elements of `type` occupies each link (D). */
export function streamCycles(target: Target, type: MemType, n: number): number {
  return Math.ceil(wordsFor(type, n) / wordsPerLinkCycle(target));
}

/** Cycle (from T0) at which a transfer instruction issued at T0 is posted: I + C. */
export function postOffset(target: Target): number {
  return target.overhead.issue + target.overhead.comm;
}

/** Cycle (from the stream's start) at which its first word reaches a destination h hops away: 2ρ + h·α. */
export function arrivalOffset(target: Target, hops: number): number {
  return 2 * target.link.rampLatency + hops * target.link.hopLatency;
}

/** Finish offset of the sender of the transfer sequence: send @0, wait @P. */
export function senderFinish(target: Target, streamLen: number): number {
  return postOffset(target) + Math.max(target.overhead.issue, streamLen);
}

/** Finish offset of a destination `hops` away: recv @0, wait @P. */
export function receiverFinish(target: Target, streamLen: number, hops: number): number {
  return postOffset(target) + Math.max(target.overhead.issue, arrivalOffset(target, hops) + streamLen);
}

/** Router-to-router hops of the XY (dimension-order) path between two cores. */
export function xyHops(ax: number, ay: number, bx: number, by: number): number {
  return Math.abs(ax - bx) + Math.abs(ay - by);
}
