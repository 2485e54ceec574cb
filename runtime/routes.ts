/**
 * Router configuration: the program's route rules indexed by (colour, input port), and stream paths
 * followed hop by hop through them (docs/runtime-model.md, "Transfers"). A path is computed once per
 * (source core, colour) and cached in a flat Int32Array pool, so the executor's work per stream is
 * O(path) and no per-word state exists.
 *
 * Path layout in the pool, at its offset: [nDest, nLinks, rrHops, (destCore, hops) × nDest,
 * (linkId, entry) × nLinks], where `entry` is the cycle offset from the stream's start at which its
 * first word enters the link (up-ramp 0, the hop taken after j hops rampLatency + j·α, the down-ramp
 * at a destination h hops away rampLatency + h·α) and rrHops counts router-to-router links (for
 * word-hop statistics). Destinations are in depth-first order of the rules' output lists.
 */
import type { RouteRule } from '../ir/program.js';
import type { Diagnostic } from '../ir/diagnostics.js';
import { compileExpr, exprProblem, type ExprFn } from './loader-expr.js';
import { DX, DY, LINKS_PER_ROUTER, OPPOSITE, PORT_INDEX, PORT_NAMES, RAMP, RAMP_DOWN, RAMP_UP, type Machine } from './machine.js';

/** A rule as the lookup uses it: an inclusive-exclusive rectangle, port numbers, compiled guard. */
export interface RuleEntry {
  index: number;
  colour: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  input: number;
  outputs: number[];
  guard: ExprFn | null;
}

/** Lists of rules per (colour index, input port); long lists get a coarse grid of buckets. */
interface RuleList {
  rules: RuleEntry[];
  /** When set: cell (cx, cy) of size `cell` holds the rules whose rectangle meets it. */
  grid?: RuleEntry[][];
  cell: number;
  gw: number;
}

const GRID_THRESHOLD = 8;

export const PATH_NONE = -1;

export class RouteTable {
  readonly m: Machine;
  /** Distinct colours of the rules, ascending; a colour's index is its position. */
  readonly colours: number[];
  private readonly colourIdx = new Map<number, number>();
  private readonly lists: RuleList[];
  readonly rules: RuleEntry[];
  /** Per colour index: path offset per source core (−1 not computed yet, −2 invalid). */
  private readonly cache: (Int32Array | undefined)[];
  private readonly errors = new Map<number, Diagnostic>();
  pool = new Int32Array(1 << 16);
  poolUsed = 0;
  private readonly env = new Float64Array(8);
  private readonly visit: Int32Array;
  private readonly destSeen: Int32Array;
  private stamp = 0;
  /** Scratch for one path under construction. */
  private dests: number[] = [];
  private links: number[] = [];

  /** `rules` must have passed checkRuleShapes (well-formed ports, guards and colours). */
  constructor(m: Machine, rules: RouteRule[]) {
    this.m = m;
    this.colours = [...new Set(rules.map((r) => r.colour))].sort((a, b) => a - b);
    this.colours.forEach((c, i) => this.colourIdx.set(c, i));
    this.rules = rules.map((r, index) => ({
      index,
      colour: r.colour,
      x0: r.rect.x,
      y0: r.rect.y,
      x1: r.rect.x + r.rect.width,
      y1: r.rect.y + r.rect.height,
      input: PORT_INDEX[r.input],
      outputs: r.outputs.map((p) => PORT_INDEX[p]),
      guard: r.guard !== undefined ? compileExpr(r.guard).fn : null,
    }));
    this.lists = [];
    for (let i = 0; i < this.colours.length * 5; i++) this.lists.push({ rules: [], cell: 0, gw: 0 });
    for (const e of this.rules) this.lists[this.colourIdx.get(e.colour)! * 5 + e.input].rules.push(e);
    for (const l of this.lists) if (l.rules.length > GRID_THRESHOLD) this.buildGrid(l);
    this.cache = this.colours.map(() => undefined);
    this.visit = new Int32Array(m.cores * 5);
    this.destSeen = new Int32Array(m.cores);
  }

  private buildGrid(l: RuleList): void {
    const cell = Math.max(8, Math.ceil(Math.sqrt((this.m.width * this.m.height) / 4096)));
    const gw = Math.ceil(this.m.width / cell);
    const gh = Math.ceil(this.m.height / cell);
    const grid: RuleEntry[][] = Array.from({ length: gw * gh }, () => []);
    for (const r of l.rules) {
      const cx1 = Math.min(gw - 1, Math.floor((r.x1 - 1) / cell));
      const cy1 = Math.min(gh - 1, Math.floor((r.y1 - 1) / cell));
      for (let cy = Math.floor(r.y0 / cell); cy <= cy1; cy++) for (let cx = Math.floor(r.x0 / cell); cx <= cx1; cx++) grid[cy * gw + cx].push(r);
    }
    l.grid = grid;
    l.cell = cell;
    l.gw = gw;
  }

  colourIndex(colour: number): number {
    const i = this.colourIdx.get(colour);
    return i === undefined ? -1 : i;
  }

  /** Whether rule `r` applies at router (x, y): inside its rectangle and its guard is non-zero. */
  applies(r: RuleEntry, x: number, y: number): boolean {
    if (x < r.x0 || x >= r.x1 || y < r.y0 || y >= r.y1) return false;
    if (r.guard === null) return true;
    const env = this.env;
    env[0] = x - r.x0;
    env[1] = y - r.y0;
    env[2] = r.x1 - r.x0;
    env[3] = r.y1 - r.y0;
    return r.guard(env) !== 0;
  }

  /** The rule routing `colour index` entering router (x, y) through `input`, if any (the first by program order). */
  lookup(ci: number, input: number, x: number, y: number): RuleEntry | undefined {
    const l = this.lists[ci * 5 + input];
    const rules = l.grid ? l.grid[Math.floor(y / l.cell) * l.gw + Math.floor(x / l.cell)] : l.rules;
    for (let i = 0; i < rules.length; i++) if (this.applies(rules[i], x, y)) return rules[i];
    return undefined;
  }

  /**
   * The path of a stream sent by `core` on colour index `ci`: its pool offset, or −2 when the routes
   * are invalid for it (pathError then says why). Cached.
   */
  path(core: number, ci: number): number {
    let c = this.cache[ci];
    if (!c) { c = new Int32Array(this.m.cores).fill(PATH_NONE); this.cache[ci] = c; }
    const p = c[core];
    if (p !== PATH_NONE) return p;
    const r = this.computePath(core, ci);
    c[core] = r;
    return r;
  }

  pathError(core: number, ci: number): Diagnostic | undefined {
    return this.errors.get(ci * this.m.cores + core);
  }

  private fail(core: number, ci: number, code: string, message: string): number {
    const m = this.m;
    this.errors.set(ci * m.cores + core, {
      code,
      message: `a stream sent by core (${core % m.width},${Math.floor(core / m.width)}) on colour ${this.colours[ci]} ${message}`,
      location: `core (${core % m.width},${Math.floor(core / m.width)}), colour ${this.colours[ci]}`,
      hint: code === 'W5007' ? "Fix the rule's rectangle or outputs." : 'Fix the route rules of this colour.',
    });
    return -2;
  }

  private computePath(src: number, ci: number): number {
    const m = this.m;
    const W = m.width;
    const stamp = ++this.stamp;
    const dests = this.dests;
    const links = this.links;
    dests.length = 0;
    links.length = 0;
    links.push(src * LINKS_PER_ROUTER + RAMP_UP, 0);
    let rr = 0;
    // Depth-first over (router, input port, hops), children in the rule's output order.
    const stack: number[] = [src, RAMP, 0];
    while (stack.length > 0) {
      const hops = stack.pop()!;
      const input = stack.pop()!;
      const router = stack.pop()!;
      const x = router % W;
      const y = (router - x) / W;
      const key = router * 5 + input;
      if (this.visit[key] === stamp) return this.fail(src, ci, 'W5009', `loops: it enters router ${routerAt(router, W)} through its ${PORT_NAMES[input]} port twice`);
      this.visit[key] = stamp;
      const rule = this.lookup(ci, input, x, y);
      if (!rule) {
        return this.fail(src, ci, 'W5009', input === RAMP
          ? `has no route: no rule for colour ${this.colours[ci]} takes it in from the ramp at router ${routerAt(router, W)}`
          : `dead-ends at router ${routerAt(router, W)}: no rule for colour ${this.colours[ci]} takes it in through the ${PORT_NAMES[input]} port`);
      }
      const outs = rule.outputs;
      // Push in reverse so the first output is explored first.
      for (let k = outs.length - 1; k >= 0; k--) {
        const p = outs[k];
        if (p === RAMP) {
          if (router === src) return this.fail(src, ci, 'W5009', `returns to its sender (rule ${rule.index} delivers it back to the ramp)`);
          if (this.destSeen[router] === stamp) return this.fail(src, ci, 'W5009', `reaches core ${routerAt(router, W)} twice`);
          this.destSeen[router] = stamp;
          continue;
        }
        const nx = x + DX[p];
        const ny = y + DY[p];
        if (nx < 0 || ny < 0 || nx >= W || ny >= m.height) {
          return this.fail(src, ci, 'W5007', `leaves the mesh at router ${routerAt(router, W)} through its ${PORT_NAMES[p]} port (rule ${rule.index})`);
        }
        stack.push(ny * W + nx, OPPOSITE[p], hops + 1);
      }
      // Record in output order (deterministic): deliveries first, then the hops taken from here.
      for (const p of outs) {
        if (p === RAMP) {
          dests.push(router, hops);
          links.push(router * LINKS_PER_ROUTER + RAMP_DOWN, m.ramp + hops * m.hop);
        } else {
          links.push(router * LINKS_PER_ROUTER + p, m.ramp + hops * m.hop);
          rr++;
        }
      }
    }
    if (dests.length === 0) return this.fail(src, ci, 'W5009', 'reaches no core');
    const nDest = dests.length / 2;
    const nLinks = links.length / 2;
    const size = 3 + dests.length + links.length;
    if (this.poolUsed + size > this.pool.length) {
      const grown = new Int32Array(Math.max(this.pool.length * 2, this.poolUsed + size));
      grown.set(this.pool.subarray(0, this.poolUsed));
      this.pool = grown;
    }
    const off = this.poolUsed;
    const pool = this.pool;
    pool[off] = nDest;
    pool[off + 1] = nLinks;
    pool[off + 2] = rr;
    for (let i = 0; i < dests.length; i++) pool[off + 3 + i] = dests[i];
    for (let i = 0; i < links.length; i++) pool[off + 3 + dests.length + i] = links[i];
    this.poolUsed += size;
    return off;
  }
}

const routerAt = (r: number, W: number) => `(${r % W},${Math.floor(r / W)})`;

/** Structural checks of the rules (W5012 malformed, W5007 rectangle off the mesh); true when usable. */
export function checkRuleShapes(rules: RouteRule[], m: Machine, out: Diagnostic[]): boolean {
  let ok = true;
  const ports = new Set(['north', 'south', 'east', 'west', 'ramp']);
  rules.forEach((r, i) => {
    const loc = `route rule ${i}${r && typeof r === 'object' ? ` (colour ${String(r.colour)})` : ''}`;
    if (!r || typeof r !== 'object' || !r.rect || typeof r.rect !== 'object' || !Array.isArray(r.outputs)) {
      out.push({ code: 'W5012', message: `route rule ${i} is malformed`, location: loc });
      ok = false;
      return;
    }
    const problems: string[] = [];
    if (!Number.isInteger(r.colour) || r.colour < 0 || r.colour > 0x7fffffff) problems.push(`colour ${String(r.colour)} is not a non-negative integer`);
    if (!ports.has(r.input)) problems.push(`unknown input port ${String(r.input)}`);
    for (const p of r.outputs) if (!ports.has(p)) problems.push(`unknown output port ${String(p)}`);
    if (new Set(r.outputs).size !== r.outputs.length) problems.push('an output port is listed twice');
    if (r.guard !== undefined) { const p = exprProblem(r.guard); if (p) problems.push(`guard: ${p}`); else if (/"v":"i\d"/.test(JSON.stringify(r.guard))) problems.push('guard reads a loop counter (rules see only x, y, w, h)'); }
    const { x, y, width, height } = r.rect;
    if (![x, y, width, height].every(Number.isInteger) || width < 1 || height < 1) problems.push(`rectangle ${JSON.stringify(r.rect)} is not a non-empty integer rectangle`);
    if (problems.length) {
      out.push({ code: 'W5012', message: `route rule ${i}: ${problems.join('; ')}`, location: loc });
      ok = false;
      return;
    }
    if (x < 0 || y < 0 || x + width > m.width || y + height > m.height) {
      out.push({
        code: 'W5007',
        message: `route rule ${i} (colour ${r.colour}) covers routers (${x},${y})..(${x + width - 1},${y + height - 1}), outside the ${m.width}×${m.height} mesh`,
        location: loc,
        hint: "Fix the rule's rectangle.",
      });
      ok = false;
    }
  });
  return ok;
}

