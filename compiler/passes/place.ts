/**
 * place — put every op and value on a core of a sub-region of the mesh. (mesh → mesh)
 *
 * Greedy in op order over cores numbered along a snake (row 0 left to right, row 1 right to left,
 * ...): an op stays on the core of its largest input while that core's SRAM allows, else goes to the
 * most recently opened core, else opens the next one. Constants and graph inputs live on the core of
 * their first reader. "Allows" is liveness over the step sequence the later passes build (op i's
 * incoming transfers at time 2i, its call at 2i + 1): a value lives on its producer's core from its
 * definition to its last reader's step (its last local read or transfer out is no later); a copy lives on a reader's core from the
 * transfer just before its first read there to its last read there; constants, graph inputs and
 * outputs for the whole program; small constants (≤ SMALL_CONSTANT_BYTES) are duplicated into each
 * reader's core instead of transferred.
 *
 * Each core has its own memory map (allocate-sram): a core may take an op while its own estimated
 * footprint (constants and I/O, plus its peak live bytes of temporaries per type) stays within the
 * budget. When the real layout (allocate-sram, with its alignment and fragmentation) would still not
 * fit, the budget shrinks by the excess and the placement runs again. Then the used cores are laid on
 * the smallest near-square sub-region (the whole mesh is rarely needed: a small model on mesh:64x64
 * uses a few cores), in snake order.
 *
 * A tile of a tiled op (kernels/tiled.ts, `params.pin = k`) goes on the k-th core, no other.
 *
 * Diagnostics: W3002 when one op's inputs and outputs alone exceed a core's SRAM (the op and the
 * tensors with their bytes are named), W3003 when the model needs more cores than the mesh has (a
 * per-core breakdown of the fullest core is given).
 *
 *   before:  %h = call MatMul(%x, %w1) on (0,0 1x1) @mm1     %y = call MatMul(%h, %w2) on (0,0 1x1) @mm2
 *   after:   %h = call MatMul(%x, %w1) on (0,0 1x1) @mm1     %y = call MatMul(%h, %w2) on (1,0 1x1) @mm2
 *            (%w1 and %w2 do not fit one core together; %h will be transferred to (1,0))
 */
import { DiagnosticError, type Diagnostic } from '../../ir/diagnostics.js';
import { singleCoreLayout, type MeshGraph, type MeshValue } from '../../ir/mesh.js';
import { MEM_TYPE_BYTES, type MemType, type Rect } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { BackendPass, BackendState, Core, Placement, SramPlan } from '../pipeline.js';
import { distributedSide } from '../kernels/distributed.js';
import { allocateSram } from './allocate-sram.js';
import { insertRedistribution } from './insert-redistribution.js';

/** Constants of at most this many bytes are duplicated into every reader's core instead of transferred. */
export const SMALL_CONSTANT_BYTES = 256;

/** Step times of op i: its incoming transfers at 2i, its call at 2i + 1; the end of the program. */
const XFER = (i: number) => 2 * i;
const CALL = (i: number) => 2 * i + 1;
export const END_OF_PROGRAM = Number.MAX_SAFE_INTEGER;

type Kind = 'const' | 'io' | 'temp';
interface Interval {
  value: string;
  mem: MemType;
  bytes: number;
  kind: Kind;
  start: number;
  end: number;
}

export function valueBytes(v: MeshValue): number {
  return v.type.shape.reduce((a, b) => a * b, 1) * MEM_TYPE_BYTES[v.mem];
}

/** The k-th core of a snake order over a region of width w (relative coordinates). */
export function snakeCore(k: number, w: number): Core {
  const y = Math.floor(k / w);
  const i = k % w;
  return { x: y % 2 === 0 ? i : w - 1 - i, y };
}

/** Per-core footprint: constants + the peak of temporaries per type, and I/O tensors. */
interface Footprint {
  arena: Record<MemType, number>;
  io: Interval[];
  total: number;
}

class CoreMemory {
  readonly items = new Map<string, Interval>();
  footprint(): Footprint {
    const arena: Record<MemType, number> = { f32: 0, f16: 0, i32: 0 };
    const io: Interval[] = [];
    const events: Record<MemType, [number, number][]> = { f32: [], f16: [], i32: [] };
    for (const it of this.items.values()) {
      if (it.kind === 'const') arena[it.mem] += it.bytes;
      else if (it.kind === 'io') io.push(it);
      else if (it.bytes > 0) {
        events[it.mem].push([it.start, it.bytes], [it.end + 1, -it.bytes]);
      }
    }
    for (const t of ['f32', 'f16', 'i32'] as MemType[]) {
      const ev = events[t].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let cur = 0;
      let peak = 0;
      for (const [, d] of ev) {
        cur += d;
        if (cur > peak) peak = cur;
      }
      arena[t] += peak;
    }
    const total = arena.f32 + arena.f16 + arena.i32 + io.reduce((s, x) => s + x.bytes, 0);
    return { arena, io, total };
  }
}

export interface PlaceResult {
  /** Core index (snake order) of every op, by op position. */
  opCore: number[];
  /** Home core index of every value. */
  home: Map<string, number>;
  cores: number;
  /** The estimated memory-map bytes (what emit's map will need, before fragmentation). */
  mapBytes: number;
  memories: CoreMemory[];
}

function breakdown(mem: CoreMemory, where: string, capacity: number, extra: Interval[] = []): string {
  const items = [...mem.items.values(), ...extra].sort((a, b) => b.bytes - a.bytes || (a.value < b.value ? -1 : 1));
  const total = mem.footprint().total + extra.reduce((s, x) => s + x.bytes, 0);
  const shown = items.slice(0, 12).map((it) => `%${it.value} ${it.bytes} B (${it.kind})`).join(', ');
  return `${where}: ${shown}${items.length > 12 ? `, and ${items.length - 12} more` : ''}; total ${total} B of ${capacity} B`;
}

/** The greedy placement with a budget for the memory map. Throws W3002 for an op that cannot fit any core. */
export function placeGreedy(mesh: MeshGraph, target: Target, budget: number): PlaceResult {
  const capacity = target.sram.bytesPerCore;
  const outputs = new Set(mesh.outputs);
  const inputs = new Set(mesh.inputs);
  const memories: CoreMemory[] = [];
  const home = new Map<string, number>();
  const opCore: number[] = [];
  let frontier = -1;
  const footprints: Footprint[] = [];
  const open = () => {
    memories.push(new CoreMemory());
    footprints.push(memories[memories.length - 1].footprint());
    return ++frontier;
  };
  const val = (v: string) => mesh.values.get(v)!;
  const mkInterval = (v: string, kind: Kind, start: number, end: number): Interval => {
    const mv = val(v);
    return { value: v, mem: mv.mem, bytes: valueBytes(mv), kind, start, end };
  };

  const lastRead = new Map<string, number>();
  mesh.ops.forEach((op, i) => op.inputs.forEach((v) => v && lastRead.set(v, i)));
  mesh.ops.forEach((op, i) => {
    // Candidate cores: the core of the largest placed input, the frontier core, a new core.
    let best: { bytes: number; core: number } | undefined;
    for (const v of op.inputs) {
      if (!v || !home.has(v)) continue;
      const b = valueBytes(val(v));
      if (!best || b > best.bytes) best = { bytes: b, core: home.get(v)! };
    }
    const candidates: number[] = [];
    // A tile of a tiled op (kernels/tiled.ts) is pinned to its own core: tile b on core b.
    const pin = typeof op.params.pin === 'number' ? op.params.pin : undefined;
    if (pin !== undefined) {
      while (frontier < pin) open();
      candidates.push(pin);
    } else {
      if (best !== undefined) candidates.push(best.core);
      if (frontier >= 0 && !candidates.includes(frontier)) candidates.push(frontier);
      candidates.push(-1); // a new core
    }

    const tryOn = (c: number): boolean => {
      // Changes, with an undo log: [core, key, previous interval or undefined].
      const undo: [number, string, Interval | undefined][] = [];
      const set = (core: number, it: Interval) => {
        const m = memories[core];
        undo.push([core, it.value, m.items.get(it.value)]);
        m.items.set(it.value, it);
      };
      const homesSet: string[] = [];
      for (const v of op.inputs) {
        if (!v) continue;
        const isConst = mesh.constants.has(v);
        const h = home.get(v);
        if (h === undefined) {
          // A constant or graph input read for the first time lives here.
          home.set(v, c);
          homesSet.push(v);
          set(c, mkInterval(v, isConst ? 'const' : 'io', 0, END_OF_PROGRAM));
          continue;
        }
        if (h === c) {
          const it = memories[c].items.get(v)!;
          if (it.kind === 'temp' && it.end < CALL(i)) set(c, { ...it, end: CALL(i) });
          continue;
        }
        const existing = memories[c].items.get(v);
        if (existing) {
          if (existing.kind === 'temp' && existing.end < CALL(i)) set(c, { ...existing, end: CALL(i) });
          continue;
        }
        if (isConst && valueBytes(val(v)) <= SMALL_CONSTANT_BYTES) {
          set(c, mkInterval(v, 'const', 0, END_OF_PROGRAM));
          continue;
        }
        // (The sender holds v until its last reader's step anyway: see the outputs below.)
        set(c, mkInterval(v, 'temp', XFER(i), CALL(i)));
      }
      for (const o of op.outputs) {
        if (!o) continue;
        home.set(o, c);
        homesSet.push(o);
        // A computed value stays on its core until its last reader's step, wherever that reader is.
        set(c, outputs.has(o) ? mkInterval(o, 'io', 0, END_OF_PROGRAM) : mkInterval(o, 'temp', CALL(i), CALL(lastRead.get(o) ?? i)));
      }
      footprints[c] = memories[c].footprint();
      const fits = footprints[c].total <= budget;
      if (fits) return true;
      for (let u = undo.length - 1; u >= 0; u--) {
        const [core, key, prev] = undo[u];
        if (prev) memories[core].items.set(key, prev);
        else memories[core].items.delete(key);
      }
      for (const v of homesSet) home.delete(v);
      footprints[c] = memories[c].footprint();
      return false;
    };

    for (const cand of candidates) {
      const c = cand === -1 ? open() : cand;
      if (tryOn(c)) {
        opCore.push(c);
        return;
      }
      if (cand === -1 || cand === pin) {
        // Not even an empty core (or the pinned one) holds the op: name it and its tensors.
        const fresh = new CoreMemory();
        const extra = [...op.inputs, ...op.outputs].filter((v, k, all) => v && all.indexOf(v) === k)
          .map((v) => mkInterval(v, mesh.constants.has(v) ? 'const' : inputs.has(v) || outputs.has(v) ? 'io' : 'temp', 0, 0));
        const need = extra.reduce((s, x) => s + x.bytes, 0);
        const at = snakeCore(c, target.width);
        throw new DiagnosticError({
          code: 'W3002',
          message: `op '${op.name}' (${op.op}) needs ${need} B of SRAM for its inputs and outputs; a core has ${capacity} B` +
            (need <= capacity ? `, of which the placement keeps ${capacity - budget} B in reserve for alignment` : ''),
          location: `op '${op.name}', ${breakdown(fresh, `core (${at.x},${at.y})`, capacity, extra)}`,
          hint: 'a single-core `call` holds the whole op on one core: use a target with more SRAM per core, or smaller tensors',
        });
      }
    }
  });
  // Values nothing reads or writes (a graph input only listed as an output is copied by select-kernels).
  for (const v of mesh.inputs) if (!home.has(v)) home.set(v, Math.max(0, frontier));
  if (frontier < 0) open();
  return { opCore, home, cores: frontier + 1, mapBytes: Math.max(0, ...memories.map((m) => m.footprint().total)), memories };
}


/** The smallest near-square region of the mesh with at least `cores` cores. */
export function chooseRegion(cores: number, target: Target): Rect | undefined {
  if (cores > target.width * target.height) return undefined;
  let w = Math.min(target.width, Math.ceil(Math.sqrt(cores)));
  let h = Math.ceil(cores / w);
  if (h > target.height) {
    h = target.height;
    w = Math.ceil(cores / h);
  }
  return { x: 0, y: 0, width: w, height: h };
}

/** The mesh with `result`'s cores (region: the first cores of one row, enough for a trial allocation). */
function applyPlacement(mesh: MeshGraph, result: PlaceResult, coreAt: (k: number) => Core): MeshGraph {
  const rect = (k: number): Rect => ({ ...coreAt(k), width: 1, height: 1 });
  const out: MeshGraph = { ...mesh, values: new Map(), ops: mesh.ops.map((op, i) => ({ ...op, region: rect(result.opCore[i]) })) };
  for (const [name, v] of mesh.values) {
    const c = coreAt(result.home.get(name) ?? 0);
    out.values.set(name, { ...v, layout: singleCoreLayout(c.x, c.y, v.type.shape) });
  }
  return out;
}

/** The memory map the later passes would lay out for this placement (undefined: no region holds it). */
function laidOut(mesh: MeshGraph, target: Target, result: PlaceResult): SramPlan | undefined {
  const region = chooseRegion(result.cores, target);
  if (!region) return undefined;
  const placed = applyPlacement(mesh, result, (k) => snakeCore(k, region.width));
  try {
    return allocateSram(insertRedistribution(placed), { ...target, sram: { ...target.sram, bytesPerCore: Number.MAX_SAFE_INTEGER } });
  } catch {
    return undefined;
  }
}

/** Runs the placement, shrinking the budget until the memory map fits; returns the placed mesh. */
export function place(mesh: MeshGraph, target: Target): { mesh: MeshGraph; placement: Placement } {
  const capacity = target.sram.bytesPerCore;
  let budget = capacity;
  let result = placeGreedy(mesh, target, budget);
  // The allocator packs tensors with some fragmentation that the estimate does not see: shrink the
  // budget until the real memory map fits (a few rounds at most).
  for (let round = 0; round < 16; round++) {
    const trial = laidOut(mesh, target, result);
    if (!trial || trial.bytes <= capacity) break;
    budget -= Math.max(trial.bytes - capacity, 4);
    if (budget <= 0) break;
    result = placeGreedy(mesh, target, budget);
  }
  const region = chooseRegion(result.cores, target);
  if (!region || result.mapBytes > capacity) {
    const fps = result.memories.map((m) => m.footprint().total);
    const worst = fps.indexOf(Math.max(...fps));
    const total = fps.reduce((a, b) => a + b, 0);
    const d: Diagnostic = {
      code: 'W3003',
      message: region
        ? `the model's memory map needs ${result.mapBytes} B per core, more than the ${capacity} B a core of ${target.name} has`
        : `the model needs ${result.cores} cores of ${capacity} B SRAM (${total} B in all), but ${target.name} has ${target.width * target.height}`,
      location: breakdown(result.memories[worst], `fullest core (${snakeCore(worst, target.width).x},${snakeCore(worst, target.width).y})`, capacity),
      hint: 'use a larger mesh (e.g. --target mesh:WxH with more cores) or a target with more SRAM per core',
    };
    throw new DiagnosticError(d);
  }
  const coreAt = (k: number): Core => {
    const c = snakeCore(k, region.width);
    return { x: region.x + c.x, y: region.y + c.y };
  };
  const out = applyPlacement(mesh, result, coreAt);
  const cores = Array.from({ length: result.cores }, (_, k) => coreAt(k));
  const whole = region.width === target.width && region.height === target.height;
  const note = `placed on ${result.cores} core${result.cores === 1 ? '' : 's'}: region (${region.x},${region.y} ${region.width}x${region.height})` +
    (whole ? ` (the whole mesh of ${target.name})` : ` of ${target.name}'s ${target.width}x${target.height} (the model is too small to spread over the whole mesh)`);
  return { mesh: out, placement: { region, cores, budget, note } };
}

export const placePass: BackendPass = {
  id: 'place',
  summary: 'put every op and value on a core of the smallest sub-region whose SRAM holds the model',
  run(state: BackendState): BackendState {
    const P = distributedSide(state.mesh!);
    if (P !== undefined) {
      // A distributed program: its values and kernels already sit on the P×P region (select-kernels).
      const region = { x: 0, y: 0, width: P, height: P };
      const cores = Array.from({ length: P * P }, (_, k) => ({ x: k % P, y: Math.floor(k / P) }));
      const note = `distributed over ${P}x${P} cores: region (0,0 ${P}x${P}) of ${state.target.name}'s ${state.target.width}x${state.target.height}, every value a grid of tiles`;
      return { ...state, placement: { region, cores, budget: state.target.sram.bytesPerCore, note }, notes: [...state.notes, note] };
    }
    const { mesh, placement } = place(state.mesh!, state.target);
    return { ...state, mesh, placement, notes: [...state.notes, placement.note] };
  },
};
