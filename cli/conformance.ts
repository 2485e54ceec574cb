/**
 * `wafer conformance`: runs ONNX backend-layout test folders (model.onnx + test_data_set_N/
 * {input,output}_K.pb) through import → bind dims → graph passes → reference evaluation, and compares
 * with the expected outputs. Every case ends as pass, fail (with its worst errors), unsupported (every
 * unsupported op named), rejected (a diagnostic code) or crash (an uncaught exception: always a bug).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import onnxPkg from 'onnx-proto';
import { DiagnosticError } from '../ir/diagnostics.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { bfloat16BitsToNumber } from '../ir/dtype.js';
import type { Graph, TensorType } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import { bindDimsFromInputs, importOnnx, readTensorProto } from '../compiler/frontend/onnx/index.js';
import { nodeHost } from '../compiler/host.js';
import { runPasses } from '../compiler/pass-manager.js';
import { GRAPH_PASSES } from '../compiler/pipeline.js';
import { specializeInputs } from '../compiler/specialize.js';
import { compareTensors, DEFAULT_TOLERANCE, type Tolerance } from './compare.js';

const { onnx } = onnxPkg;

export type CaseStatus = 'pass' | 'fail' | 'unsupported' | 'rejected' | 'crash';

export interface CaseResult {
  name: string;
  dir: string;
  status: CaseStatus;
  /** Op types used by the model (sorted, distinct). */
  ops: string[];
  unsupportedOps?: string[];
  /** Inputs that were specialized to their values because a shape depends on them. */
  specialized?: string[];
  code?: string;
  message?: string;
  maxAbsError?: number;
  maxRelError?: number;
}

/** A folder is a case when it holds model.onnx; otherwise its sub-folders are searched (two levels). */
export function findCases(dirs: string[], depth = 2): string[] {
  const out: string[] = [];
  const visit = (d: string, level: number) => {
    if (existsSync(join(d, 'model.onnx'))) {
      out.push(d);
      return;
    }
    if (level === 0) return;
    let entries: string[];
    try {
      entries = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) visit(p, level - 1);
    }
  };
  for (const d of dirs) visit(d, depth);
  return out;
}

function opTypesOf(bytes: Uint8Array): string[] {
  try {
    const m = onnx.ModelProto.decode(bytes);
    const ops = new Set<string>();
    for (const n of m.graph?.node ?? []) ops.add(n.domain && n.domain !== 'ai.onnx' ? `${n.domain}:${n.opType}` : String(n.opType));
    return [...ops].sort();
  } catch {
    return [];
  }
}

/** The tensors of a test data set folder: input_N.pb or output_N.pb in N order. */
export function readDataSet(dir: string, prefix: 'input' | 'output'): { name: string; tensor: Tensor }[] {
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.pb'))
    .sort((a, b) => parseInt(a.slice(prefix.length + 1)) - parseInt(b.slice(prefix.length + 1)));
  return files.map((f) => readTensorProto(readFileSync(join(dir, f))));
}

/**
 * The 1.12 suite stores bfloat16 test data as UINT16 tensors of the raw bits; read them as the
 * bfloat16 values the graph declares.
 */
function asDeclared(t: Tensor, declared: TensorType | undefined): Tensor {
  if (declared?.dtype !== 'bfloat16' || t.dtype !== 'uint16') return t;
  return Tensor.from('bfloat16', t.shape, Array.from(t.data, bfloat16BitsToNumber));
}

/** Matches data files to graph values: by name when the names match, else by position. */
function byName(g: Graph, names: string[], data: { name: string; tensor: Tensor }[]): Map<string, Tensor> {
  const m = new Map<string, Tensor>();
  const named = data.every((d) => d.name && names.includes(d.name));
  data.forEach((d, i) => {
    const key = named ? d.name : names[i];
    if (key !== undefined) m.set(key, asDeclared(d.tensor, g.types.get(key)));
  });
  return m;
}

export interface RunCaseOptions {
  tolerance?: Tolerance;
}

/** Inputs small enough to specialize when a shape depends on an input's value. */
const SPECIALIZE_LIMIT = 4096;

/**
 * Prepares an imported model for evaluation: bind dims from the given inputs, run the graph passes.
 * When a shape depends on the value of an input (W2003: ONNX tests feed Reshape targets, Pad amounts
 * and the like as inputs), the small inputs are specialized to their values and the passes rerun;
 * `specialized` then lists them.
 */
export function prepareImported(imported: Graph, inputs: { name: string; tensor: Tensor }[]): { graph: Graph; inputs: Map<string, Tensor>; specialized: string[] } {
  const named = byName(imported, imported.inputs, inputs);
  const bound = bindDimsFromInputs(imported, named);
  try {
    return { graph: runPasses(bound, [...GRAPH_PASSES]), inputs: named, specialized: [] };
  } catch (e) {
    if (!(e instanceof DiagnosticError) || !e.diagnostics.some((d) => d.code === 'W2003')) throw e;
    const fixed = new Map([...named].filter(([, t]) => t.size <= SPECIALIZE_LIMIT));
    if (!fixed.size) throw e;
    const graph = runPasses(specializeInputs(bound, fixed), [...GRAPH_PASSES]);
    const rest = new Map([...named].filter(([n]) => !fixed.has(n)));
    return { graph, inputs: rest, specialized: [...fixed.keys()] };
  }
}

/** Imports a model and prepares it for evaluation on the given inputs. */
export function prepareGraph(bytes: Uint8Array, modelPath: string, inputs: { name: string; tensor: Tensor }[]): { graph: Graph; inputs: Map<string, Tensor>; specialized: string[] } {
  return prepareImported(importOnnx(bytes, { modelPath, host: nodeHost }), inputs);
}

export function runCase(dir: string, options: RunCaseOptions = {}): CaseResult {
  const name = basename(dir);
  const modelPath = join(dir, 'model.onnx');
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(modelPath);
  } catch (e) {
    return { name, dir, status: 'rejected', ops: [], code: 'W1001', message: `cannot read ${modelPath}` };
  }
  const ops = opTypesOf(bytes);
  const result: CaseResult = { name, dir, status: 'pass', ops };
  try {
    const imported = importOnnx(bytes, { modelPath, host: nodeHost });
    const sets = readdirSync(dir).filter((f) => f.startsWith('test_data_set_')).sort();
    let worstAbs = 0;
    let worstRel = 0;
    for (const set of sets) {
      const setDir = join(dir, set);
      const inputs = readDataSet(setDir, 'input');
      const expected = readDataSet(setDir, 'output');
      const { graph, inputs: named, specialized } = prepareImported(imported, inputs);
      if (specialized.length) result.specialized = specialized;
      const outputs = evaluateGraph(graph, named);
      const want = byName(graph, graph.outputs, expected);
      for (const [outName, exp] of want) {
        const got = outputs.get(outName);
        if (!got) throw new DiagnosticError({ code: 'W2007', message: `output '${outName}' not computed` });
        const c = compareTensors(got, exp, options.tolerance ?? DEFAULT_TOLERANCE);
        worstAbs = Math.max(worstAbs, c.maxAbsError);
        worstRel = Math.max(worstRel, c.maxRelError);
        if (!c.ok && result.status === 'pass') {
          result.status = 'fail';
          result.message = `${set} output '${outName}': ${c.reason}`;
        }
      }
    }
    result.maxAbsError = worstAbs;
    result.maxRelError = worstRel;
    return result;
  } catch (e) {
    return caseFailure(result, e);
  }
}

/**
 * The result of a case that threw: unsupported when every diagnostic is an unsupported op or element
 * type (W1010, W1002), rejected for any other diagnostic, crash for anything else (a bug).
 */
export function caseFailure(result: CaseResult, e: unknown): CaseResult {
  if (e instanceof DiagnosticError) {
    const unsupported = e.diagnostics.filter((d) => d.code === 'W1010' || d.code === 'W1002');
    if (unsupported.length === e.diagnostics.length) {
      return {
        ...result,
        status: 'unsupported',
        code: e.diagnostics[0].code,
        unsupportedOps: e.diagnostics.map((d) => d.message.replace(/^unsupported (operator|element type) ?/, '')),
        message: e.diagnostics.map((d) => d.message).join('; '),
      };
    }
    return { ...result, status: 'rejected', code: e.diagnostics[0].code, message: e.diagnostics.map((d) => `${d.code} ${d.message}${d.location ? ` (${d.location})` : ''}`).join('; ') };
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { ...result, status: 'crash', message: `${err.name}: ${err.message}\n${err.stack ?? ''}` };
}

export interface ConformanceSummary {
  passed: number;
  failed: number;
  unsupported: number;
  rejected: number;
  crashed: number;
}

export function summarize(results: CaseResult[]): ConformanceSummary {
  const count = (s: CaseStatus) => results.filter((r) => r.status === s).length;
  return { passed: count('pass'), failed: count('fail'), unsupported: count('unsupported'), rejected: count('rejected'), crashed: count('crash') };
}

/** The per-op-type table: for each op type, how many cases using it ended in each status. */
export function opTable(results: CaseResult[]): string {
  const rows = new Map<string, Record<CaseStatus, number>>();
  for (const r of results) {
    for (const op of r.ops.length ? r.ops : ['(none)']) {
      let row = rows.get(op);
      if (!row) rows.set(op, (row = { pass: 0, fail: 0, unsupported: 0, rejected: 0, crash: 0 }));
      row[r.status]++;
    }
  }
  const names = [...rows.keys()].sort();
  const w = Math.max(8, ...names.map((n) => n.length));
  const lines = [`${'op'.padEnd(w)}  ${['pass', 'fail', 'unsup', 'reject', 'crash'].map((h) => h.padStart(6)).join('')}`];
  for (const n of names) {
    const r = rows.get(n)!;
    lines.push(`${n.padEnd(w)}  ${[r.pass, r.fail, r.unsupported, r.rejected, r.crash].map((x) => String(x).padStart(6)).join('')}`);
  }
  return lines.join('\n');
}
