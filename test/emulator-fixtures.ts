/**
 * Shared helpers of the emulator tests: a mesh target whose latencies are all different (so a
 * formula that swaps two of them fails), its figures as short names for the closed-form cycle counts
 * of docs/runtime-model.md, and a way to collect the diagnostics a call throws.
 */
import { DiagnosticError, type Diagnostic } from '../ir/diagnostics.js';
import type { Target } from '../ir/target.js';
import { resolveTarget } from '../ir/target-presets.js';

/** mesh:WxH with distinct small figures: issue 1, comm 3, loop 2, ramp 2, α 3, β 5, rendezvous only. */
export function testTarget(width: number, height: number, over: { queueWords?: number; colours?: number } = {}): Target {
  const t = resolveTarget(`mesh:${width}x${height}`);
  t.overhead = { issue: 1, comm: 3, loop: 2 };
  t.link = { ...t.link, rampLatency: 2, hopLatency: 3, bitsPerCycle: 32 };
  t.relayCycles = 5;
  t.router = { colours: over.colours ?? t.router.colours, queueWords: over.queueWords ?? 0 };
  return t;
}

/** The figures of testTarget under the names the formulas use. */
export const ISSUE = 1; // overhead.issue
export const C = 3; // overhead.comm
export const LOOP = 2; // overhead.loop
export const RAMP = 2; // link.rampLatency
export const ALPHA = 3; // link.hopLatency
export const BETA = 5; // relayCycles
/** Posting delay of a send / recv / forward: issue + comm. */
export const POST = ISSUE + C;

/** The diagnostics `fn` throws (fails when it throws anything else or nothing). */
export function diagnosticsOf(fn: () => unknown): Diagnostic[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof DiagnosticError) return e.diagnostics;
    throw e;
  }
  throw new Error('expected a DiagnosticError');
}

/** Row-major values 0.5, 1.5, ... scaled, distinct per tensor (seeded by `k`). */
export function ramp(n: number, k = 1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((i * 7 + k * 13) % 17) - 8 + k * 0.25);
}
