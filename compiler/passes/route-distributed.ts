/**
 * route, for a distributed program: every kernel's routes come from its generator (a dry run with
 * the target's colours in order tells which it takes); kernels whose rules are identical share
 * their colours (every GEMM of one algorithm, every allreduce along x of one plan), and each other
 * rule set takes, for each of its colours in turn, the lowest colour where that colour's rules
 * touch no (router, colour, entering port) configured so far — the loader wants at most one rule
 * there (W5008) — a graph colouring over the routers' static configuration.
 * Kernels run one after another with nothing in flight between them, so colours only have to keep
 * the static router configuration unambiguous. When no block is left, W3004 names the kernels
 * holding the colours. The chosen colours go into the op's params
 * (`colours = "c0,c1,..."`), which emit hands back to the generator.
 */
import { DiagnosticError, diag } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import { evalExpr } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { KernelRoute } from '../kernels/kernel.js';
import { coloursUsed, dryRun } from '../kernels/distributed.js';

/** The colours an op was given by route (empty when it needs none). */
export function opColours(params: Record<string, number | string>): number[] {
  const c = params.colours;
  return typeof c === 'string' && c !== '' ? c.split(',').map(Number) : [];
}

/** Per-router configuration so far: `x,y,colour,input` entries taken. */
type RouterTable = Set<string>;

/** The per-router entries of kernel routes (relative to the P×P region at the origin), colours shifted by `base`. */
function entries(routes: readonly KernelRoute[], P: number, base: number): [string, string][] {
  const out: [string, string][] = [];
  for (const r of routes) {
    const outputs = [...r.outputs].join('+');
    for (let y = 0; y < P; y++) {
      for (let x = 0; x < P; x++) {
        if (r.guard !== undefined && evalExpr(r.guard, { x, y, w: P, h: P, i0: 0, i1: 0, i2: 0, i3: 0 }) === 0) continue;
        out.push([`${x},${y},${r.colour + base},${r.input}`, outputs]);
      }
    }
  }
  return out;
}

/**
 * Colours for every distributed kernel. Each colour of a kernel's rule set takes the lowest colour
 * on which none of its rules meets a rule already configured (same router, colour and entering
 * port: W5008 at load); kernels with identical rule sets share one set of colours.
 */
export function routeDistributed(mesh: MeshGraph, target: Target, P: number): MeshGraph {
  const C = target.router.colours;
  const all = Array.from({ length: C }, (_, i) => i);
  const table: RouterTable = new Set();
  const bySignature = new Map<string, number[]>();
  const holders = new Map<number, string[]>();
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
        const rules = probe.routes.filter((r) => r.colour === i);
        const free = all.find((c) => !chosen.includes(c) && entries(rules, P, c - i).every(([k]) => !table.has(k)));
        if (free === undefined) {
          const list = [...holders].map(([c, names]) => `colour ${c}: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` (+${names.length - 3})` : ''}`);
          throw diag('W3004', `kernel ${op.kernel} of op '${op.name}' needs ${need} colours per router; only ${i} of the ${C} colours of ${target.name} are free of conflicting rules for it`,
            `op '${op.name}'; ${list.join('; ')}`, 'use a target with more colours per router (router.colours), or force kernels that need fewer (--gemm, --allreduce)');
        }
        for (const [k] of entries(rules, P, free - i)) table.add(k);
        chosen.push(free);
      }
      colours = chosen;
      bySignature.set(signature, colours);
    }
    for (const c of colours) (holders.get(c) ?? holders.set(c, []).get(c)!).push(op.name);
    return { ...op, params: { ...op.params, colours: colours.join(',') } };
  });
  return { ...mesh, ops };
}
