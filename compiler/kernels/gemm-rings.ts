/**
 * The rings Cannon and MeshGEMM shift their tiles around, one per mesh axis: which core holds ring
 * position u, whom each core sends to, how many hops that edge crosses, which colour it uses, and the
 * route rules that carry it. Numbers (for cost functions) and expressions (for kernel code, per core)
 * come from the same definitions.
 *
 * - Cannon: positions run from the east end westward (position u = P − 1 − x), so a forward step
 *   moves a tile one core west; the edge from x = 0 back to x = P − 1 crosses the whole row on a
 *   pass-through route (no wrap-around links on a mesh). One colour per axis.
 * - MeshGEMM (INTERLEAVE): positions 0, 2, 4, …, last even, last odd, …, 3, 1; every edge crosses at
 *   most 2 hops. Three colours per axis, the edge leaving core i using colour i mod 3: a router sends
 *   on one colour, passes its neighbour's 2-hop edge through on another, and receives on one of the
 *   two through a different input port, so no two rules share a (router, colour, input port).
 *
 * A ring can also carry tiles backward (position u to u − 1), for the initial skew in the shorter
 * direction; backward edges are the forward edges reversed, on their own colours.
 */
import { add, and, div, eq, ge, le, lt, mod, mul, select, sub, X, Y } from '../../ir/program-builder.js';
import type { Expr, Port } from '../../ir/program.js';
import type { KernelRoute } from './kernel.js';

export type Axis = 'x' | 'y';
export type RingKind = 'cannon' | 'meshgemm';

/** A ring over the P cores of one line. */
export interface Ring {
  kind: RingKind;
  P: number;
  /** Colours per direction. */
  colourCount: number;
  /** Ring position of core i, and the core at position u. */
  pos(i: number): number;
  at(u: number): number;
  posExpr(i: Expr): Expr;
  atExpr(u: Expr): Expr;
  /** Colour slot (0 … colourCount − 1) of the forward edge leaving core i. */
  slot(i: number): number;
  slotExpr(i: Expr): Expr;
}

export function cannonRing(P: number): Ring {
  return {
    kind: 'cannon', P, colourCount: 1,
    pos: (i) => P - 1 - i,
    at: (u) => P - 1 - u,
    posExpr: (i) => sub(P - 1, i),
    atExpr: (u) => sub(P - 1, u),
    slot: () => 0,
    slotExpr: () => 0,
  };
}

export function meshgemmRing(P: number): Ring {
  const half = Math.ceil(P / 2);
  return {
    kind: 'meshgemm', P, colourCount: Math.min(3, P),
    pos: (i) => (i % 2 === 0 ? i / 2 : P - (i + 1) / 2),
    at: (u) => (u < half ? 2 * u : 2 * P - 1 - 2 * u),
    posExpr: (i) => select(eq(mod(i, 2), 0), div(i, 2), sub(P, div(add(i, 1), 2))),
    atExpr: (u) => select(lt(u, half), mul(2, u), sub(2 * P - 1, mul(2, u))),
    slot: (i) => i % 3,
    slotExpr: (i) => mod(i, 3),
  };
}

/** The core a forward (dir = 1) or backward (dir = −1) step sends core i's tile to. */
export function next(r: Ring, i: number, dir: 1 | -1): number {
  return r.at((r.pos(i) + dir + r.P) % r.P);
}

/** Hops of the edge leaving core i in direction dir. */
export function hops(r: Ring, i: number, dir: 1 | -1): number {
  return Math.abs(next(r, i, dir) - i);
}

/** Largest hop count of any edge of the ring (both directions have the same edges). */
export function maxHops(r: Ring): number {
  let h = 0;
  for (let i = 0; i < r.P; i++) h = Math.max(h, hops(r, i, 1));
  return h;
}

/** The colour slot of the edge leaving core i in direction dir (backward edges take the receiving core's forward slot). */
export function edgeSlot(r: Ring, i: number, dir: 1 | -1): number {
  return dir === 1 ? r.slot(i) : r.slot(next(r, i, -1));
}

/** Port names of an axis: the "low" side (west / north) and "high" side (east / south). */
function ports(axis: Axis): { low: Port; high: Port } {
  return axis === 'x' ? { low: 'west', high: 'east' } : { low: 'north', high: 'south' };
}

/**
 * Route rules for every edge of a ring in one direction along `axis`, colour slot q on colours[q].
 * The rules are generated edge by edge and then merged into guarded rules over the coordinate (one
 * rule per (colour, input, outputs) with a guard listing the cores as a union of residue classes),
 * so the program carries O(1) rules per colour for MeshGEMM and Cannon whatever P is.
 */
export function ringRoutes(r: Ring, axis: Axis, dir: 1 | -1, colours: readonly number[]): KernelRoute[] {
  const { low, high } = ports(axis);
  const v = axis === 'x' ? X : Y;
  // (colour, input, output) → the cores where the rule applies.
  const at = new Map<string, { colour: number; input: Port; output: Port; cores: number[] }>();
  const put = (core: number, colour: number, input: Port, output: Port) => {
    const key = `${colour}/${input}/${output}`;
    let e = at.get(key);
    if (!e) { e = { colour, input, output, cores: [] }; at.set(key, e); }
    e.cores.push(core);
  };
  for (let i = 0; i < r.P; i++) {
    const j = next(r, i, dir);
    if (j === i) continue;
    const colour = colours[edgeSlot(r, i, dir)];
    const step = j > i ? 1 : -1;
    const out: Port = step > 0 ? high : low;
    const inp: Port = step > 0 ? low : high;
    put(i, colour, 'ramp', out);
    for (let c = i + step; c !== j; c += step) put(c, colour, inp, out);
    put(j, colour, inp, 'ramp');
  }
  const out: KernelRoute[] = [];
  for (const e of [...at.values()].sort((a, b) => a.colour - b.colour || a.input.localeCompare(b.input) || a.output.localeCompare(b.output))) {
    out.push({ colour: e.colour, input: e.input, outputs: [e.output], guard: coreSetGuard(v, e.cores.sort((a, b) => a - b), r.P) });
  }
  return out;
}

/**
 * A guard true exactly on the given coordinates of 0 … P − 1: the cores are grouped into residue
 * classes modulo 6 (parity and index mod 3 decide every MeshGEMM rule), each class an interval
 * lo ≤ v ≤ hi; what is left over is listed point by point (the ring's two ends).
 */
function coreSetGuard(v: Expr, cores: number[], P: number): Expr {
  if (cores.length === P) return 1;
  const set = new Set(cores);
  const terms: Expr[] = [];
  for (let res = 0; res < 6; res++) {
    const members = [];
    for (let c = res; c < P; c += 6) members.push(c);
    // Longest run of members all in the set, as an interval; stray points are added singly.
    let k = 0;
    while (k < members.length) {
      if (!set.has(members[k])) { k++; continue; }
      let e = k;
      while (e + 1 < members.length && set.has(members[e + 1])) e++;
      if (e - k >= 2) {
        terms.push(and(eq(mod(v, 6), res), ge(v, members[k]), le(v, members[e])));
        for (let q = k; q <= e; q++) set.delete(members[q]);
      }
      k = e + 1;
    }
  }
  for (const c of [...set].sort((a, b) => a - b)) terms.push(eq(v, c));
  return terms.reduce((a, b) => ({ op: 'or', a, b }));
}
