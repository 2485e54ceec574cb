/**
 * allocate-sram — give every tensor of every core its place in SRAM. (mesh → mesh + SRAM plan)
 *
 * A program region has ONE memory map, the same on every core (docs/program-format.md), so the map
 * is the union of what the cores need, laid out so that each core's own tensors still fit:
 *
 * - per SRAM type an **arena** buffer (`arena.f32`, `arena.i32`, `arena.f16`) as long as the
 *   largest need of any core. A core's constants are packed at its bottom (they arrive as one
 *   constant per core and type, emit's `const.<type>.<x>_<y>`); its temporaries (values it computes
 *   or receives) go above, largest first, each at the lowest offset where it misses every tensor
 *   live at the same time (greedy by size over the live ranges of the step sequence), so tensors
 *   whose lives do not overlap share bytes. Offsets are per core: each
 *   instruction runs on one core and names its own literal offset.
 * - **I/O slots** (`io.<type>.<k>`) for graph inputs and outputs, whose tilings place a tensor at
 *   element 0 of a buffer: the k-th largest I/O tensor of every core shares slot k, as long as the
 *   largest of them. A tiled input or output (kernels/tiled.ts) has its own buffer `tile.<v>`,
 *   one tile long, holding tile b on tile b's core.
 *
 * Buffers never overlap, so the map needs no live ranges; a core's footprint is the whole map. The
 * alternative — one buffer per tensor per core — would make every core reserve every other core's
 * tensors, and the emulator's functional image grows with cores × map size. When the map exceeds a
 * core's SRAM, W3005 gives a per-core breakdown by tensor of the core needing the most.
 *
 *   before:  %h : f32[8,16] at (0,0 1x1) = call Relu(%x) on (0,0 1x1) @r
 *   after:   (plan)  core (0,0): %x io.f32.0[0] steps 0..0; %h arena.f32[0] steps 0..1; ...
 *            buffers arena.f32 f32[128] @0, io.f32.0 f32[128] @512
 */
import { DiagnosticError } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import { MEM_TYPE_BYTES, type MemType } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { parseTileName } from '../kernels/tiled.js';
import type { BackendPass, BackendState, Core, SramBuffer, SramPlan, SramTensor } from '../pipeline.js';

const TYPES: MemType[] = ['f32', 'i32', 'f16'];
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

/** Lowest offset ≥ base where [off, off + n) misses every placed range live at the same time. */
function firstFit(base: number, n: number, live: [number, number], placed: { off: number; n: number; live: [number, number] }[]): number {
  const busy = placed.filter((p) => p.n > 0 && p.live[0] <= live[1] && live[0] <= p.live[1]).sort((a, b) => a.off - b.off);
  let off = base;
  for (const p of busy) {
    if (off + n <= p.off) break;
    if (p.off + p.n > off) off = p.off + p.n;
  }
  return off;
}

export function allocateSram(mesh: MeshGraph, target: Target): SramPlan {
  const live = liveRanges(mesh);
  const ioNames = new Set([...mesh.inputs, ...mesh.outputs]);
  const perCore = new Map<string, { core: Core; values: string[] }>();
  for (const [name, v] of mesh.values) {
    const core = { x: v.layout.region.x, y: v.layout.region.y };
    const k = coreKey(core);
    (perCore.get(k) ?? perCore.set(k, { core, values: [] }).get(k)!).values.push(name);
  }
  const cores = [...perCore.values()].sort((a, b) => a.core.y - b.core.y || a.core.x - b.core.x);
  const tensors: SramTensor[] = [];
  const arenaLen: Record<MemType, number> = { f32: 0, i32: 0, f16: 0 };
  const usedType: Record<MemType, boolean> = { f32: false, i32: false, f16: false };
  const slotLen = new Map<string, number>(); // `${type}.${k}` → elements
  const tileLen = new Map<string, { type: MemType; length: number }>(); // `tile.<base>` → elements
  const constOrder = [...mesh.constants.keys()];
  for (const { core, values } of cores) {
    const elems = (v: string) => mesh.values.get(v)!.type.shape.reduce((a, b) => a * b, 1);
    const mem = (v: string) => mesh.values.get(v)!.mem;
    for (const t of TYPES) {
      // Constants: packed from element 0 in the order of mesh.constants.
      let top = 0;
      const consts = constOrder.filter((c) => values.includes(c) && mem(c) === t);
      for (const c of consts) {
        usedType[t] = true;
        tensors.push({ value: c, core, mem: t, elements: elems(c), kind: 'const', buffer: `arena.${t}`, offset: top, live: live.get(c)! });
        top += elems(c);
      }
      const base = top;
      const placed: { off: number; n: number; live: [number, number] }[] = [];
      const temps = values.filter((v) => !mesh.constants.has(v) && !ioNames.has(v) && mem(v) === t)
        .sort((a, b) => elems(b) - elems(a) || live.get(a)![0] - live.get(b)![0] || (a < b ? -1 : 1));
      for (const v of temps) {
        usedType[t] = true;
        const n = elems(v);
        const r = live.get(v)!;
        const off = firstFit(base, n, r, placed);
        placed.push({ off, n, live: r });
        top = Math.max(top, off + n);
        tensors.push({ value: v, core, mem: t, elements: n, kind: 'temp', buffer: `arena.${t}`, offset: off, live: r });
      }
      arenaLen[t] = Math.max(arenaLen[t], top);
      // I/O: the k-th largest of this core in slot k.
      // A tile of a tiled graph input or output (kernels/tiled.ts) has a buffer of its own, the same
      // on every core, since one tiling puts every tile at element 0 of one buffer.
      for (const v of values.filter((x) => ioNames.has(x) && !mesh.constants.has(x) && mem(x) === t && parseTileName(x))) {
        usedType[t] = true;
        const key = `tile.${parseTileName(v)!.base}`;
        tileLen.set(key, { type: t, length: Math.max(tileLen.get(key)?.length ?? 0, elems(v)) });
        tensors.push({ value: v, core, mem: t, elements: elems(v), kind: 'io', buffer: key, offset: 0, live: live.get(v)! });
      }
      const io = values.filter((v) => ioNames.has(v) && !mesh.constants.has(v) && mem(v) === t && !parseTileName(v))
        .sort((a, b) => elems(b) - elems(a) || (a < b ? -1 : 1));
      io.forEach((v, k) => {
        const key = `${t}.${k}`;
        slotLen.set(key, Math.max(slotLen.get(key) ?? 0, elems(v)));
        tensors.push({ value: v, core, mem: t, elements: elems(v), kind: 'io', buffer: `io.${key}`, offset: 0, live: live.get(v)! });
      });
    }
  }
  const buffers: SramBuffer[] = [];
  let offset = 0;
  const add = (name: string, type: MemType, length: number) => {
    buffers.push({ name, type, length, offset });
    offset = align4(offset + length * MEM_TYPE_BYTES[type]);
  };
  for (const t of TYPES) if (usedType[t]) add(`arena.${t}`, t, arenaLen[t]);
  for (const t of TYPES) {
    for (let k = 0; slotLen.has(`${t}.${k}`); k++) add(`io.${t}.${k}`, t, slotLen.get(`${t}.${k}`)!);
  }
  for (const [name, b] of [...tileLen].sort((a, c) => (a[0] < c[0] ? -1 : a[0] > c[0] ? 1 : 0))) add(name, b.type, b.length);
  const plan: SramPlan = { buffers, tensors, bytes: offset };
  const capacity = target.sram.bytesPerCore;
  if (plan.bytes > capacity) throw overflow(plan, capacity);
  return plan;
}

/** W3005 with the per-core breakdown of the core whose own tensors need the most. */
function overflow(plan: SramPlan, capacity: number): DiagnosticError {
  const need = new Map<string, { core: Core; bytes: number; items: SramTensor[] }>();
  for (const t of plan.tensors) {
    const k = coreKey(t.core);
    const e = need.get(k) ?? need.set(k, { core: t.core, bytes: 0, items: [] }).get(k)!;
    e.bytes += t.elements * MEM_TYPE_BYTES[t.mem];
    e.items.push(t);
  }
  const worst = [...need.values()].sort((a, b) => b.bytes - a.bytes)[0];
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
  return new DiagnosticError({
    code: 'W3005',
    message: `the memory map needs ${plan.bytes} B per core (${plan.buffers.map((b) => `${b.name} ${b.length * MEM_TYPE_BYTES[b.type]} B`).join(', ')}), but a core has ${capacity} B`,
    location: `core (${worst.core.x},${worst.core.y}): ${list}; ${worst.bytes} B in all, at most ${fixed + peak} B live at once, of ${capacity} B`,
    hint: 'use a larger mesh or a target with more SRAM per core',
  });
}

/** Text of the plan for IR dumps: the map, then each core's tensors. */
export function formatSramPlan(plan: SramPlan): string {
  const lines = [`// memory map (${plan.bytes} B per core)`];
  for (const b of plan.buffers) lines.push(`//   ${b.name}  ${b.type}[${b.length}]  offset ${b.offset}`);
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
    return { ...state, sram: allocateSram(state.mesh!, state.target) };
  },
};
