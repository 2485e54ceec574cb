/**
 * The smallest square mesh a model compiles for: from a lower bound — every graph output is resident
 * at the end, so the mesh's SRAM must hold their bytes — side by side upward, compiling for a square
 * mesh of that side (the base target's machine figures, its width and height replaced) until one
 * succeeds. A side fails on SRAM (W3002, W3003, W3005), on colours (W3004) or because no distributed
 * kernel takes an op there (W3008: the region's side must divide the dims); anything else is a real
 * error and is thrown, as is W3004 on eight sides in a row. The result keeps every side tried and why
 * it failed.
 */
import { DiagnosticError, diag } from '../ir/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import { MEM_TYPE_BYTES } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { compile, modelGraph, type CompileOptions, type CompileResult } from './compile.js';
import { memTypeOf } from './passes/select-kernels.js';

export interface FitOptions extends Omit<CompileOptions, 'target'> {
  /** Machine figures of the cores and links (default `mesh:1x1`, the generic mesh core). */
  base?: Target;
  /** Largest side to try (default 1024). */
  maxSide?: number;
}

export interface FitResult {
  side: number;
  result: CompileResult;
  /** Sides tried below the result, with the first diagnostic code each failed on. */
  refused: { side: number; code: string }[];
  /** The lower bound the search started from. */
  lowerBound: number;
}

const RETRY = new Set(['W3002', 'W3003', 'W3004', 'W3005', 'W3008']);

/** The smallest square mesh (side) of the base target's cores that the model compiles for. */
export function smallestSquareMesh(model: Uint8Array | Graph, options: FitOptions = {}): FitResult {
  const g = modelGraph(model, options);
  const base = options.base ?? resolveTarget('mesh:1x1');
  const maxSide = options.maxSide ?? 1024;
  let out = 0;
  for (const v of g.outputs) {
    const t = g.types.get(v);
    const n = (t?.shape ?? []).reduce((a: number, b) => a * (typeof b === 'number' ? b : 1), 1);
    out += n * (t ? MEM_TYPE_BYTES[memTypeOf(t.dtype, options)] : 4);
  }
  const lowerBound = Math.max(1, Math.ceil(Math.sqrt(out / base.sram.bytesPerCore)));
  const refused: { side: number; code: string }[] = [];
  const { base: _b, maxSide: _m, ...compileOptions } = options;
  for (let side = lowerBound; side <= maxSide; side++) {
    const target: Target = { ...structuredClone(base), name: `${base.name === `mesh:${base.width}x${base.height}` ? 'mesh' : base.name}:${side}x${side}`, width: side, height: side };
    try {
      return { side, result: compile(g, { ...compileOptions, target }), refused, lowerBound };
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      const code = e.diagnostics[e.diagnostics.length - 1]?.code ?? '';
      if (!e.diagnostics.every((d) => RETRY.has(d.code))) throw e;
      refused.push({ side, code });
      // Out of colours on many sides in a row: more cores will not help (compile already retries smaller regions).
      if (refused.length >= 8 && refused.slice(-8).every((r) => r.code === 'W3004')) throw e;
    }
  }
  throw diag('W3003', `the model compiles for no square mesh of ${base.name}'s cores from side ${lowerBound} to ${maxSide}`, `sides ${lowerBound}..${maxSide}`,
    'raise the largest side, or use a target with more SRAM per core');
}
