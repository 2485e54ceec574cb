/**
 * Program code of the allreduce kernels along one mesh axis: the instructions (SPMD, guarded by the
 * core's position on its line) and the route rules, for tree plans (chain, K-tree:
 * allreduce-plan.ts) and for the ring. The instruction order here is the one allreduce-timing.ts
 * times; change one, change the other.
 *
 * Per-position roles vary irregularly (groups of unequal sizes), so guards, colours and finish
 * times are piecewise functions of the position, written as balanced trees of `select` over the
 * breakpoints (depth O(log pieces), size O(pieces)).
 */
import { add, lt, mod, mul, select, sub, X, Y, type BodyBuilder, type BufferRef, type BufferSlice, type OperandLike } from '../../ir/program-builder.js';
import type { CombineFn, Expr, Port } from '../../ir/program.js';
import type { KernelRoute } from './kernel.js';
import type { TreePlan } from './allreduce-plan.js';

export type MeshAxis = 'x' | 'y';

/** The ports of a line along an axis: + is east (x) or south (y). */
export interface AxisPorts {
  pos: Expr;
  plus: Port;
  minus: Port;
}

export function axisPorts(axis: MeshAxis): AxisPorts {
  return axis === 'x' ? { pos: X, plus: 'east', minus: 'west' } : { pos: Y, plus: 'south', minus: 'north' };
}

// ---- piecewise expressions ------------------------------------------------------------------------

interface Piece {
  start: number;
  expr: Expr;
}

function tree(pos: Expr, pieces: Piece[], lo: number, hi: number): Expr {
  if (lo === hi) return pieces[lo].expr;
  const mid = (lo + hi + 1) >> 1;
  return select(lt(pos, pieces[mid].start), tree(pos, pieces, lo, mid - 1), tree(pos, pieces, mid, hi));
}

/** values[p] for p = pos, as an expression: runs of equal values become one piece. */
export function piecewiseConstant(pos: Expr, values: readonly number[]): Expr {
  const pieces: Piece[] = [];
  values.forEach((v, p) => { if (p === 0 || v !== values[p - 1]) pieces.push({ start: p, expr: v }); });
  return pieces.length ? tree(pos, pieces, 0, pieces.length - 1) : 0;
}

/** values[p] for p = pos, as an expression: runs of constant slope become one linear piece. */
export function piecewiseLinear(pos: Expr, values: readonly number[]): Expr {
  const pieces: Piece[] = [];
  let a = 0;
  while (a < values.length) {
    const slope = a + 1 < values.length ? values[a + 1] - values[a] : 0;
    let b = a + 1;
    while (b + 1 < values.length && values[b + 1] - values[b] === slope) b++;
    if (a + 1 >= values.length) b = a;
    const base = values[a] - slope * a;
    pieces.push({ start: a, expr: slope === 0 ? values[a] : add(mul(slope, pos), base) });
    a = b + 1;
  }
  return pieces.length ? tree(pos, pieces, 0, pieces.length - 1) : 0;
}

/** An indicator (0/1) of a set of positions, or undefined when the set is every position (no guard needed). */
function guardOf(pos: Expr, L: number, member: (p: number) => boolean): Expr | undefined {
  const v = Array.from({ length: L }, (_, p) => (member(p) ? 1 : 0));
  return v.every((b) => b === 1) ? undefined : piecewiseConstant(pos, v);
}

// ---- route tables ---------------------------------------------------------------------------------

/** Per colour, per position, per input port: the output ports. */
class RouteTable {
  private readonly byColour = new Map<number, Map<number, Map<Port, Set<Port>>>>();

  add(colour: number, p: number, input: Port, outputs: Port[]): void {
    let c = this.byColour.get(colour);
    if (!c) this.byColour.set(colour, (c = new Map()));
    let at = c.get(p);
    if (!at) c.set(p, (at = new Map()));
    let outs = at.get(input);
    if (!outs) at.set(input, (outs = new Set()));
    for (const o of outputs) outs.add(o);
  }

  /** A stream from u to v (≠ u) on a colour: ramp out at u, straight through the routers between, ramp in at v. */
  path(colour: number, ports: AxisPorts, u: number, v: number): void {
    const dir = v > u ? 1 : -1;
    const out = dir > 0 ? ports.plus : ports.minus;
    const inp = dir > 0 ? ports.minus : ports.plus;
    this.add(colour, u, 'ramp', [out]);
    for (let p = u + dir; p !== v; p += dir) this.add(colour, p, inp, [out]);
    this.add(colour, v, inp, ['ramp']);
  }

  /** One rule per (colour, input, outputs), guarded by the positions that have it; colours and ports in a fixed order. */
  rules(pos: Expr, L: number): KernelRoute[] {
    const order: Port[] = ['north', 'south', 'east', 'west', 'ramp'];
    const out: KernelRoute[] = [];
    for (const colour of [...this.byColour.keys()].sort((a, b) => a - b)) {
      const at = this.byColour.get(colour)!;
      const keys = new Map<string, { input: Port; outputs: Port[]; positions: Set<number> }>();
      for (let p = 0; p < L; p++) {
        for (const input of order) {
          const outs = at.get(p)?.get(input);
          if (!outs) continue;
          const outputs = order.filter((o) => outs.has(o));
          const key = `${input}>${outputs.join(',')}`;
          let k = keys.get(key);
          if (!k) keys.set(key, (k = { input, outputs, positions: new Set() }));
          k.positions.add(p);
        }
      }
      for (const k of keys.values()) {
        const guard = guardOf(pos, L, (p) => k.positions.has(p));
        out.push(guard === undefined ? { colour, input: k.input, outputs: k.outputs } : { colour, input: k.input, outputs: k.outputs, guard });
      }
    }
    return out;
  }
}

// ---- tree plans -----------------------------------------------------------------------------------

/** Colours of a tree plan: per level, one for the + streams and one for the − streams (when used), then the broadcast. */
export interface TreeColours {
  plus: (number | undefined)[];
  minus: (number | undefined)[];
  broadcast?: number;
}

/** How many colours a tree plan needs. */
export function treeColourCount(plan: TreePlan, broadcast: boolean): number {
  let n = 0;
  for (const level of plan.levels) {
    if (level.some((g) => g.left.length)) n++;
    if (level.some((g) => g.right.length)) n++;
  }
  return n + (broadcast && plan.length > 1 ? 1 : 0);
}

function assignTreeColours(plan: TreePlan, broadcast: boolean, colours: readonly number[]): TreeColours {
  let next = 0;
  const c: TreeColours = { plus: [], minus: [] };
  for (const level of plan.levels) {
    c.plus.push(level.some((g) => g.left.length) ? colours[next++] : undefined);
    c.minus.push(level.some((g) => g.right.length) ? colours[next++] : undefined);
  }
  if (broadcast && plan.length > 1) c.broadcast = colours[next++];
  return c;
}

export interface LineOperands {
  src: OperandLike;
  dst: OperandLike;
  n: number;
  combine: Exclude<CombineFn, 'none'>;
  /** False when src and dst are the same place (the root then needs no copy). */
  copyAtRoot: boolean;
  /** Scratch of n elements a root with members on both sides receives its + side into (tree plans). */
  tmp?: OperandLike;
}

/** Whether a tree plan has a root with members on both sides (it then needs the scratch `tmp`). */
export function needsCombineScratch(plan: TreePlan): boolean {
  return plan.levels.some((lv) => lv.some((g) => g.left.length > 0 && g.right.length > 0));
}

/**
 * Emits a tree plan's reduction (and broadcast) into body `rb`; returns the route rules. Order per
 * level: the roots' receives (− side into src, + side into src or, with both sides, into tmp), wait
 * and combine, then the members' sends / forwards;
 * then the root's multicast and copy, and everyone else's broadcast receive.
 */
export function emitTree(rb: BodyBuilder, plan: TreePlan, ports: AxisPorts, ops: LineOperands, colours: readonly number[], broadcast: boolean): KernelRoute[] {
  const L = plan.length;
  const { pos } = ports;
  const col = assignTreeColours(plan, broadcast, colours);
  const routes = new RouteTable();
  const { src, dst, n, combine } = ops;
  const g = (member: (p: number) => boolean) => {
    const e = guardOf(pos, L, member);
    return e === undefined ? undefined : { guard: e };
  };
  plan.levels.forEach((level, li) => {
    const rootL = new Set(level.filter((x) => x.left.length).map((x) => x.root));
    const rootR = new Set(level.filter((x) => x.right.length).map((x) => x.root));
    const sendL = new Set<number>(), fwdL = new Set<number>(), sendR = new Set<number>(), fwdR = new Set<number>();
    for (const grp of level) {
      grp.left.forEach((u, k) => (k === 0 ? sendL : fwdL).add(u));
      grp.right.forEach((u, k) => (k === 0 ? sendR : fwdR).add(u));
      for (const [side, colour] of [[grp.left, col.plus[li]], [grp.right, col.minus[li]]] as const) {
        const chain = [...side, grp.root];
        for (let k = 0; k < side.length; k++) routes.path(colour!, ports, chain[k], chain[k + 1]);
      }
    }
    // Two receives combining into one buffer may not be in flight together: a root with both sides
    // receives the + side into the scratch and combines it after the wait.
    const both = (p: number) => rootL.has(p) && rootR.has(p);
    if (rootL.size) rb.recv(src, n, col.plus[li]!, { combine, ...g((p) => rootL.has(p)) });
    if ([...rootR].some((p) => !rootL.has(p))) rb.recv(src, n, col.minus[li]!, { combine, ...g((p) => rootR.has(p) && !rootL.has(p)) });
    if ([...rootR].some(both)) rb.recv(ops.tmp!, n, col.minus[li]!, g(both));
    if (rootL.size || rootR.size) rb.wait(g((p) => rootL.has(p) || rootR.has(p)));
    if ([...rootR].some(both)) rb.binary(combine === 'add' ? 'add' : 'max', src, src, ops.tmp!, 1, n, g(both));
    if (sendL.size) rb.send(src, n, col.plus[li]!, g((p) => sendL.has(p)));
    if (fwdL.size) rb.forward(src, n, col.plus[li]!, col.plus[li]!, { combine, ...g((p) => fwdL.has(p)) });
    if (sendR.size) rb.send(src, n, col.minus[li]!, g((p) => sendR.has(p)));
    if (fwdR.size) rb.forward(src, n, col.minus[li]!, col.minus[li]!, { combine, ...g((p) => fwdR.has(p)) });
  });
  const R = plan.root;
  const atRoot = g((p) => p === R);
  if (col.broadcast !== undefined) {
    const B = col.broadcast;
    rb.send(src, n, B, atRoot);
    const rootOuts: Port[] = [];
    if (R > 0) rootOuts.push(ports.minus);
    if (R < L - 1) rootOuts.push(ports.plus);
    routes.add(B, R, 'ramp', rootOuts);
    for (let p = 0; p < L; p++) {
      if (p < R) routes.add(B, p, ports.plus, p > 0 ? [ports.minus, 'ramp'] : ['ramp']);
      if (p > R) routes.add(B, p, ports.minus, p < L - 1 ? [ports.plus, 'ramp'] : ['ramp']);
    }
  }
  if (ops.copyAtRoot) rb.copy(dst, src, n, atRoot);
  if (col.broadcast !== undefined) rb.recv(dst, n, col.broadcast, g((p) => p !== R));
  // Leave no transfer in flight: the next kernel (or the scheduler's padding) starts from a quiet core.
  rb.wait();
  return routes.rules(pos, L);
}

// ---- ring -----------------------------------------------------------------------------------------

export interface RingOperands extends LineOperands {
  /** Scratch of L·chunk elements the ring works in. */
  work: BufferRef;
  chunk: number;
  /** Value the padding of the work buffer is filled with (0 for sum, −∞ for max). */
  identity: number;
}

/**
 * Emits the ring: copy src into the work buffer (and fill its padding), L − 1 reduce-scatter steps,
 * L − 1 allgather steps, copy the work buffer's first n elements into dst. One colour: + links for
 * p → p + 1, the − links (straight through every router) for the wrap L − 1 → 0.
 */
export function emitRing(rb: BodyBuilder, L: number, ports: AxisPorts, ops: RingOperands, colour: number): KernelRoute[] {
  const { pos } = ports;
  const { work, chunk: c, n, combine } = ops;
  rb.copy(work, ops.src, n);
  if (L * c > n) rb.fill(work.at(n), L * c - n, ops.identity);
  if (L > 1) {
    const at = (e: Expr): BufferSlice => work.at(mul(mod(e, L), c));
    rb.loop(L - 1, (body, i) => {
      body.send(at(sub(pos, i)), c, colour);
      body.recv(at(sub(sub(pos, i), 1)), c, colour, { combine });
      body.wait();
    });
    rb.loop(L - 1, (body, i) => {
      body.send(at(sub(add(pos, 1), i)), c, colour);
      body.recv(at(sub(pos, i)), c, colour);
      body.wait();
    });
  }
  rb.copy(ops.dst, work, n);
  const routes = new RouteTable();
  if (L > 1) {
    for (let p = 0; p < L - 1; p++) routes.path(colour, ports, p, p + 1);
    routes.path(colour, ports, L - 1, 0);
  }
  return routes.rules(pos, L);
}
