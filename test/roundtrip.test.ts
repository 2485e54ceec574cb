/**
 * print → parse → print is the identity on the IR of every corpus model and every node test of the
 * 1.23 suite that passes conformance (as imported, and after the graph passes with dims bound).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import { parseGraph, printGraph } from '../ir/text.js';
import { importOnnx, readTensorProto } from '../compiler/frontend/onnx/index.js';
import { nodeHost } from '../compiler/host.js';
import { prepareGraph } from '../cli/conformance.js';

const CORPUS = new URL('../../shared/corpus/', import.meta.url).pathname;
const BASELINE = new URL('./conformance/baseline-onnx-1.23.txt', import.meta.url).pathname;

function roundTrips(g: Graph): void {
  const text = printGraph(g);
  const again = printGraph(parseGraph(text));
  if (again !== text) {
    const a = text.split('\n');
    const b = again.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    expect(`line ${i + 1}: ${b[i]?.slice(0, 200)}`).toBe(`line ${i + 1}: ${a[i]?.slice(0, 200)}`);
  }
}

function inputsOf(dir: string): { name: string; tensor: ReturnType<typeof readTensorProto>['tensor'] }[] {
  const set = join(dir, 'test_data_set_0');
  if (!existsSync(set)) return [];
  return readdirSync(set)
    .filter((f) => /^input_\d+\.pb$/.test(f))
    .sort((a, b) => parseInt(a.slice(6)) - parseInt(b.slice(6)))
    .map((f) => readTensorProto(readFileSync(join(set, f))));
}

describe.skipIf(!existsSync(CORPUS))('IR text round trip', () => {
  it('holds for every corpus model, as imported and after the passes', () => {
    const models = join(CORPUS, 'models');
    let n = 0;
    for (const name of readdirSync(models).filter((d) => existsSync(join(models, d, 'model.onnx')))) {
      const path = join(models, name, 'model.onnx');
      const bytes = readFileSync(path);
      roundTrips(importOnnx(bytes, { modelPath: path, host: nodeHost }));
      const inputs = inputsOf(join(models, name));
      if (inputs.length) roundTrips(prepareGraph(bytes, path, inputs).graph);
      n++;
    }
    expect(n).toBe(7);
  });

  it('holds for every passing 1.23 node test', () => {
    const passing = readFileSync(BASELINE, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(passing.length).toBeGreaterThan(1000);
    for (const name of passing) {
      const dir = join(CORPUS, 'onnx-backend-1.23/node', name);
      const path = join(dir, 'model.onnx');
      const bytes = readFileSync(path);
      try {
        roundTrips(importOnnx(bytes, { modelPath: path, host: nodeHost }));
        roundTrips(prepareGraph(bytes, path, inputsOf(dir)).graph);
      } catch (e) {
        if (e instanceof DiagnosticError) throw new Error(`${name}: ${e.message}`);
        throw e;
      }
    }
  });
});
