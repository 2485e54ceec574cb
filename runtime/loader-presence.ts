/**
 * Loader, per-core memory maps: which buffers of a kernel exist on which core of its region
 * (BufferDecl.guard, docs/program-format.md). Cores are grouped by the set of buffers present on
 * them, so every per-core question — does the map fit (W5004), do live buffers share bytes (W5005),
 * the SRAM high-water, the functional SRAM image's layout — is answered once per group, not per core.
 *
 * Each guard is evaluated once per core at most, and fewer times when it reads fewer coordinates: a
 * guard of neither x nor y once, a guard of x only once per column, of y only once per row. A core's
 * group is then the combination of its column's, its row's and its own signature (the bits of the
 * guards of each kind), so building the groups costs O(cores + width·|x guards| + height·|y guards|
 * + cores·|x-and-y guards|). Groups are numbered in the row-major order of their first core.
 */
import type { Expr } from '../ir/program.js';
import type { ExprFn } from './loader-expr.js';

export interface Presence {
  /** Number of buffers of the kernel (the stride of `mask`). */
  buffers: number;
  /** Number of groups. */
  groups: number;
  /** Group of each core of the region, by local index y·width + x. */
  groupOf: Int32Array;
  /** Group g's buffers at [g·buffers, (g+1)·buffers): 1 where the buffer exists. */
  mask: Uint8Array;
  /** First core (local index, row-major) of each group. */
  first: Int32Array;
  /** Number of cores of each group. */
  count: Int32Array;
}

/** Bit 1: the expression reads x; bit 2: it reads y. */
export function coreVars(e: Expr): number {
  if (typeof e === 'number') return 0;
  if ('v' in e) return e.v === 'x' ? 1 : e.v === 'y' ? 2 : 0;
  if (e.op === 'select') return coreVars(e.c) | coreVars(e.a) | coreVars(e.b);
  return coreVars(e.a) | coreVars(e.b);
}

/** Signatures: distinct bit patterns of a set of guards, each pattern numbered once. */
class Signatures {
  private readonly ids = new Map<string, number>();
  /** Bits of each signature, `width` per signature. */
  readonly bits: number[] = [];
  constructor(readonly width: number) {}
  /** The id of the pattern in scratch[0..width). */
  id(scratch: Uint8Array): number {
    let key = '';
    for (let i = 0; i < this.width; i += 16) {
      let c = 0;
      for (let j = 0; j < 16 && i + j < this.width; j++) c |= scratch[i + j] << j;
      key += String.fromCharCode(c);
    }
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size;
      this.ids.set(key, id);
      for (let i = 0; i < this.width; i++) this.bits.push(scratch[i]);
    }
    return id;
  }
  get size(): number {
    return this.ids.size;
  }
}

/**
 * Groups the cores of a width × height region by the buffers present on them. `guards[i]` is
 * buffer i's compiled guard (null: present everywhere) and `exprs[i]` its expression.
 */
export function buildPresence(guards: (ExprFn | null)[], exprs: (Expr | undefined)[], width: number, height: number): Presence {
  const nb = guards.length;
  const env = new Float64Array(8);
  env[2] = width;
  env[3] = height;
  const base = new Uint8Array(nb);
  const xs: number[] = [], ys: number[] = [], xys: number[] = [];
  for (let i = 0; i < nb; i++) {
    const g = guards[i];
    if (g === null) { base[i] = 1; continue; }
    const vars = coreVars(exprs[i]!);
    if (vars === 0) base[i] = g(env) !== 0 ? 1 : 0;
    else (vars === 1 ? xs : vars === 2 ? ys : xys).push(i);
  }
  const scratch = new Uint8Array(Math.max(xs.length, ys.length, xys.length));
  const sigOf = (list: number[], n: number, set: (k: number) => void): { sig: Signatures; of: Int32Array } => {
    const sig = new Signatures(list.length);
    const of = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      set(k);
      for (let j = 0; j < list.length; j++) scratch[j] = guards[list[j]]!(env) !== 0 ? 1 : 0;
      of[k] = sig.id(scratch);
    }
    return { sig, of };
  };
  env[1] = 0;
  const col = sigOf(xs, width, (x) => { env[0] = x; });
  env[0] = 0;
  const row = sigOf(ys, height, (y) => { env[1] = y; });
  const cores = width * height;
  const both = xys.length > 0
    ? sigOf(xys, cores, (c) => { env[0] = c % width; env[1] = Math.floor(c / width); })
    : { sig: new Signatures(0), of: new Int32Array(cores) };

  const nCol = Math.max(1, col.sig.size), nBoth = Math.max(1, both.sig.size);
  const groupOf = new Int32Array(cores);
  const keys = new Map<number, number>();
  let mask = new Uint8Array(nb * 16);
  const first: number[] = [];
  const count: number[] = [];
  for (let y = 0, c = 0; y < height; y++) {
    for (let x = 0; x < width; x++, c++) {
      const key = (row.of[y] * nCol + col.of[x]) * nBoth + both.of[c];
      let g = keys.get(key);
      if (g === undefined) {
        g = keys.size;
        keys.set(key, g);
        first.push(c);
        count.push(0);
        const at = g * nb;
        if (at + nb > mask.length) { const m = new Uint8Array(mask.length * 2); m.set(mask); mask = m; }
        mask.set(base, at);
        xs.forEach((b, j) => { mask[at + b] = col.sig.bits[col.of[x] * xs.length + j]; });
        ys.forEach((b, j) => { mask[at + b] = row.sig.bits[row.of[y] * ys.length + j]; });
        xys.forEach((b, j) => { mask[at + b] = both.sig.bits[both.of[c] * xys.length + j]; });
      }
      groupOf[c] = g;
      count[g]++;
    }
  }
  return { buffers: nb, groups: keys.size, groupOf, mask: mask.slice(0, keys.size * nb), first: Int32Array.from(first), count: Int32Array.from(count) };
}
