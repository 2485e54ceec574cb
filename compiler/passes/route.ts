/**
 * route — give every transfer a path through the routers and a colour. (mesh → mesh + routes)
 *
 * Paths are XY (dimension order): along the sender's row to the receiver's column, then along that
 * column. Each router of a path gets one rule (entering port → leaving ports); straight runs of
 * routers with the same rule become one rule over their rectangle, so the rule count stays near
 * two or three per transfer. Colours are assigned greedily in transfer order (deterministic graph
 * colouring): a transfer takes the smallest colour such that no router of its path already has a
 * rule of that colour for the same entering port with other leaving ports (identical rules are
 * shared), and no router ends up with more than `router.colours` colours. When no colour is left,
 * W3004 names the router and the transfers competing for it (relaying through a core would be the
 * alternative; this back end reports instead).
 *
 * Transfers never overlap in time (schedule runs one step at a time), so colours only have to keep
 * the static router configuration unambiguous, not separate concurrent streams.
 *
 *   before:  %"h@2,0" = redistribute(%h) on (0,0 3x1) {kernel = "transfer"} @"h->2,0"
 *   after:   %"h@2,0" = redistribute(%h) on (0,0 3x1) {colour = 0, hops = 2, kernel = "transfer"} @"h->2,0"
 *            rules: colour 0 (0,0 1x1) ramp -> east; (1,0 1x1) west -> east; (2,0 1x1) west -> ramp
 */
import { DiagnosticError } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import type { Port, RouteRule } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { distributedSide } from '../kernels/distributed.js';
import type { BackendPass, BackendState, Core, TransferRoute } from '../pipeline.js';
import { routeDistributed } from './route-distributed.js';

/** One router of a path: where the stream enters and where it leaves. */
export interface Hop {
  x: number;
  y: number;
  input: Port;
  outputs: Port[];
}

const OPPOSITE: Record<Port, Port> = { east: 'west', west: 'east', north: 'south', south: 'north', ramp: 'ramp' };

/** The XY path from src to dst as one entry per router (src and dst included). */
export function xyPath(src: Core, dst: Core): Hop[] {
  const hops: Hop[] = [];
  let x = src.x, y = src.y;
  let input: Port = 'ramp';
  while (x !== dst.x || y !== dst.y) {
    const dir: Port = x < dst.x ? 'east' : x > dst.x ? 'west' : y < dst.y ? 'south' : 'north';
    hops.push({ x, y, input, outputs: [dir] });
    if (dir === 'east') x++;
    else if (dir === 'west') x--;
    else if (dir === 'south') y++;
    else y--;
    input = OPPOSITE[dir];
  }
  hops.push({ x, y, input, outputs: ['ramp'] });
  return hops;
}

/** Rules for a path: straight runs of identical (input, outputs) merged into one rectangle. */
export function pathRules(path: Hop[], colour: number): RouteRule[] {
  const rules: RouteRule[] = [];
  for (const h of path) {
    const last = rules[rules.length - 1];
    const same = last && last.input === h.input && last.outputs.join() === h.outputs.join();
    if (same && last.rect.height === 1 && last.rect.y === h.y && (h.x === last.rect.x + last.rect.width || h.x === last.rect.x - 1)) {
      last.rect = { x: Math.min(last.rect.x, h.x), y: h.y, width: last.rect.width + 1, height: 1 };
      continue;
    }
    if (same && last.rect.width === 1 && last.rect.x === h.x && (h.y === last.rect.y + last.rect.height || h.y === last.rect.y - 1)) {
      last.rect = { x: h.x, y: Math.min(last.rect.y, h.y), width: 1, height: last.rect.height + 1 };
      continue;
    }
    rules.push({ colour, rect: { x: h.x, y: h.y, width: 1, height: 1 }, input: h.input, outputs: [...h.outputs] });
  }
  return rules;
}

interface Transfer {
  op: string;
  src: Core;
  dst: Core;
  path: Hop[];
}

/** Assigns colours; returns one colour per transfer or throws W3004. */
export function assignColours(transfers: Transfer[], budget: number): number[] {
  // (router, colour, input) → outputs and the transfers using the rule; router → colours.
  const rules = new Map<string, { outputs: string; users: string[] }>();
  const coloursAt = new Map<string, Set<number>>();
  const key = (h: Hop, c: number) => `${h.x},${h.y},${c},${h.input}`;
  const router = (h: Hop) => `${h.x},${h.y}`;
  return transfers.map((t) => {
    const blocked: { colour: number; at: Hop; by: string[] }[] = [];
    for (let c = 0; c < budget; c++) {
      let bad: { at: Hop; by: string[] } | undefined;
      for (const h of t.path) {
        const r = rules.get(key(h, c));
        if (r && r.outputs !== h.outputs.join()) { bad = { at: h, by: r.users }; break; }
        const cs = coloursAt.get(router(h));
        if (cs && !cs.has(c) && cs.size >= budget) { bad = { at: h, by: [] }; break; }
      }
      if (bad) { blocked.push({ colour: c, ...bad }); continue; }
      for (const h of t.path) {
        const k = key(h, c);
        const r = rules.get(k);
        if (r) r.users.push(t.op);
        else rules.set(k, { outputs: h.outputs.join(), users: [t.op] });
        const rk = router(h);
        (coloursAt.get(rk) ?? coloursAt.set(rk, new Set()).get(rk)!).add(c);
      }
      return c;
    }
    const first = blocked[0];
    const competing = [...new Set(blocked.flatMap((b) => b.by))];
    throw new DiagnosticError({
      code: 'W3004',
      message: `no colour left for transfer '${t.op}' from core (${t.src.x},${t.src.y}) to (${t.dst.x},${t.dst.y}): ` +
        `router (${first.at.x},${first.at.y}) entering from ${first.at.input} is taken on ${blocked.length === 1 ? 'its only colour' : `all ${budget} colours`}` +
        (competing.length ? ` by ${competing.map((c) => `'${c}'`).join(', ')}` : ''),
      location: `router (${first.at.x},${first.at.y}), colours 0..${budget - 1}`,
      hint: 'the target allows ' + budget + ' colours per router (router.colours): raise it, or use a target with a larger mesh so transfers spread out',
    });
  });
}

/**
 * The program's rules: every (router, colour, input) of every transfer once (identical rules of
 * several transfers are one rule), horizontal runs of equal rules in a row merged into one rectangle.
 */
export function programRules(routes: readonly TransferRoute[]): RouteRule[] {
  const cells = new Map<string, { x: number; y: number; colour: number; input: Port; outputs: Port[] }>();
  for (const r of routes) {
    for (const rule of r.rules) {
      for (let dy = 0; dy < rule.rect.height; dy++) {
        for (let dx = 0; dx < rule.rect.width; dx++) {
          const x = rule.rect.x + dx, y = rule.rect.y + dy;
          const k = `${rule.colour},${rule.input},${y},${x}`;
          if (!cells.has(k)) cells.set(k, { x, y, colour: rule.colour, input: rule.input, outputs: rule.outputs });
        }
      }
    }
  }
  const sorted = [...cells.values()].sort((a, b) => a.colour - b.colour || (a.input < b.input ? -1 : a.input > b.input ? 1 : 0) || a.y - b.y || a.x - b.x);
  const out: RouteRule[] = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (last && last.colour === c.colour && last.input === c.input && last.outputs.join() === c.outputs.join() && last.rect.y === c.y &&
      last.rect.x + last.rect.width === c.x) {
      last.rect.width++;
      continue;
    }
    out.push({ colour: c.colour, rect: { x: c.x, y: c.y, width: 1, height: 1 }, input: c.input, outputs: [...c.outputs] });
  }
  return out;
}

export function route(mesh: MeshGraph, target: Target): { mesh: MeshGraph; routes: TransferRoute[] } {
  const transfers: Transfer[] = [];
  for (const op of mesh.ops) {
    if (op.kernel !== 'redistribute') continue;
    const a = mesh.values.get(op.inputs[0])!.layout.region;
    const b = mesh.values.get(op.outputs[0])!.layout.region;
    const src = { x: a.x, y: a.y }, dst = { x: b.x, y: b.y };
    transfers.push({ op: op.name, src, dst, path: xyPath(src, dst) });
  }
  const colours = assignColours(transfers, target.router.colours);
  const routes: TransferRoute[] = transfers.map((t, i) => ({
    op: t.op, colour: colours[i], src: t.src, dests: [t.dst], hops: [t.path.length - 1], rules: pathRules(t.path, colours[i]),
  }));
  const byOp = new Map(routes.map((r) => [r.op, r]));
  const out: MeshGraph = {
    ...mesh,
    ops: mesh.ops.map((op) => {
      const r = byOp.get(op.name);
      return r ? { ...op, params: { ...op.params, colour: r.colour, hops: r.hops[0] } } : op;
    }),
  };
  return { mesh: out, routes };
}

export const routePass: BackendPass = {
  id: 'route',
  summary: 'give every transfer an XY route and a colour within the routers\' colour budget',
  run(state: BackendState): BackendState {
    const P = distributedSide(state.mesh!);
    if (P !== undefined) {
      const { mesh, rules } = routeDistributed(state.mesh!, state.target, P);
      return { ...state, mesh, routes: [], routeRules: rules };
    }
    const { mesh, routes } = route(state.mesh!, state.target);
    return { ...state, mesh, routes };
  },
};
