/**
 * route, for a distributed program: every kernel's routes come from its generator (a dry run with
 * the target's colours in order tells which it takes); kernels whose rules are identical share
 * their colours (every GEMM of one algorithm, every allreduce along x of one plan), and each other
 * rule set takes, for each of its colours in turn, the lowest colour where that colour's rules
 * configure no (router, colour, entering port) differently from what is configured so far — a graph
 * colouring over the routers' static configuration.
 * Kernels run one after another with nothing in flight between them, so colours only have to keep
 * the static router configuration unambiguous: two kernels may share a router's (colour, entering
 * port) when they configure it alike. A colour one rule set uses alone keeps that set's own (guarded)
 * rules; a shared colour gets the compacted union of its per-router configuration (compactRules);
 * either way no two rules overlap. When no colour is left, W3004
 * names the kernels holding the colours. The chosen colours go into the op's params
 * (`colours = "c0,c1,..."`), which emit hands back to the generator.
 */
import { DiagnosticError, diag } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import { evalExpr, type Port, type RouteRule } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { KernelRoute } from '../kernels/kernel.js';
import { coloursUsed, dryRun } from '../kernels/distributed.js';

/** The colours an op was given by route (empty when it needs none). */
export function opColours(params: Record<string, number | string>): number[] {
  const c = params.colours;
  return typeof c === 'string' && c !== '' ? c.split(',').map(Number) : [];
}

/** Per-router configuration so far: colour → (`x,y,input` → leaving ports, `east+ramp`). */
type RouterTable = Map<number, Map<string, string>>;

/** The per-router cells of kernel routes (relative to the P×P region at the origin): `x,y,input` → leaving ports. */
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

/** Whether cells fit on a colour: every router there unconfigured or configured alike. */
function fits(table: RouterTable, colour: number, cs: readonly [string, string][]): boolean {
  const t = table.get(colour);
  return !t || cs.every(([k, o]) => (t.get(k) ?? o) === o);
}

/**
 * Colours for every distributed kernel. Each colour of a kernel's rule set takes the lowest colour
 * on which none of its rules meets a rule already configured (same router, colour and entering
 * port: W5008 at load); kernels with identical rule sets share one set of colours.
 */
export function routeDistributed(mesh: MeshGraph, target: Target, P: number): { mesh: MeshGraph; rules: RouteRule[] } {
  const C = target.router.colours;
  const all = Array.from({ length: C }, (_, i) => i);
  const table: RouterTable = new Map();
  const bySignature = new Map<string, number[]>();
  const holders = new Map<number, string[]>();
  // Per colour, the rule sets on it (canonical rules with their colour index): a colour only one
  // rule set uses keeps that set's own rules, which are few; shared colours get compacted cells.
  const users = new Map<number, { rules: KernelRoute[]; index: number }[]>();
  const ops = mesh.ops.map((op) => {
    let probe;
    try {
      probe = dryRun(op, mesh, target, P, all);
    } catch (e) {
      const d = e instanceof DiagnosticError ? e.diagnostics[0] : undefined;
      if (d?.code !== 'W3007' || !/colours/.test(d.message)) throw e;
      throw diag('W3004', `kernel ${op.kernel} of op '${op.name}' needs more colours per router than the ${C} of ${target.name}: ${d.message}`, `op '${op.name}'`,
        'use a target with more colours per router (router.colours), or force kernels that need fewer (--gemm, --allreduce)');
    }
    const used = coloursUsed(probe.routes);
    if (used.length === 0) return { ...op, params: { ...op.params } };
    const signature = JSON.stringify(probe.routes);
    let colours = bySignature.get(signature);
    if (!colours) {
      const need = used[used.length - 1] + 1;
      // Each of the kernel's colours in turn takes the lowest colour where its rules conflict with none.
      const chosen: number[] = [];
      for (let i = 0; i < need; i++) {
        const cs = cells(probe.routes.filter((r) => r.colour === i), P);
        const free = all.find((c) => !chosen.includes(c) && fits(table, c, cs));
        if (free === undefined) {
          const list = [...holders].map(([c, names]) => `colour ${c}: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` (+${names.length - 3})` : ''}`);
          throw diag('W3004', `kernel ${op.kernel} of op '${op.name}' needs ${need} colours per router; only ${i} of the ${C} colours of ${target.name} are free of conflicting rules for it`,
            `op '${op.name}'; ${list.join('; ')}`, 'use a target with more colours per router (router.colours), or force kernels that need fewer (--gemm, --allreduce)');
        }
        const t = table.get(free) ?? table.set(free, new Map()).get(free)!;
        for (const [k, o] of cs) t.set(k, o);
        (users.get(free) ?? users.set(free, []).get(free)!).push({ rules: probe.routes, index: i });
        chosen.push(free);
      }
      colours = chosen;
      bySignature.set(signature, colours);
    }
    for (const c of colours) (holders.get(c) ?? holders.set(c, []).get(c)!).push(op.name);
    return { ...op, params: { ...op.params, colours: colours.join(',') } };
  });
  const rules: RouteRule[] = [];
  const shared: RouterTable = new Map();
  for (const c of [...table.keys()].sort((a, b) => a - b)) {
    const u = users.get(c)!;
    if (u.length === 1) {
      const rect = { x: 0, y: 0, width: P, height: P };
      const seen = new Set<string>(); // a kernel may state one rule twice (the loader wants it once)
      for (const r of u[0].rules.filter((x) => x.colour === u[0].index)) {
        const key = JSON.stringify([r.input, r.outputs, r.guard]);
        if (seen.has(key)) continue;
        seen.add(key);
        rules.push({ colour: c, rect, input: r.input, outputs: [...r.outputs], ...(r.guard !== undefined ? { guard: r.guard } : {}) });
      }
    } else shared.set(c, table.get(c)!);
  }
  return { mesh: { ...mesh, ops }, rules: [...rules, ...compactRules(shared)] };
}

export interface RouterRect { x: number; y: number; width: number; height: number }

/**
 * A set of routers as rectangles: each row's runs of x (rows: y → its xs, in any order), a run
 * repeated on consecutive rows merged into one rectangle; sorted by y, then x.
 */
export function rowsToRects(rows: ReadonlyMap<number, number[]>): RouterRect[] {
  let open = new Map<number, RouterRect>();
  const done: RouterRect[] = [];
  let prevY = -2;
  for (const y of [...rows.keys()].sort((a, b) => a - b)) {
    const runs: [number, number][] = [];
    for (const x of [...rows.get(y)!].sort((a, b) => a - b)) {
      const last = runs[runs.length - 1];
      if (last && last[1] === x - 1) last[1] = x;
      else runs.push([x, x]);
    }
    // Open rectangles by run (x0..x1): extended while the next row repeats the run.
    const next = new Map<number, RouterRect>();
    for (const [a, b] of runs) {
      const k = a * 0x100000 + b;
      const r = y === prevY + 1 ? open.get(k) : undefined;
      if (r) {
        r.height++;
        open.delete(k);
        next.set(k, r);
      } else next.set(k, { x: a, y, width: b - a + 1, height: 1 });
    }
    done.push(...open.values());
    open = next;
    prevY = y;
  }
  done.push(...open.values());
  return done.sort((a, b) => a.y - b.y || a.x - b.x);
}

/**
 * The program's route rules for a router table: per (colour, entering port, leaving ports), each
 * row's runs of routers, runs repeated on consecutive rows merged into rectangles. Rules never
 * overlap on a (router, colour, port), and identical configurations of several kernels are one.
 */
export function compactRules(table: RouterTable): RouteRule[] {
  const groups = new Map<string, Map<number, number[]>>();
  for (const [c, cellsOf] of table) for (const [key, outputs] of cellsOf) {
    const [x, y, input] = key.split(',');
    const colour = String(c);
    const g = `${colour.padStart(4, '0')},${input},${outputs}`;
    const rows = groups.get(g) ?? groups.set(g, new Map()).get(g)!;
    (rows.get(Number(y)) ?? rows.set(Number(y), []).get(Number(y))!).push(Number(x));
  }
  const rules: RouteRule[] = [];
  for (const g of [...groups.keys()].sort()) {
    const [colour, input, outputs] = g.split(',');
    for (const rect of rowsToRects(groups.get(g)!)) rules.push({ colour: Number(colour), rect, input: input as Port, outputs: outputs.split('+') as Port[] });
  }
  return rules;
}
