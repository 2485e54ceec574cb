/**
 * Colours and route rules of a layer program (layer-program.ts). Every kernel of a layer states its
 * rules on canonical colours 0 … n−1; kernels with the same rule set (a key: every K-tree along one
 * axis over one line length, every MeshGEMM of one side, …) share one set of colours. Steps run one
 * after another with nothing in flight between them, so colours only have to keep the routers'
 * static configuration unambiguous:
 *
 * - when the rule sets' colours add up to no more than the target's, each set gets its own colours
 *   and keeps its own (guarded) rules — the fast path, no per-router work;
 * - otherwise each canonical colour of each set in turn takes the lowest colour on which none of its
 *   (router, entering port) cells is configured differently so far (the graph colouring of
 *   compiler/passes/route-distributed.ts), and a colour several sets share gets the compacted union
 *   of their cells (compactRules), so no two rules overlap (W5008).
 */
import { diag } from '../../ir/diagnostics.js';
import { evalExpr, type RouteRule } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { KernelRoute } from '../kernels/kernel.js';
import { compactRules } from '../passes/route-distributed.js';

export interface RuleSet {
  key: string;
  /** Canonical colours the set uses (0 … colours−1). */
  colours: number;
  routes: KernelRoute[];
}

/** Per router cell `x,y,input` → leaving ports, of one canonical colour of a rule set. */
function cells(routes: readonly KernelRoute[], P: number): [string, string][] {
  const out: [string, string][] = [];
  const env = { x: 0, y: 0, w: P, h: P, i0: 0, i1: 0, i2: 0, i3: 0 };
  for (const r of routes) {
    const outputs = [...r.outputs].join('+');
    for (let y = 0; y < P; y++) {
      for (let x = 0; x < P; x++) {
        if (r.guard !== undefined) {
          env.x = x;
          env.y = y;
          if (evalExpr(r.guard, env) === 0) continue;
        }
        out.push([`${x},${y},${r.input}`, outputs]);
      }
    }
  }
  return out;
}

/**
 * Colours for every rule set (key → the colour of each canonical colour) and the program's route
 * rules on the P×P region at the origin. W3009 when the target's colours do not suffice.
 */
export function assignColours(sets: readonly RuleSet[], target: Target, P: number): { colours: Map<string, number[]>; rules: RouteRule[] } {
  const C = target.router.colours;
  const rect = { x: 0, y: 0, width: P, height: P };
  const colours = new Map<string, number[]>();
  const rules: RouteRule[] = [];
  const own = (s: RuleSet, i: number, c: number) => {
    for (const r of s.routes.filter((x) => x.colour === i)) rules.push({ colour: c, rect, input: r.input, outputs: [...r.outputs], ...(r.guard !== undefined ? { guard: r.guard } : {}) });
  };
  const total = sets.reduce((s, x) => s + x.colours, 0);
  if (total <= C) {
    let next = 0;
    for (const s of sets) {
      const cs = Array.from({ length: s.colours }, (_, i) => next + i);
      next += s.colours;
      colours.set(s.key, cs);
      cs.forEach((c, i) => own(s, i, c));
    }
    return { colours, rules };
  }
  const table = new Map<number, Map<string, string>>();
  const users = new Map<number, { set: RuleSet; index: number }[]>();
  for (const s of sets) {
    const chosen: number[] = [];
    for (let i = 0; i < s.colours; i++) {
      const cs = cells(s.routes.filter((r) => r.colour === i), P);
      const free = Array.from({ length: C }, (_, c) => c).find((c) => {
        if (chosen.includes(c)) return false;
        const t = table.get(c);
        return !t || cs.every(([k, o]) => (t.get(k) ?? o) === o);
      });
      if (free === undefined) {
        throw diag('W3009', `layer program: the kernels of ${s.key} need ${s.colours} colours per router; only ${i} of the ${C} of ${target.name} are free of conflicting rules for them (the layer's ${sets.length} route sets take ${total} colours unshared)`, s.key,
          'use a target with more colours per router (router.colours)');
      }
      const t = table.get(free) ?? table.set(free, new Map()).get(free)!;
      for (const [k, o] of cs) t.set(k, o);
      (users.get(free) ?? users.set(free, []).get(free)!).push({ set: s, index: i });
      chosen.push(free);
    }
    colours.set(s.key, chosen);
  }
  const shared = new Map<number, Map<string, string>>();
  for (const c of [...table.keys()].sort((a, b) => a - b)) {
    const u = users.get(c)!;
    if (u.length === 1) own(u[0].set, u[0].index, c);
    else shared.set(c, table.get(c)!);
  }
  return { colours, rules: [...rules, ...compactRules(shared)] };
}
