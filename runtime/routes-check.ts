/**
 * Loader, route part: the checks on route rules and streams (docs/runtime-model.md "Transfers";
 * codes W5006–W5010 of docs/diagnostics.md).
 *
 * - W5007: a rule's outputs leave the mesh from a router it applies to (only the rule's edge row or
 *   column can, so only those routers are looked at, and guards only evaluated there).
 * - W5008: two rules configure the same (router, colour, input): only pairs with intersecting
 *   rectangles are compared, and guards are evaluated only over the intersection.
 * - W5006: more colours configured on a router than the target allows: skipped outright when the
 *   program uses no more colours than that; otherwise counted per router, per colour from the
 *   rectangles (a 2-D difference array), with guards evaluated only inside guarded rules.
 * - W5009 / W5010: every (core, colour) a send or forward can be issued on (guards and colour
 *   expressions evaluated per core, loop-dependent ones over a bounded number of iterations) must
 *   have a valid path; every (core, colour) a receive can be posted on must be a destination of some
 *   such path. Paths land in the RouteTable's cache, where the executor finds them.
 */
import type { Region } from '../ir/program.js';
import type { Diagnostic } from '../ir/diagnostics.js';
import type { Compiled } from './loader-expr.js';
import type { CompiledKernel, TransferSite } from './loader-kernel.js';
import { DX, DY, PORT_NAMES, RAMP, type Machine } from './machine.js';
import type { RouteTable, RuleEntry } from './routes.js';

export type Report = (d: Diagnostic) => void;

/** Leaf executions examined per transfer instruction across a region, when guards or colours depend on loop counters. */
const ITERATION_BUDGET = 4_000_000;
/** Router evaluations spent on one pair of guarded rules before W5008 gives up on the pair. */
const PAIR_BUDGET = 4_000_000;

const at = (x: number, y: number) => `(${x},${y})`;

export function checkRuleSemantics(t: RouteTable, m: Machine, report: Report): void {
  for (const r of t.rules) checkEdges(t, m, r, report);
  checkConflicts(t, report);
  checkColourCounts(t, m, report);
}

function checkEdges(t: RouteTable, m: Machine, r: RuleEntry, report: Report): void {
  for (const p of r.outputs) {
    if (p === RAMP) continue;
    // The routers of the rule whose neighbour through p is off the mesh: one edge row or column.
    let xs: [number, number], ys: [number, number];
    if (DY[p] < 0) { if (r.y0 !== 0) continue; xs = [r.x0, r.x1]; ys = [0, 1]; }
    else if (DY[p] > 0) { if (r.y1 !== m.height) continue; xs = [r.x0, r.x1]; ys = [m.height - 1, m.height]; }
    else if (DX[p] < 0) { if (r.x0 !== 0) continue; xs = [0, 1]; ys = [r.y0, r.y1]; }
    else { if (r.x1 !== m.width) continue; xs = [m.width - 1, m.width]; ys = [r.y0, r.y1]; }
    let bad: [number, number] | undefined;
    for (let y = ys[0]; y < ys[1] && !bad; y++) for (let x = xs[0]; x < xs[1] && !bad; x++) if (t.applies(r, x, y)) bad = [x, y];
    if (bad) {
      report({
        code: 'W5007',
        message: `route rule ${r.index} sends colour ${r.colour} off the mesh: at router ${at(bad[0], bad[1])} its output ${PORT_NAMES[p]} leads outside the ${m.width}×${m.height} mesh`,
        location: `router ${at(bad[0], bad[1])}, colour ${r.colour}`,
        hint: "Fix the rule's rectangle, guard or outputs.",
      });
    }
  }
}

function checkConflicts(t: RouteTable, report: Report): void {
  const byKey = new Map<number, RuleEntry[]>();
  for (const r of t.rules) {
    const k = t.colourIndex(r.colour) * 5 + r.input;
    let l = byKey.get(k);
    if (!l) byKey.set(k, (l = []));
    l.push(r);
  }
  for (const k of [...byKey.keys()].sort((a, b) => a - b)) {
    const l = [...byKey.get(k)!].sort((a, b) => a.x0 - b.x0 || a.index - b.index);
    for (let i = 0; i < l.length; i++) {
      const a = l[i];
      for (let j = i + 1; j < l.length && l[j].x0 < a.x1; j++) {
        const b = l[j];
        const x0 = Math.max(a.x0, b.x0), x1 = Math.min(a.x1, b.x1), y0 = Math.max(a.y0, b.y0), y1 = Math.min(a.y1, b.y1);
        if (x0 >= x1 || y0 >= y1) continue;
        let hit: [number, number] | undefined;
        if (!a.guard && !b.guard) hit = [x0, y0];
        else if ((x1 - x0) * (y1 - y0) <= PAIR_BUDGET) {
          for (let y = y0; y < y1 && !hit; y++) for (let x = x0; x < x1 && !hit; x++) if (t.applies(a, x, y) && t.applies(b, x, y)) hit = [x, y];
        }
        if (hit) {
          const [lo, hi] = a.index < b.index ? [a, b] : [b, a];
          report({
            code: 'W5008',
            message: `route rules ${lo.index} and ${hi.index} both configure colour ${a.colour} entering router ${at(hit[0], hit[1])} through its ${PORT_NAMES[a.input]} port`,
            location: `router ${at(hit[0], hit[1])}, colour ${a.colour}`,
            hint: 'Rules must not overlap: split the rectangles or make the guards exclusive.',
          });
        }
      }
    }
  }
}

function checkColourCounts(t: RouteTable, m: Machine, report: Report): void {
  const limit = m.target.router.colours;
  if (t.colours.length <= limit) return;
  const W = m.width, H = m.height;
  const count = new Uint8Array(m.cores);
  const diff = new Int32Array((W + 1) * (H + 1));
  const has = new Uint8Array(m.cores);
  for (let ci = 0; ci < t.colours.length; ci++) {
    diff.fill(0);
    has.fill(0);
    for (const r of t.rules) {
      if (r.colour !== t.colours[ci]) continue;
      if (r.guard) {
        for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) if (t.applies(r, x, y)) has[y * W + x] = 1;
      } else {
        diff[r.y0 * (W + 1) + r.x0]++;
        diff[r.y0 * (W + 1) + r.x1]--;
        diff[r.y1 * (W + 1) + r.x0]--;
        diff[r.y1 * (W + 1) + r.x1]++;
      }
    }
    // Prefix sums turn the corner marks into coverage counts.
    for (let y = 0; y <= H; y++) for (let x = 0; x <= W; x++) {
      const i = y * (W + 1) + x;
      if (x > 0) diff[i] += diff[i - 1];
      if (y > 0) diff[i] += diff[i - (W + 1)];
      if (x > 0 && y > 0) diff[i] -= diff[i - (W + 1) - 1];
    }
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const c = y * W + x;
      if (has[c] || diff[y * (W + 1) + x] > 0) count[c] = Math.min(255, count[c] + 1);
    }
  }
  let reported = 0;
  let more = 0;
  for (let c = 0; c < m.cores; c++) {
    if (count[c] <= limit) continue;
    if (reported >= 5) { more++; continue; }
    reported++;
    const x = c % W, y = (c - x) / W;
    const cols = t.colours.filter((col) => t.rules.some((r) => r.colour === col && t.applies(r, x, y)));
    report({
      code: 'W5006',
      message: `router ${at(x, y)} has ${cols.length} colours configured (${cols.join(', ')}); the target allows ${limit}`,
      location: `router ${at(x, y)}`,
      hint: 'Use fewer concurrent routes, or relay through cores.',
    });
  }
  if (more > 0) report({ code: 'W5006', message: `${more} more routers have more than ${limit} colours configured`, hint: 'Use fewer concurrent routes, or relay through cores.' });
}

interface SiteContext {
  region: Region;
  regionIndex: number;
  kernel: CompiledKernel;
}

/**
 * Calls visit(core, colour) for every core of the region (and every examined loop iteration) where
 * the site executes, with the colour `colour` evaluates to there. Returns false when the loop
 * iterations were cut short by the budget (some executions were not examined).
 */
function enumerateSite(site: TransferSite, ctx: SiteContext, m: Machine, colour: Compiled, visit: (core: number, colour: number) => void): boolean {
  const { rect } = ctx.region;
  const all: (Compiled | undefined)[] = [site.guard, colour, ...site.loopGuards, ...site.loopCounts];
  const coreDep = all.some((c) => c?.usesCore);
  const leafLoopDep = ((site.guard?.loopMask ?? 0) | colour.loopMask) !== 0;
  const cores = rect.width * rect.height;
  const budget = leafLoopDep ? Math.max(8, Math.floor(ITERATION_BUDGET / (coreDep ? cores : 1))) : 1;
  const env = new Float64Array(8);
  env[2] = rect.width;
  env[3] = rect.height;
  const loops = site.loops.length;
  let complete = true;
  let leaves = 0;
  const found: number[] = [];
  const rec = (d: number): void => {
    if (d === loops) {
      leaves++;
      if (!site.guard || site.guard.fn(env) !== 0) found.push(colour.fn(env));
      return;
    }
    const g = site.loopGuards[d];
    if (g && g.fn(env) === 0) return;
    const n = site.loopCounts[d].fn(env);
    for (let i = 0; i < n; i++) {
      if (leaves >= budget) { complete = false; return; }
      env[4 + d] = i;
      rec(d + 1);
      // Without loop-dependent guards or colours, one execution tells all.
      if (!leafLoopDep && leaves > 0) return;
    }
  };
  const run = () => { leaves = 0; found.length = 0; rec(0); return [...new Set(found)]; };
  if (!coreDep) {
    const cols = run();
    for (let y = 0; y < rect.height; y++) for (let x = 0; x < rect.width; x++) for (const c of cols) visit((rect.y + y) * m.width + rect.x + x, c);
    return complete;
  }
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      env[0] = x;
      env[1] = y;
      leaves = 0;
      found.length = 0;
      rec(0);
      const core = (rect.y + y) * m.width + rect.x + x;
      for (let i = 0; i < found.length; i++) if (i === 0 || !found.slice(0, i).includes(found[i])) visit(core, found[i]);
    }
  }
  return complete;
}

const coreAt = (m: Machine, c: number) => at(c % m.width, Math.floor(c / m.width));

/** W5009 for every potential stream source, then W5010 for every potential receive. */
export function checkStreams(t: RouteTable, m: Machine, sites: SiteContext[], report: Report): void {
  const nc = t.colours.length;
  // Per colour: 1 + index (into `sources`) of the first site that can send from each core.
  const srcSite: (Int32Array | undefined)[] = new Array(nc).fill(undefined);
  const truncated = new Uint8Array(nc);
  const sources: { site: TransferSite; ctx: SiteContext }[] = [];
  const badColour = (site: TransferSite, ctx: SiteContext, core: number, colour: number, code: string, role: string) => report({
    code,
    message: Number.isInteger(colour) && colour >= 0
      ? `${role} on colour ${colour}, which no route rule configures`
      : `${role} on colour ${colour}, which is not a non-negative integer`,
    location: `core ${coreAt(m, core)}, colour ${colour}, region ${ctx.region.name}, instruction #${site.instr.id} (${site.instr.loc})`,
    hint: code === 'W5009' ? 'Add route rules for the colour.' : 'Add the route, or remove the receive.',
  });
  for (const ctx of sites) {
    for (const site of ctx.kernel.transfers) {
      if (!site.sendColour) continue;
      const si = sources.length;
      sources.push({ site, ctx });
      const warned = new Set<number>();
      const complete = enumerateSite(site, ctx, m, site.sendColour, (core, colour) => {
        const ci = t.colourIndex(colour);
        if (ci < 0) {
          if (!warned.has(colour)) { warned.add(colour); badColour(site, ctx, core, colour, 'W5009', `a ${site.instr.opName} sends`); }
          return;
        }
        let a = srcSite[ci];
        if (!a) srcSite[ci] = a = new Int32Array(m.cores);
        if (a[core] === 0) a[core] = si + 1;
      });
      if (!complete) for (let ci = 0; ci < nc; ci++) truncated[ci] = 1;
    }
  }
  const reach: (Uint8Array | undefined)[] = new Array(nc).fill(undefined);
  for (let ci = 0; ci < nc; ci++) {
    const a = srcSite[ci];
    if (!a) continue;
    const r = (reach[ci] = new Uint8Array(m.cores));
    for (let core = 0; core < m.cores; core++) {
      if (a[core] === 0) continue;
      const p = t.path(core, ci);
      if (p < 0) {
        const d = t.pathError(core, ci)!;
        const { site, ctx } = sources[a[core] - 1];
        report({ ...d, location: `${d.location}, region ${ctx.region.name}, instruction #${site.instr.id} (${site.instr.loc})` });
        continue;
      }
      const pool = t.pool;
      const nDest = pool[p];
      for (let k = 0; k < nDest; k++) r[pool[p + 3 + 2 * k]] = 1;
    }
  }
  for (const ctx of sites) {
    for (const site of ctx.kernel.transfers) {
      if (!site.recvColour) continue;
      const warned = new Set<number>();
      let count = 0;
      let first = -1, firstColour = 0;
      enumerateSite(site, ctx, m, site.recvColour, (core, colour) => {
        const ci = t.colourIndex(colour);
        if (ci < 0) {
          if (!warned.has(colour)) { warned.add(colour); badColour(site, ctx, core, colour, 'W5010', `a ${site.instr.opName} receives`); }
          return;
        }
        if (truncated[ci] || reach[ci]?.[core]) return;
        if (count++ === 0) { first = core; firstColour = colour; }
      });
      if (count > 0) {
        report({
          code: 'W5010',
          message: `core ${coreAt(m, first)} receives on colour ${firstColour}, but no route delivers that colour to it from any core that sends on it${count > 1 ? ` (${count - 1} more such receives of this instruction)` : ''}`,
          location: `core ${coreAt(m, first)}, colour ${firstColour}, region ${ctx.region.name}, instruction #${site.instr.id} (${site.instr.loc})`,
          hint: 'Add the route, or remove the receive.',
        });
      }
    }
  }
}

export type { SiteContext };
