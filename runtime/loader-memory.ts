/**
 * Loader, memory-map part: checks a kernel's buffer declarations (W5012), that the map fits a core's
 * SRAM (W5004) and that no two buffers share bytes while both are live (W5005), and computes the
 * SRAM high-water the report shows.
 *
 * Without buffer guards the map is the same on every core and is checked once. With guards
 * (BufferDecl.guard) every check is per core over the buffers present on that core: the cores are
 * grouped by their set of present buffers (loader-presence.ts) and each group is checked once; a
 * diagnostic names the first core (row-major) where the problem happens. The overlap check sweeps
 * the present buffers in offset order, so it compares only buffers whose byte ranges do overlap.
 */
import type { Diagnostic } from '../ir/diagnostics.js';
import type { BufferDecl, Region } from '../ir/program.js';
import { MEM_TYPE_BYTES } from '../ir/program.js';
import { MEM_TYPES } from '../ir/program-codec-validate.js';
import type { Target } from '../ir/target.js';
import { compileExpr, exprProblem, maxLoopVar, type ExprFn } from './loader-expr.js';
import { buildPresence, type Presence } from './loader-presence.js';

export interface MemoryMap {
  /** Which buffers exist on which core; null when no buffer has a guard (all exist everywhere). */
  presence: Presence | null;
  /** With presence: the SRAM high-water of each group of cores. */
  groupHighWater: Float64Array | null;
  /** Max over the region's cores of the SRAM high-water (bytes of the present buffers live at one instruction). */
  liveHighWater: number;
}

const end = (b: BufferDecl) => b.offset + b.length * MEM_TYPE_BYTES[b.type];
const fmtLive = (b: BufferDecl) => (b.live ? `instructions #${b.live[0]}..#${b.live[1]}` : 'the whole kernel');

/**
 * W5004, W5005 and malformed declarations (W5012). Returns undefined when a declaration is malformed
 * (the code cannot be compiled against it). Per-core maps are built only for a region whose rectangle
 * lies on the mesh (any other is refused with W5013 anyway).
 */
export function checkBuffers(region: Region, target: Target, out: Diagnostic[]): MemoryMap | undefined {
  const bufs = region.kernel.buffers;
  let ok = true;
  const guards: (ExprFn | null)[] = [];
  bufs.forEach((b, i) => {
    const problems: string[] = [];
    guards.push(null);
    if (!b || typeof b !== 'object') problems.push('is not an object');
    else {
      if (!MEM_TYPES.includes(b.type)) problems.push(`has unknown type ${String(b.type)}`);
      if (!Number.isInteger(b.offset) || b.offset < 0) problems.push(`has offset ${String(b.offset)}`);
      if (!Number.isInteger(b.length) || b.length < 0) problems.push(`has length ${String(b.length)}`);
      if (b.live !== undefined && !(Array.isArray(b.live) && b.live.length === 2 && b.live.every(Number.isInteger) && b.live[0] <= b.live[1])) problems.push('has a malformed live range');
      if (b.guard !== undefined) {
        const p = exprProblem(b.guard);
        if (p) problems.push(`has a malformed guard (${p})`);
        else {
          const c = compileExpr(b.guard);
          if (maxLoopVar(c) >= 0) problems.push(`has a guard reading loop counter i${maxLoopVar(c)} (a buffer guard is an expression of x, y, w, h)`);
          else guards[i] = c.fn;
        }
      }
    }
    if (problems.length) {
      ok = false;
      out.push({ code: 'W5012', message: `buffer ${i} (${String(b?.name)}) ${problems.join(', ')}`, location: `region ${region.name}` });
    }
  });
  if (!ok) return undefined;
  if (guards.every((g) => g === null)) {
    checkWholeMap(region, target, out);
    return { presence: null, groupHighWater: null, liveHighWater: liveHighWater(bufs, null, 0) };
  }
  const { x, y, width, height } = region.rect ?? {};
  const onMesh = [x, y, width, height].every(Number.isInteger) && x >= 0 && y >= 0 && width >= 1 && height >= 1
    && x + width <= target.width && y + height <= target.height;
  if (!onMesh) return { presence: null, groupHighWater: null, liveHighWater: 0 };
  const presence = buildPresence(guards, bufs.map((b) => b.guard), width, height);
  checkPerCore(region, target, presence, out);
  const groupHighWater = new Float64Array(presence.groups);
  for (let g = 0; g < presence.groups; g++) groupHighWater[g] = liveHighWater(bufs, presence.mask, g * presence.buffers);
  return { presence, groupHighWater, liveHighWater: groupHighWater.reduce((m, v) => Math.max(m, v), 0) };
}

/** The map without guards: one check for every core of the region. */
function checkWholeMap(region: Region, target: Target, out: Diagnostic[]): void {
  const bufs = region.kernel.buffers;
  const cap = target.sram.bytesPerCore;
  const high = bufs.reduce((m, b) => Math.max(m, end(b)), 0);
  if (high > cap) {
    const { x, y } = region.rect;
    out.push({
      code: 'W5004',
      message: `region ${region.name}: the memory map reaches byte ${high} but a core has ${cap} bytes of SRAM; largest buffers: ${largest(bufs, null, 0)}`,
      location: `region ${region.name}, core (${x},${y}) and every core of the region`,
      hint: 'Use more cores or smaller tiles.',
    });
  }
  for (let i = 0; i < bufs.length; i++) {
    for (let j = i + 1; j < bufs.length; j++) {
      const a = bufs[i], b = bufs[j];
      if (a.offset >= end(b) || b.offset >= end(a) || end(a) === a.offset || end(b) === b.offset) continue;
      if (!liveOverlap(a, b)) continue;
      out.push(overlap(region, a, b, ''));
    }
  }
}

/** The map with guards: each group of cores over the buffers present on it. */
function checkPerCore(region: Region, target: Target, pr: Presence, out: Diagnostic[]): void {
  const bufs = region.kernel.buffers;
  const nb = pr.buffers;
  const cap = target.sram.bytesPerCore;
  const coreText = (g: number) => `core (${region.rect.x + (pr.first[g] % region.rect.width)},${region.rect.y + Math.floor(pr.first[g] / region.rect.width)})`;
  // W5004: the first group (by first core) that overflows, and how many cores do.
  let over = -1, overHigh = 0, overCores = 0;
  for (let g = 0; g < pr.groups; g++) {
    let high = 0;
    for (let i = 0; i < nb; i++) if (pr.mask[g * nb + i] && end(bufs[i]) > high) high = end(bufs[i]);
    if (high <= cap) continue;
    overCores += pr.count[g];
    if (over < 0) { over = g; overHigh = high; }
  }
  if (over >= 0) {
    const others = overCores - 1;
    out.push({
      code: 'W5004',
      message: `region ${region.name}: on ${coreText(over)} the memory map reaches byte ${overHigh} but a core has ${cap} bytes of SRAM; largest buffers there: ${largest(bufs, pr.mask, over * nb)}${others > 0 ? ` (${others} more core${others === 1 ? '' : 's'} of the region overflow)` : ''}`,
      location: `region ${region.name}, ${coreText(over)}`,
      hint: 'Use more cores or smaller tiles.',
    });
  }
  // W5005: sweep each group's present buffers in offset order; each pair is reported once, at the
  // first core that has both.
  const order = bufs.map((_, i) => i).filter((i) => end(bufs[i]) > bufs[i].offset)
    .sort((a, b) => bufs[a].offset - bufs[b].offset || a - b);
  const seen = new Set<number>();
  const active: number[] = [];
  for (let g = 0; g < pr.groups; g++) {
    active.length = 0;
    for (const j of order) {
      if (!pr.mask[g * nb + j]) continue;
      const b = bufs[j];
      let k = 0;
      for (const i of active) if (end(bufs[i]) > b.offset) active[k++] = i;
      active.length = k;
      for (const i of active) {
        if (!liveOverlap(bufs[i], b)) continue;
        const [lo, hi] = i < j ? [i, j] : [j, i];
        const key = lo * nb + hi;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(overlap(region, bufs[lo], bufs[hi], coreText(g)));
      }
      active.push(j);
    }
  }
}

function liveOverlap(a: BufferDecl, b: BufferDecl): boolean {
  const la = a.live ?? [-Infinity, Infinity];
  const lb = b.live ?? [-Infinity, Infinity];
  return !(la[1] < lb[0] || lb[1] < la[0]);
}

function overlap(region: Region, a: BufferDecl, b: BufferDecl, core: string): Diagnostic {
  return {
    code: 'W5005',
    message: `buffers ${a.name} [${a.offset}, ${end(a)}) and ${b.name} [${b.offset}, ${end(b)}) share bytes while both are live (${fmtLive(a)} and ${fmtLive(b)})${core ? ` on ${core}` : ''}`,
    location: core ? `region ${region.name}, ${core}` : `region ${region.name}`,
    hint: 'A compiler bug when it comes from `wafer compile`.',
  };
}

/** The three largest (present) buffers, largest first, ties by name. */
function largest(bufs: BufferDecl[], mask: Uint8Array | null, at: number): string {
  return bufs.filter((_, i) => mask === null || mask[at + i]).map((b) => ({ b, bytes: end(b) - b.offset }))
    .sort((p, q) => q.bytes - p.bytes || (p.b.name < q.b.name ? -1 : p.b.name > q.b.name ? 1 : 0)).slice(0, 3)
    .map((l) => `${l.b.name} ${l.bytes} B`).join(', ');
}

/**
 * Max over instructions of the bytes of the (present) buffers live there; buffers without a live
 * range count everywhere. A sweep over live-range starts: the maximum of a sum of intervals is
 * reached at the start of one of them.
 */
function liveHighWater(bufs: BufferDecl[], mask: Uint8Array | null, at: number): number {
  let always = 0;
  const events: [number, number][] = [];
  bufs.forEach((b, i) => {
    if (mask !== null && !mask[at + i]) return;
    const bytes = b.length * MEM_TYPE_BYTES[b.type];
    if (!b.live) always += bytes;
    else events.push([b.live[0], bytes], [b.live[1] + 1, -bytes]);
  });
  // At one id, ranges that ended (at id − 1) leave before those that start join.
  events.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  let s = 0, best = 0;
  for (const [, d] of events) {
    s += d;
    if (s > best) best = s;
  }
  return always + best;
}
