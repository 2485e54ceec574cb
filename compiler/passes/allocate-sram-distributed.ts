/**
 * allocate-sram, for a distributed program: every core of the P×P region holds the same tiles, so
 * one memory map serves them all. Each value's tile is a buffer of its own (`v.<name>`, element 0 is
 * the tile, as kernels and tilings want) — shared with its views (dist.view outputs), live over the
 * union of their lives — and each kernel's scratch is one reservation
 * (`scratch.<op>`) live only during its step. Graph inputs and constants live from the start to
 * their last reader's step, outputs from their producer's to the end, other values from their
 * producer's step to their last reader's. Buffers are placed
 * largest first at the lowest 4-byte-aligned offset missing every buffer live at the same time, so
 * values whose lives do not overlap share bytes (emit declares the live ranges, which the loader
 * checks: docs/program-format.md). W3005 when the map exceeds a core, with the tensors live at the
 * fullest step.
 */
import { DiagnosticError } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import { MEM_TYPE_BYTES } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { dryRun, tileElementsOf, viewRoots } from '../kernels/distributed.js';
import type { SramBuffer, SramPlan, SramTensor } from '../pipeline.js';
import { firstFit, type Placed } from './first-fit.js';
import { opColours } from './route-distributed.js';

const align4 = (n: number) => Math.ceil(n / 4) * 4;

interface Item {
  buffer: SramBuffer;
  value?: string;
  kind: SramTensor['kind'];
  live: [number, number];
  bytes: number;
}

export function allocateDistributed(mesh: MeshGraph, target: Target, P: number): SramPlan {
  const last = Math.max(0, mesh.ops.length - 1);
  const live = new Map<string, [number, number]>();
  mesh.ops.forEach((op, s) => op.outputs.forEach((o) => o && live.set(o, [s, s])));
  mesh.ops.forEach((op, s) => op.inputs.forEach((v) => { const r = v ? live.get(v) : undefined; if (r && s > r[1]) r[1] = s; }));
  // Inputs and constants arrive before the first step and die at their last reader; outputs live
  // from their producer to the end.
  for (const v of [...mesh.inputs, ...mesh.constants.keys()]) {
    const r = live.get(v);
    live.set(v, [0, r ? r[1] : 0]);
  }
  for (const v of mesh.outputs) live.set(v, [live.get(v)?.[0] ?? 0, last]);
  const whole = new Set([...mesh.inputs, ...mesh.outputs, ...mesh.constants.keys()]);
  const items: Item[] = [];
  const used = new Set<string>([...mesh.inputs, ...mesh.outputs, ...mesh.ops.flatMap((o) => [...o.inputs, ...o.outputs])]);
  // A value and its views share one buffer, live over the union of their lives.
  const roots = viewRoots(mesh);
  const groups = new Map<string, string[]>();
  for (const name of mesh.values.keys()) {
    if (!used.has(name)) continue;
    const r = roots.get(name) ?? name;
    (groups.get(r) ?? groups.set(r, []).get(r)!).push(name);
  }
  const members: { value: string; buffer: string }[] = [];
  for (const [r, names] of groups) {
    const v = mesh.values.get(r)!;
    const n = tileElementsOf(mesh, r);
    const kinds = names.map((x): SramTensor['kind'] => (mesh.constants.has(x) ? 'const' : whole.has(x) ? 'io' : 'temp'));
    const kind = kinds.includes('const') ? 'const' : kinds.includes('io') ? 'io' : 'temp';
    const lives = names.map((x) => live.get(x) ?? [0, 0]);
    const span: [number, number] = [Math.min(...lives.map((l) => l[0])), Math.max(...lives.map((l) => l[1]))];
    items.push({ buffer: { name: `v.${r}`, type: v.mem, length: n, offset: 0 }, value: r, kind, live: span, bytes: align4(n * MEM_TYPE_BYTES[v.mem]) });
    for (const x of names) if (x !== r) members.push({ value: x, buffer: `v.${r}` });
  }
  mesh.ops.forEach((op, s) => {
    const bytes = dryRun(op, mesh, target, P, opColours(op.params)).scratchBytes;
    if (bytes > 0) items.push({ buffer: { name: `scratch.${op.name}`, type: 'i32', length: bytes / 4, offset: 0 }, kind: 'temp', live: [s, s], bytes });
  });
  // Largest first (ties: earlier first, then by name).
  const order = [...items].sort((a, b) => b.bytes - a.bytes || a.live[0] - b.live[0] || (a.buffer.name < b.buffer.name ? -1 : a.buffer.name > b.buffer.name ? 1 : 0));
  const placed: Placed[] = [];
  let top = 0;
  for (const it of order) {
    const off = firstFit(it.bytes, it.live, placed);
    it.buffer.offset = off;
    placed.push({ off, bytes: it.bytes, live: it.live });
    top = Math.max(top, off + it.bytes);
  }
  const origin = { x: 0, y: 0 };
  const plan: SramPlan = {
    buffers: items.map((i) => i.buffer),
    tensors: [
      ...items.filter((i) => i.value !== undefined).map((i) => ({
        value: i.value!, core: origin, mem: i.buffer.type, elements: i.buffer.length, kind: i.kind, buffer: i.buffer.name, offset: 0, live: i.live,
      })),
      // The views, in their root's buffer.
      ...members.map((m) => {
        const it = items.find((i) => i.buffer.name === m.buffer)!;
        return { value: m.value, core: origin, mem: it.buffer.type, elements: it.buffer.length, kind: it.kind, buffer: m.buffer, offset: 0, live: it.live };
      }),
    ],
    bytes: top,
  };
  const capacity = target.sram.bytesPerCore;
  if (top > capacity) {
    // The fullest step: what is live there, largest first.
    let worst = 0, peak = -1;
    for (let s = 0; s <= last; s++) {
      const b = items.filter((i) => i.live[0] <= s && s <= i.live[1]).reduce((t, i) => t + i.bytes, 0);
      if (b > peak) { peak = b; worst = s; }
    }
    const at = items.filter((i) => i.live[0] <= worst && worst <= i.live[1]).sort((a, b) => b.bytes - a.bytes);
    const list = at.slice(0, 12).map((i) => `${i.value !== undefined ? `%${i.value}` : i.buffer.name} ${i.bytes} B (${i.kind})`).join(', ') + (at.length > 12 ? `, and ${at.length - 12} more` : '');
    throw new DiagnosticError({
      code: 'W3005',
      message: `the distributed program's memory map needs ${top} B per core on ${P}×${P} cores, but a core has ${capacity} B`,
      location: `every core of (0,0 ${P}x${P}), at step ${worst} (op '${mesh.ops[worst]?.name ?? ''}'): ${list}; ${peak} B live at once`,
      hint: 'use a larger mesh (more cores share the tiles) or a target with more SRAM per core',
    });
  }
  return plan;
}
