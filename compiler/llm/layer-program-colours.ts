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
 *   of their cells (as compactRules makes it), so no two rules overlap (W5008). Cells are typed
 *   arrays ((y·P + x)·5 + port → leaving-port id) and guards closures, so the 720² prefill layer of
 *   LLaMA3-8B is coloured in seconds.
 */
import { diag } from '../../ir/diagnostics.js';
import type { Expr, Port, RouteRule } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { KernelRoute } from '../kernels/kernel.js';
import { rowsToRects } from '../passes/route-distributed.js';

export interface RuleSet {
  key: string;
  /** Canonical colours the set uses (0 … colours−1). */
  colours: number;
  routes: KernelRoute[];
}

const PORTS: readonly Port[] = ['north', 'south', 'east', 'west', 'ramp'];
const PORT_INDEX = new Map(PORTS.map((p, i) => [p, i] as const));

/**
 * One canonical colour's router cells on the P×P region: `at[i]` = (y·P + x)·5 + entering port,
 * `out[i]` = the id of its leaving ports (Interned), in the order of the routes, then y, then x.
 */
interface Cells { at: Int32Array; out: Uint16Array }

/** Leaving-port lists ('east+west') as ids from 1, shared by every colour of one assignment. */
class Interned {
  readonly names: string[] = [''];
  private readonly ids = new Map<string, number>();
  id(name: string): number {
    let i = this.ids.get(name);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(name);
      this.ids.set(name, i);
    }
    return i;
  }
}

type Guard = (x: number, y: number) => number;

/** A guard as a closure of the core (x, y) of the P×P region (w = h = P, loop indices 0), with evalExpr's semantics. */
function compileGuard(e: Expr, P: number): Guard {
  if (typeof e === 'number') return () => e;
  if ('v' in e) {
    if (e.v === 'x') return (x) => x;
    if (e.v === 'y') return (_x, y) => y;
    const k = e.v === 'w' || e.v === 'h' ? P : 0;
    return () => k;
  }
  if (e.op === 'select') {
    const c = compileGuard(e.c, P), a = compileGuard(e.a, P), b = compileGuard(e.b, P);
    return (x, y) => (c(x, y) !== 0 ? a(x, y) : b(x, y));
  }
  const a = compileGuard(e.a, P), b = compileGuard(e.b, P);
  switch (e.op) {
    case 'add': return (x, y) => a(x, y) + b(x, y);
    case 'sub': return (x, y) => a(x, y) - b(x, y);
    case 'mul': return (x, y) => a(x, y) * b(x, y);
    case 'div': return (x, y) => { const d = b(x, y); return d === 0 ? 0 : Math.floor(a(x, y) / d); };
    case 'mod': return (x, y) => { const d = b(x, y); if (d === 0) return 0; const r = a(x, y) % d; return r < 0 ? r + Math.abs(d) : r; };
    case 'min': return (x, y) => Math.min(a(x, y), b(x, y));
    case 'max': return (x, y) => Math.max(a(x, y), b(x, y));
    case 'eq': return (x, y) => (a(x, y) === b(x, y) ? 1 : 0);
    case 'ne': return (x, y) => (a(x, y) !== b(x, y) ? 1 : 0);
    case 'lt': return (x, y) => (a(x, y) < b(x, y) ? 1 : 0);
    case 'le': return (x, y) => (a(x, y) <= b(x, y) ? 1 : 0);
    case 'gt': return (x, y) => (a(x, y) > b(x, y) ? 1 : 0);
    case 'ge': return (x, y) => (a(x, y) >= b(x, y) ? 1 : 0);
    case 'and': return (x, y) => (a(x, y) !== 0 && b(x, y) !== 0 ? 1 : 0);
    case 'or': return (x, y) => (a(x, y) !== 0 || b(x, y) !== 0 ? 1 : 0);
  }
}

function cells(routes: readonly KernelRoute[], P: number, names: Interned): Cells {
  let n = 0;
  const guards = routes.map((r) => (r.guard !== undefined ? compileGuard(r.guard, P) : undefined));
  const at = new Int32Array(routes.length * P * P), out = new Uint16Array(routes.length * P * P);
  routes.forEach((r, j) => {
    const o = names.id([...r.outputs].join('+')), port = PORT_INDEX.get(r.input)!, guard = guards[j];
    for (let y = 0; y < P; y++) {
      for (let x = 0; x < P; x++) {
        if (guard && guard(x, y) === 0) continue;
        at[n] = (y * P + x) * PORTS.length + port;
        out[n++] = o;
      }
    }
  });
  return { at: at.subarray(0, n), out: out.subarray(0, n) };
}

/** Whether a colour's table (0: unset) agrees with every cell. */
function agrees(table: Uint16Array | undefined, cs: Cells): boolean {
  if (!table) return true;
  const { at, out } = cs;
  for (let i = 0; i < at.length; i++) {
    const v = table[at[i]];
    if (v !== 0 && v !== out[i]) return false;
  }
  return true;
}

/**
 * The route rules of the colours several sets share, as compactRules (route-distributed.ts) makes
 * them, read from the typed tables: per colour, per (entering port, leaving ports) in the order of
 * that pair's text, each row's runs of routers, runs repeated on consecutive rows merged into
 * rectangles (sorted by y, then x).
 */
function sharedRules(shared: ReadonlyMap<number, Uint16Array>, P: number, names: Interned): RouteRule[] {
  const rules: RouteRule[] = [];
  const NP = PORTS.length, K = 65536;
  for (const c of [...shared.keys()].sort((x, y) => x - y)) {
    const t = shared.get(c)!;
    // (port, leaving ports) → its cells, y → xs.
    const groups = new Map<number, Map<number, number[]>>();
    for (let i = 0; i < t.length; i++) {
      const v = t[i];
      if (v === 0) continue;
      const port = i % NP, cell = (i - port) / NP, y = Math.floor(cell / P);
      const key = port * K + v;
      const rows = groups.get(key) ?? groups.set(key, new Map()).get(key)!;
      (rows.get(y) ?? rows.set(y, []).get(y)!).push(cell % P);
    }
    const order = [...groups.keys()].map((k) => ({ k, text: `${PORTS[Math.floor(k / K)]},${names.names[k % K]}` }))
      .sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    for (const { k } of order) {
      const input = PORTS[Math.floor(k / K)], outputs = names.names[k % K].split('+') as Port[];
      for (const rect of rowsToRects(groups.get(k)!)) rules.push({ colour: c, rect, input, outputs: [...outputs] });
    }
  }
  return rules;
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
  const names = new Interned();
  const table = new Map<number, Uint16Array>();
  const users = new Map<number, { set: RuleSet; index: number }[]>();
  for (const s of sets) {
    const chosen: number[] = [];
    for (let i = 0; i < s.colours; i++) {
      const cs = cells(s.routes.filter((r) => r.colour === i), P, names);
      let free: number | undefined;
      for (let c = 0; c < C && free === undefined; c++) if (!chosen.includes(c) && agrees(table.get(c), cs)) free = c;
      if (free === undefined) {
        throw diag('W3009', `layer program: the kernels of ${s.key} need ${s.colours} colours per router; only ${i} of the ${C} of ${target.name} are free of conflicting rules for them (the layer's ${sets.length} route sets take ${total} colours unshared)`, s.key,
          'use a target with more colours per router (router.colours)');
      }
      const t = table.get(free) ?? table.set(free, new Uint16Array(P * P * PORTS.length)).get(free)!;
      for (let k = 0; k < cs.at.length; k++) t[cs.at[k]] = cs.out[k];
      (users.get(free) ?? users.set(free, []).get(free)!).push({ set: s, index: i });
      chosen.push(free);
    }
    colours.set(s.key, chosen);
  }
  const shared = new Map<number, Uint16Array>();
  for (const c of [...table.keys()].sort((a, b) => a - b)) {
    const u = users.get(c)!;
    if (u.length === 1) own(u[0].set, u[0].index, c);
    else shared.set(c, table.get(c)!);
  }
  return { colours, rules: [...rules, ...sharedRules(shared, P, names)] };
}
