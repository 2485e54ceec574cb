/**
 * A broadcast along a mesh axis from any root: the static route rules (the same whichever core of
 * the line sends, so one colour serves every root) and the exact finish of one such broadcast when
 * every core of the line posts its transfer at once (timing.ts: sender P + max(I, D), a receiver h
 * hops away P + max(I, 2ρ + h·α + D)). SUMMA broadcasts A and B this way; the distributed GEMV
 * multicasts the vector from the diagonal, the embedding Gather the table's row tiles.
 */
import { add, and, eq, H, max, mul, ne, select, sub, W, X, Y } from '../../ir/program-builder.js';
import type { Expr, Port } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { KernelRoute } from './kernel.js';
import { postOffset, receiverFinish, senderFinish } from './timing.js';

/** The rules of a broadcast along `axis` (lines of the region) from any root, on `colour`. */
export function lineBroadcastRoutes(colour: number, axis: 'x' | 'y'): KernelRoute[] {
  const v = axis === 'x' ? X : Y, size = axis === 'x' ? W : H;
  const [low, high]: Port[] = axis === 'x' ? ['west', 'east'] : ['north', 'south'];
  const first = eq(v, 0), last = eq(v, sub(size, 1)), inner = and(ne(v, 0), ne(v, sub(size, 1)));
  return [
    { colour, input: 'ramp', outputs: [low, high], guard: inner },
    { colour, input: 'ramp', outputs: [high], guard: first },
    { colour, input: 'ramp', outputs: [low], guard: last },
    { colour, input: low, outputs: ['ramp', high], guard: inner },
    { colour, input: low, outputs: ['ramp'], guard: last },
    { colour, input: high, outputs: ['ramp', low], guard: inner },
    { colour, input: high, outputs: ['ramp'], guard: first },
  ];
}

/**
 * Each core's finish offset of a broadcast of a D-cycle stream along `axis` from the core at
 * position `root` (an expression), every core posting its send or receive first thing.
 */
export function lineBroadcastFinish(t: Target, axis: 'x' | 'y', root: Expr, D: number): Expr {
  const pos = axis === 'x' ? X : Y;
  const hops: Expr = select(ne(pos, root), max(sub(pos, root), sub(root, pos)), 0);
  const arrival = add(2 * t.link.rampLatency, mul(hops, t.link.hopLatency), D);
  return select(eq(pos, root), senderFinish(t, D), add(postOffset(t), max(t.overhead.issue, arrival)));
}

/** The latest finish of such a broadcast over a line of P cores (the farthest receiver, P − 1 hops). */
export function lineBroadcastWorst(t: Target, P: number, D: number): number {
  return Math.max(senderFinish(t, D), receiverFinish(t, D, P - 1));
}
