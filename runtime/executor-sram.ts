/**
 * Functional-mode SRAM: one Float32Array per region holding, for every core of the region, one slot
 * range per buffer of the region's memory map present on that core (allocated only for what the map
 * declares; a buffer whose guard is zero on a core takes nothing there, BufferDecl.guard). Buffers
 * whose bytes the map lets share (disjoint live ranges) get separate slots here: a program may not
 * rely on data surviving in a dead buffer. Also moves constant / input tiles in before cycle 0 and
 * output tiles out after the run (tile layout in loader-tiling.ts, tiling views in loader-view.ts).
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import { float16BitsToNumber } from '../ir/dtype.js';
import type { MemType } from '../ir/program.js';
import { ROUND_F16, ROUND_F32, ROUND_I32, roundTo } from './compute.js';
import type { LoadedData, LoadedProgram, LoadedRegion } from './loader.js';
import { forEachTile } from './loader-tiling.js';
import { matrixToTensor, tensorToMatrix } from './loader-view.js';

/** Largest functional SRAM image (elements over all cores) the emulator allocates: 2^29 floats = 2 GiB. */
export const MAX_FUNCTIONAL_ELEMENTS = 2 ** 29;

export const roundMode = (t: MemType): number => (t === 'f16' ? ROUND_F16 : t === 'i32' ? ROUND_I32 : ROUND_F32);

export class RegionMemory {
  /** Without buffer guards: elements per core (every core has the same image). */
  readonly slots: number;
  /** Element offset of each buffer in a core's image; with guards, per group (−1: absent). */
  readonly slotOff: Int32Array;
  readonly round: Uint8Array;
  readonly mem: Float32Array;
  /** With guards: the group of each core and the start of each core's image. */
  private readonly groupOf: Int32Array | null = null;
  private readonly coreBase: Int32Array | null = null;
  private readonly nb: number;
  constructor(readonly r: LoadedRegion) {
    const bufs = r.kernel.buffers;
    const pr = r.kernel.presence;
    this.nb = bufs.length;
    this.round = Uint8Array.from(bufs, (b) => roundMode(b.type));
    if (pr === null) {
      this.slotOff = new Int32Array(bufs.length);
      let s = 0;
      bufs.forEach((b, i) => { this.slotOff[i] = s; s += b.length; });
      this.slots = s;
      this.mem = new Float32Array(s * r.cores);
      return;
    }
    // A core's image holds the buffers present on it only.
    this.slotOff = new Int32Array(pr.groups * this.nb).fill(-1);
    const size: number[] = [];
    for (let g = 0; g < pr.groups; g++) {
      let s = 0;
      bufs.forEach((b, i) => { if (pr.mask[g * this.nb + i]) { this.slotOff[g * this.nb + i] = s; s += b.length; } });
      size.push(s);
    }
    this.slots = 0;
    this.groupOf = pr.groupOf;
    this.coreBase = new Int32Array(r.cores);
    let at = 0;
    for (let c = 0; c < r.cores; c++) { this.coreBase[c] = at; at += size[pr.groupOf[c]]; }
    this.mem = new Float32Array(at);
  }
  /** Absolute index of element 0 of physical buffer `buf` (present on the core) on the region's core `local`. */
  base(local: number, buf: number): number {
    if (this.groupOf === null) return local * this.slots + this.slotOff[buf];
    return this.coreBase![local] + this.slotOff[this.groupOf[local] * this.nb + buf];
  }
}

/** Elements of the image of a core of each group (one group without guards). */
function groupSizes(r: LoadedRegion): number[] {
  const bufs = r.kernel.buffers, pr = r.kernel.presence;
  if (pr === null) return [bufs.reduce((s, b) => s + b.length, 0)];
  const out: number[] = [];
  for (let g = 0; g < pr.groups; g++) {
    let s = 0;
    bufs.forEach((b, i) => { if (pr.mask[g * bufs.length + i]) s += b.length; });
    out.push(s);
  }
  return out;
}

/** Elements of a region's functional image: every core's present buffers. */
function regionElements(r: LoadedRegion): number {
  const size = groupSizes(r), pr = r.kernel.presence;
  if (pr === null) return size[0] * r.cores;
  let n = 0;
  for (let g = 0; g < pr.groups; g++) n += size[g] * pr.count[g];
  return n;
}

/** Allocates the images after checking their total size (W6005 past the limit). */
export function allocateMemory(lp: LoadedProgram): RegionMemory[] {
  let total = 0;
  for (const r of lp.regions) total += regionElements(r);
  if (total > MAX_FUNCTIONAL_ELEMENTS) {
    throw new DiagnosticError({
      code: 'W6005',
      message: `functional mode would hold ${total} values (${(total * 4 / 2 ** 30).toFixed(1)} GiB) of SRAM; the emulator allows ${MAX_FUNCTIONAL_ELEMENTS}`,
      hint: 'Run with --timing-only, or on a smaller mesh.',
    });
  }
  return lp.regions.map((r) => new RegionMemory(r));
}

/** Decodes little-endian constant bytes of a type into numbers. */
export function decodeData(type: MemType, bytes: Uint8Array): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = type === 'f16' ? 2 : 4;
  const n = Math.floor(bytes.byteLength / size);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = type === 'f16' ? float16BitsToNumber(dv.getUint16(2 * i, true)) : type === 'i32' ? dv.getInt32(4 * i, true) : dv.getFloat32(4 * i, true);
  }
  return out;
}

/**
 * Writes a tensor (row-major values; permuted into the rows×cols matrix by the tiling's view, if any)
 * into every core's tile of `d`; returns the bytes written (every copy counts).
 */
export function placeTiles(lp: LoadedProgram, memory: RegionMemory[], d: LoadedData, tensor: Float32Array): number {
  const t = d.tiles;
  const values = tensorToMatrix(t.view, tensor);
  const r = lp.regions[t.region];
  const m = memory[t.region];
  const round = m.round[t.buffer];
  let elems = 0;
  forEachTile(t, r, (x, y, r0, c0, nr, nc) => {
    const base = m.base(y * r.width + x, t.buffer);
    for (let i = 0; i < nr; i++) {
      for (let j = 0; j < nc; j++) m.mem[base + i * t.tileCols + j] = roundTo(round, values[(r0 + i) * t.cols + c0 + j]);
    }
    elems += nr * nc;
  });
  return elems * (d.type === 'f16' ? 2 : 4);
}

/** Reads every core's tile of `d` back into the rows×cols matrix, returned as the tensor's row-major values (the view undone). */
export function readTiles(lp: LoadedProgram, memory: RegionMemory[], d: LoadedData): Float32Array {
  const t = d.tiles;
  const r = lp.regions[t.region];
  const m = memory[t.region];
  const out = new Float32Array(t.rows * t.cols);
  forEachTile(t, r, (x, y, r0, c0, nr, nc) => {
    const base = m.base(y * r.width + x, t.buffer);
    for (let i = 0; i < nr; i++) for (let j = 0; j < nc; j++) out[(r0 + i) * t.cols + c0 + j] = m.mem[base + i * t.tileCols + j];
  });
  return matrixToTensor(t.view, out);
}

/** Bytes of `d`'s tiles summed over the cores holding them (host I/O volume in timing mode too). */
export function tileBytes(lp: LoadedProgram, d: LoadedData): number {
  let elems = 0;
  forEachTile(d.tiles, lp.regions[d.tiles.region], (_x, _y, _r0, _c0, nr, nc) => { elems += nr * nc; });
  return elems * (d.type === 'f16' ? 2 : 4);
}
