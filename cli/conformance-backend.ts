/**
 * `wafer conformance --backend emulator`: runs ONNX backend-layout cases through the whole compiler
 * (import → graph passes → back end → program) and the emulator in functional mode, and compares the
 * emulated outputs with the expected ones (float tolerance rtol 1e-3, atol 1e-4). A case passes only
 * when every output matches AND the emulator's measured cycles equal the compiler's prediction
 * (every checked instruction start and the total). Statuses as for the reference backend
 * (cli/conformance.ts); a prediction mismatch is a `fail`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DiagnosticError } from '../ir/diagnostics.js';
import type { DType } from '../ir/dtype.js';
import type { Graph } from '../ir/graph.js';
import type { Program } from '../ir/program.js';
import type { Target } from '../ir/target.js';
import { Tensor } from '../ir/tensor.js';
import { importOnnx, readTensorProto } from '../compiler/frontend/onnx/index.js';
import { runBackend } from '../compiler/compile.js';
import { nodeHost } from '../compiler/host.js';
import { emulate } from '../runtime/emulate.js';
import type { RunResult } from '../runtime/result.js';
import { compareTensors, type Tolerance } from './compare.js';
import { caseFailure, prepareImported, readDataSet, type CaseResult } from './conformance.js';

/** The emulator backend's comparison: float32 within rtol 1e-3 and atol 1e-4. */
export const EMULATOR_TOLERANCE: Tolerance = { rtol: 1e-3, atol: 1e-4 };

export interface EmulatorCaseOptions {
  target: Target;
  tolerance?: Tolerance;
}

function opTypes(g: Graph): string[] {
  return [...new Set(g.nodes.map((n) => (n.domain ? `${n.domain}:${n.op}` : n.op)))].sort();
}

/** The program's inputs as the emulator takes them (float32 arrays by name), defaults filled in from the graph. */
export function programInputs(program: Program, graph: Graph, given: ReadonlyMap<string, Tensor>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const d of program.inputs) {
    const t = given.get(d.name) ?? graph.constants.get(d.name);
    if (!t) throw new DiagnosticError({ code: 'W2007', message: `no value given for graph input '${d.name}'`, location: `input '${d.name}'` });
    out.set(d.name, Float32Array.from(t.data as ArrayLike<number>));
  }
  return out;
}

/** The emulated outputs as tensors of the graph's dtypes. */
export function outputTensors(r: RunResult, graph: Graph): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const o of r.outputs ?? []) {
    const dtype = (graph.types.get(o.name)?.dtype ?? 'float32') as DType;
    out.set(o.name, Tensor.from(dtype, o.shape, o.data));
  }
  // Outputs with no elements are not part of the program (select-kernels).
  for (const name of graph.outputs) {
    const t = graph.types.get(name);
    if (!out.has(name) && t && t.shape.includes(0)) out.set(name, Tensor.zeros(t.dtype, t.shape as number[]));
  }
  return out;
}

/** True when every checked start and the total matched the prediction. */
export function predictionMatched(r: RunResult): boolean {
  const p = r.prediction;
  return p.matched && !p.firstDivergence && p.predictedTotal === r.totalCycles;
}

export function runEmulatorCase(dir: string, options: EmulatorCaseOptions): CaseResult {
  const name = basename(dir);
  const modelPath = join(dir, 'model.onnx');
  const result: CaseResult = { name, dir, status: 'pass', ops: [] };
  try {
    const bytes = readFileSync(modelPath);
    const imported = importOnnx(bytes, { modelPath, host: nodeHost });
    result.ops = opTypes(imported);
    const sets = readdirSync(dir).filter((f) => f.startsWith('test_data_set_')).sort();
    let worstAbs = 0;
    let worstRel = 0;
    for (const set of sets) {
      const setDir = join(dir, set);
      const { graph, inputs, specialized } = prepareImported(imported, readDataSet(setDir, 'input'));
      if (specialized.length) result.specialized = specialized;
      const state = runBackend(graph, { target: options.target });
      const program = state.program!;
      const r = emulate(program, { mode: 'functional', inputs: programInputs(program, graph, inputs) });
      if (!predictionMatched(r) && result.status === 'pass') {
        const d = r.prediction.firstDivergence;
        result.status = 'fail';
        result.message = `${set}: measured timing differs from the prediction (${d ? `instruction ${d.instr} @${d.loc} on core (${d.core.x},${d.core.y}): predicted ${d.predicted}, measured ${d.measured}` : `total predicted ${r.prediction.predictedTotal}, measured ${r.totalCycles}`})`;
      }
      const got = outputTensors(r, graph);
      const expected = readDataSet(setDir, 'output');
      const named = expected.every((e) => e.name && graph.outputs.includes(e.name));
      expected.forEach((e, i) => {
        const outName = named ? e.name : graph.outputs[i];
        if (outName === undefined) return;
        const g = got.get(outName);
        if (!g) throw new DiagnosticError({ code: 'W2007', message: `output '${outName}' not produced by the program` });
        const c = compareTensors(g, e.tensor, options.tolerance ?? EMULATOR_TOLERANCE);
        worstAbs = Math.max(worstAbs, c.maxAbsError);
        worstRel = Math.max(worstRel, c.maxRelError);
        if (!c.ok && result.status === 'pass') {
          result.status = 'fail';
          result.message = `${set} output '${outName}': ${c.reason}`;
        }
      });
    }
    if (!sets.length) {
      // a model without data sets: compiling it for the target is the test
      runBackend(prepareImported(imported, []).graph, { target: options.target });
    }
    result.maxAbsError = worstAbs;
    result.maxRelError = worstRel;
    return result;
  } catch (e) {
    return caseFailure(result, e);
  }
}
