/**
 * allocate-sram — give every tensor of every core its place in SRAM. (mesh → mesh + SRAM plan)
 *
 * Each core has a memory map of its own (buffers guarded to their cores, docs/program-format.md):
 * every tensor a core holds — a constant, a graph input or output, a value it computes or receives —
 * is one buffer (`<value>@<x>_<y>`, the tensor at element 0) that exists on that core only, so a
 * core reserves nothing for other cores' tensors. Offsets are per core: tensors are placed largest
 * first at the lowest 4-byte-aligned byte offset that misses every tensor of that core live at the
 * same time (live ranges over the step sequence; constants, inputs and outputs live for the whole
 * program), so tensors whose lives do not overlap share bytes; emit declares the live ranges, which
 * the loader checks (W5005). A tiled input or output (kernels/tiled.ts) has one buffer `tile.<v>`
 * on all its tiles' cores, since one tiling puts every tile at element 0 of one buffer: it is placed
 * first, at an offset free on all of them. When a core's tensors need more than its SRAM, W3005 gives
 * that core's breakdown by tensor.
 *
 *   before:  %h : f32[8,16] at (0,0 1x1) = call Relu(%x) on (0,0 1x1) @r
 *   after:   (plan)  core (0,0): %x x@0_0 [0] steps 0..0 ...
 *            buffers x@0_0 f32[128] @0 on (0,0), h@0_0 f32[128] @512 on (0,0)
 */
import { DiagnosticError } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import { MEM_TYPE_BYTES } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { distributedSide } from '../kernels/distributed.js';
import { parseTileName } from '../kernels/tiled.js';
import { allocateDistributed } from './allocate-sram-distributed.js';
import { firstFit, type Placed } from './first-fit.js';
import type { BackendPass, BackendState, Core, SramBuffer, SramPlan, SramTensor } from '../pipeline.js';

const align4 = (n: number) => Math.ceil(n / 4) * 4;
const coreKey = (c: Core) => `${c.x},${c.y}`;

/** Live step range of every value: [definition, last read]; constants and I/O for the whole program. */
export function liveRanges(mesh: MeshGraph): Map<string, [number, number]> {
  const last = mesh.ops.length - 1;
  const live = new Map<string, [number, number]>();
  for (const v of mesh.values.keys()) live.set(v, [0, 0]);
  mesh.ops.forEach((op, s) => {
    for (const o of op.outputs) if (o) live.set(o, [s, s]);
  });
  mesh.ops.forEach((op, s) => {
    for (const i of op.inputs) {
      if (!i) continue;
      const r = live.get(i)!;
      if (s > r[1]) r[1] = s;
    }
  });
  for (const v of [...mesh.constants.keys(), ...mesh.inputs, ...mesh.outputs]) live.set(v, [0, Math.max(0, last)]);
  return live;
}

export function allocateSram(mesh: MeshGraph, target: Target): SramPlan {
  const live = liveRanges(mesh);
  const ioNames = new Set([...mesh.inputs, ...mesh.outputs]);
  const elems = (v: string) => mesh.values.get(v)!.type.shape.reduce((a, b) => a * b, 1);
  const used = new Set<string>([...mesh.inputs, ...mesh.outputs, ...mesh.ops.flatMap((o) => [...o.inputs, ...o.outputs])]);
  const occupancy = new Map<string, Placed[]>();
  const occ = (c: Core) => occupancy.get(coreKey(c)) ?? occupancy.set(coreKey(c), []).get(coreKey(c))!;
  const buffers: SramBuffer[] = [];
  const tensors: SramTensor[] = [];
  const kindOf = (v: string): SramTensor['kind'] => (mesh.constants.has(v) ? 'const' : ioNames.has(v) ? 'io' : 'temp');
  // Tiles of a tiled input or output: one buffer on all their cores.
  const tiled = new Map<string, string[]>();
  for (const v of mesh.values.keys()) {
    const p = parseTileName(v);
    if (p && ioNames.has(v) && !mesh.constants.has(v) && used.has(v)) (tiled.get(p.base) ?? tiled.set(p.base, []).get(p.base)!).push(v);
  }
  for (const [base, tiles] of [...tiled].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const mv = mesh.values.get(tiles[0])!;
    const length = Math.max(...tiles.map(elems));
    const bytes = align4(length * MEM_TYPE_BYTES[mv.mem]);
    const cores = tiles.map((v) => ({ x: mesh.values.get(v)!.layout.region.x, y: mesh.values.get(v)!.layout.region.y }));
    const r = live.get(tiles[0])!;
    const off = firstFit(bytes, r, cores.flatMap((c) => occ(c)));
    const name = `tile.${base}`;
    buffers.push({ name, type: mv.mem, length, offset: off, cores });
    tiles.forEach((v, k) => {
      occ(cores[k]).push({ off, bytes, live: r });
      tensors.push({ value: v, core: cores[k], mem: mv.mem, elements: elems(v), kind: 'io', buffer: name, offset: 0, live: r });
    });
  }
  // Every other tensor: a buffer of its own on its core, largest first.
  const rest = [...mesh.values.keys()].filter((v) => used.has(v) && !(parseTileName(v) && ioNames.has(v) && !mesh.constants.has(v)));
  const bytesOf = (v: string) => align4(elems(v) * MEM_TYPE_BYTES[mesh.values.get(v)!.mem]);
  rest.sort((a, b) => bytesOf(b) - bytesOf(a) || live.get(a)![0] - live.get(b)![0] || (a < b ? -1 : a > b ? 1 : 0));
  for (const v of rest) {
    const mv = mesh.values.get(v)!;
    const core = { x: mv.layout.region.x, y: mv.layout.region.y };
    const r = live.get(v)!;
    const off = firstFit(bytesOf(v), r, occ(core));
    occ(core).push({ off, bytes: bytesOf(v), live: r });
    const name = `${v}@${core.x}_${core.y}`;
    buffers.push({ name, type: mv.mem, length: elems(v), offset: off, cores: [core] });
    tensors.push({ value: v, core, mem: mv.mem, elements: elems(v), kind: kindOf(v), buffer: name, offset: 0, live: r });
  }
  let bytes = 0;
  for (const list of occupancy.values()) for (const p of list) bytes = Math.max(bytes, p.off + p.bytes);
  const plan: SramPlan = { buffers, tensors, bytes };
  const capacity = target.sram.bytesPerCore;
  if (plan.bytes > capacity) throw overflow(plan, capacity);
  return plan;
}

/** W3005 with the breakdown by tensor of the core whose memory map reaches highest. */
function overflow(plan: SramPlan, capacity: number): DiagnosticError {
  const byName = new Map(plan.buffers.map((b) => [b.name, b]));
  const need = new Map<string, { core: Core; top: number; items: SramTensor[] }>();
  for (const t of plan.tensors) {
    const k = coreKey(t.core);
    const e = need.get(k) ?? need.set(k, { core: t.core, top: 0, items: [] }).get(k)!;
    const b = byName.get(t.buffer)!;
    e.top = Math.max(e.top, b.offset + align4(b.length * MEM_TYPE_BYTES[b.type]));
    e.items.push(t);
  }
  const worst = [...need.values()].sort((a, b) => b.top - a.top || a.core.y - b.core.y || a.core.x - b.core.x)[0];
  const items = worst.items.map((t) => ({ name: t.value, bytes: t.elements * MEM_TYPE_BYTES[t.mem], kind: t.kind }))
    .sort((a, b) => b.bytes - a.bytes || (a.name < b.name ? -1 : 1));
  const list = items.slice(0, 12).map((t) => `%${t.name} ${t.bytes} B (${t.kind})`).join(', ') + (items.length > 12 ? `, and ${items.length - 12} more` : '');
  // Peak live bytes: constants and I/O always, temporaries by their live steps.
  const ev: [number, number][] = [];
  let fixed = 0;
  for (const t of worst.items) {
    const b = t.elements * MEM_TYPE_BYTES[t.mem];
    if (t.kind === 'temp') ev.push([t.live[0], b], [t.live[1] + 1, -b]);
    else fixed += b;
  }
  let cur = 0, peak = 0;
  for (const [, d] of ev.sort((a, b) => a[0] - b[0] || a[1] - b[1])) peak = Math.max(peak, (cur += d));
  const total = items.reduce((a, t) => a + t.bytes, 0);
  return new DiagnosticError({
    code: 'W3005',
    message: `the memory map of core (${worst.core.x},${worst.core.y}) needs ${worst.top} B, but a core has ${capacity} B`,
    location: `core (${worst.core.x},${worst.core.y}): ${list}; ${total} B in all, at most ${fixed + peak} B live at once, of ${capacity} B`,
    hint: 'use a larger mesh or a target with more SRAM per core',
  });
}

/** Text of the plan for IR dumps: the map, then each core's tensors. */
export function formatSramPlan(plan: SramPlan): string {
  const lines = [`// memory map (${plan.bytes} B per core)`];
  for (const b of plan.buffers) lines.push(`//   ${b.name}  ${b.type}[${b.length}]  offset ${b.offset}${b.cores ? `  on ${b.cores.map((c) => `(${c.x},${c.y})`).join(' ')}` : ''}`);
  let core = '';
  for (const t of [...plan.tensors].sort((a, b) => a.core.y - b.core.y || a.core.x - b.core.x)) {
    const k = `(${t.core.x},${t.core.y})`;
    if (k !== core) lines.push(`// core ${(core = k)}`);
    lines.push(`//   %${t.value}  ${t.mem}[${t.elements}]  ${t.buffer}[${t.offset}]  steps ${t.live[0]}..${t.live[1]}`);
  }
  return lines.join('\n');
}

export const allocateSramPass: BackendPass = {
  id: 'allocate-sram',
  summary: 'lay out the memory map and every core\'s tensors in it (liveness-based offsets)',
  run(state: BackendState): BackendState {
    const P = distributedSide(state.mesh!);
    if (P !== undefined) return { ...state, sram: allocateDistributed(state.mesh!, state.target, P) };
    return { ...state, sram: allocateSram(state.mesh!, state.target) };
  },
};
