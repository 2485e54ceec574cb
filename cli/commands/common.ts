/**
 * Helpers shared by the commands: reading files with diagnostics, --dim parsing, pass options.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diag } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { importOnnx, bindDims } from '../../compiler/frontend/onnx/index.js';
import { nodeHost } from '../../compiler/host.js';
import { runPasses, type PipelineOptions } from '../../compiler/pass-manager.js';
import { GRAPH_PASSES } from '../../compiler/pipeline.js';

export interface PassFlags {
  dim: string[];
  printIrBefore?: string[];
  printIrAfter?: string[];
  dumpDir?: string;
  timePasses?: boolean;
  verify: boolean;
}

export function readInput(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw diag('W1001', `cannot read '${path}'${code ? ` (${code})` : ''}`, path, 'check the path');
  }
}

/** Parses repeated `--dim name=value` flags. */
export function parseDims(list: string[]): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const item of list) {
    const m = /^([^=]+)=(\d+)$/.exec(item.trim());
    if (!m) throw diag('W1012', `--dim '${item}' is not name=value with a non-negative integer value`, undefined, 'e.g. --dim batch=1');
    const v = Number(m[2]);
    if (!Number.isSafeInteger(v)) throw diag('W1012', `--dim ${m[1]}=${m[2]} is too large`);
    if (m[1] in dims && dims[m[1]] !== v) throw diag('W1012', `--dim ${m[1]} given twice with different values`);
    dims[m[1]] = v;
  }
  return dims;
}

export function pipelineOptions(flags: PassFlags): PipelineOptions {
  const dump = flags.dumpDir;
  if (dump) mkdirSync(dump, { recursive: true });
  return {
    verify: flags.verify,
    printBefore: flags.printIrBefore,
    printAfter: flags.printIrAfter,
    onIr: (id, when, index, text) => {
      if (dump) writeFileSync(join(dump, `${String(index).padStart(2, '0')}-${when}-${id}.ir`), text);
      else process.stdout.write(`// ----- IR ${when} ${id} -----\n${text}\n`);
    },
    onTime: flags.timePasses ? (id, ms) => process.stderr.write(`pass ${id.padEnd(16)} ${ms.toFixed(1).padStart(9)} ms\n`) : undefined,
  };
}

/** Imports a model file and binds the --dim flags. */
export function importModel(path: string, dims: Record<string, number>): Graph {
  const bytes = readInput(path);
  const g = importOnnx(bytes, { modelPath: path, host: nodeHost, dims });
  return Object.keys(dims).length ? bindDims(g, dims) : g;
}

export function runGraphPasses(g: Graph, flags: PassFlags): Graph {
  return runPasses(g, [...GRAPH_PASSES], pipelineOptions(flags));
}
