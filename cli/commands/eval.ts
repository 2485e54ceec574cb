/**
 * `wafer eval <model> --inputs DIR`: reference evaluation of a model on the inputs in DIR
 * (input_N.pb), compared with DIR's output_N.pb when present. Exits 1 when an output differs.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { diag } from '../../ir/diagnostics.js';
import { evaluateGraph } from '../../ir/evaluate.js';
import type { Tensor } from '../../ir/tensor.js';
import { bindDims, bindDimsFromInputs, readTensorProto } from '../../compiler/frontend/onnx/index.js';
import { compareTensors } from '../compare.js';
import { CliExit } from '../exit.js';
import { importModel, parseDims, readInput, runGraphPasses, type PassFlags } from './common.js';

function readSet(dir: string, prefix: string): { name: string; tensor: Tensor }[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.pb'))
    .sort((a, b) => parseInt(a.slice(prefix.length + 1)) - parseInt(b.slice(prefix.length + 1)))
    .map((f) => readTensorProto(readInput(join(dir, f))));
}

export function evalCommand(model: string, flags: PassFlags & { inputs: string }): void {
  if (!existsSync(flags.inputs)) throw diag('W1001', `inputs folder '${flags.inputs}' does not exist`);
  const dims = parseDims(flags.dim);
  let g = importModel(model, dims);
  const data = readSet(flags.inputs, 'input');
  const named = new Map<string, Tensor>();
  const byName = data.every((d) => g.inputs.includes(d.name));
  data.forEach((d, i) => {
    const key = byName ? d.name : g.inputs[i];
    if (key === undefined) throw diag('W2007', `input file input_${i}.pb has no matching graph input`, flags.inputs, `the graph has ${g.inputs.length} inputs`);
    named.set(key, d.tensor);
  });
  g = bindDimsFromInputs(Object.keys(dims).length ? bindDims(g, dims) : g, named);
  g = runGraphPasses(g, flags);
  const t0 = performance.now();
  const outputs = evaluateGraph(g, named);
  const ms = performance.now() - t0;
  const expected = readSet(flags.inputs, 'output');
  const expByName = expected.every((d) => g.outputs.includes(d.name));
  let failures = 0;
  const rows: string[] = [];
  g.outputs.forEach((name, i) => {
    const t = outputs.get(name)!;
    const exp = expected.find((d, k) => (expByName ? d.name === name : k === i));
    let status = 'computed';
    if (exp) {
      const c = compareTensors(t, exp.tensor);
      status = c.ok ? `match (max abs err ${c.maxAbsError.toExponential(2)})` : `MISMATCH: ${c.reason}, max abs err ${c.maxAbsError.toExponential(2)}`;
      if (!c.ok) failures++;
    }
    rows.push(`  ${name}  ${t.dtype}[${t.shape.join(',')}]  ${status}`);
  });
  process.stdout.write(`evaluated ${g.nodes.length} nodes in ${ms.toFixed(1)} ms\n${rows.join('\n')}\n`);
  if (failures) throw new CliExit(1);
}
