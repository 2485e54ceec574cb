/**
 * Deterministic PRNGs for seeded data: test inputs, the bundled examples' weights and benchmark
 * operands (and, later, the LLM frontend's seeded weights). Never Math.random: a seed must give the
 * same values on every run and machine, so the algorithm below must not change (committed example
 * files were generated with it).
 */

/**
 * mulberry32: a small 32-bit-state generator. Returns a function giving the next value in [0, 1);
 * generators made with the same seed give the same sequence.
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32 values uniform in [-scale, scale), drawn from `next` (which advances by `n`). */
export function uniformFloats(next: () => number, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (next() * 2 - 1) * scale;
  return a;
}

/** `n` float32 values uniform in [-scale, scale) from a fresh mulberry32 generator seeded with `seed`. */
export function seededFloats(seed: number, n: number, scale = 1): Float32Array {
  return uniformFloats(mulberry32(seed), n, scale);
}
