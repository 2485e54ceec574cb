/**
 * The SRAM allocators' placement rule (allocate-sram.ts per core, allocate-sram-distributed.ts per
 * region): a tensor goes at the lowest 4-byte-aligned offset where it misses every tensor live at
 * the same time.
 */

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/** A tensor placed on a core: its byte range and its live steps. */
export interface Placed {
  off: number;
  bytes: number;
  live: [number, number];
}

/** Lowest 4-aligned offset where [off, off + bytes) misses every placed range live at the same time on all the given cores. */
export function firstFit(bytes: number, live: [number, number], occupied: readonly Placed[]): number {
  const busy = occupied.filter((p) => p.bytes > 0 && p.live[0] <= live[1] && live[0] <= p.live[1]).sort((a, b) => a.off - b.off);
  let off = 0;
  for (const p of busy) {
    if (off + bytes <= p.off) break;
    if (p.off + p.bytes > off) off = align4(p.off + p.bytes);
  }
  return off;
}
