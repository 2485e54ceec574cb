/**
 * The mesh IR text tests' shared checks: exact round trips, the diagnostic of a parse error, and the
 * mutation fuzz (every mutated text parses to a graph that round-trips, or is a W2004 at a location).
 */
import { expect } from 'vitest';
import { DiagnosticError } from '../../ir/diagnostics.js';
import type { MeshGraph } from '../../ir/mesh.js';
import { parseMesh, printMesh } from '../../ir/mesh-text.js';
import { mulberry32 } from '../../ir/random.js';

/** Bytes of every constant, so NaN payloads and -0 count. */
function constantBytes(g: MeshGraph): [string, string, number[], number[]][] {
  return [...g.constants].map(([k, t]) => [k, t.dtype, [...t.shape], [...new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]]);
}

/** Asserts both round-trip properties and returns the printed text. */
export function roundTrip(g: MeshGraph): string {
  const text = printMesh(g);
  const back = parseMesh(text);
  expect(back).toEqual(g);
  expect([...back.constants.keys()]).toEqual([...g.constants.keys()]);
  expect(constantBytes(back)).toEqual(constantBytes(g));
  expect(printMesh(back)).toBe(text);
  return text;
}

/** The diagnostic a call throws (any other outcome fails the test). */
export function diagnosticOf(f: () => unknown): DiagnosticError {
  try {
    f();
  } catch (e) {
    if (e instanceof DiagnosticError) return e;
    throw e;
  }
  throw new Error('expected a diagnostic');
}

/** The diagnostic of parsing `text` as mesh IR. */
export const parseError = (text: string): DiagnosticError => diagnosticOf(() => parseMesh(text));

/** 2000 seeded mutations of `text` (cuts and insertions from `alphabet`): each parses and round-trips, or is a W2004 at a line and column. */
export function fuzzMeshText(text: string, seed: number, alphabet: readonly string[]): void {
  const rand = mulberry32(seed);
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < 2000; i++) {
    const at = Math.floor(rand() * text.length);
    const cut = Math.floor(rand() * 4);
    const insert = rand() < 0.7 ? alphabet[Math.floor(rand() * alphabet.length)] : '';
    const mutated = text.slice(0, at) + insert + text.slice(at + cut);
    try {
      const back = parseMesh(mutated);
      expect(printMesh(parseMesh(printMesh(back)))).toBe(printMesh(back));
      parsed++;
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw new Error(`non-diagnostic exception for mutation ${i}: ${String(e)}`);
      expect(e.diagnostics[0].code).toBe('W2004');
      expect(e.diagnostics[0].location).toMatch(/^line \d+, column \d+$/);
      rejected++;
    }
  }
  expect(parsed).toBeGreaterThan(50);
  expect(rejected).toBeGreaterThan(1000);
}
