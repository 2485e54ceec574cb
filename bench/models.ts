/**
 * `npm run bench -- models`: the corpus transformer models (../shared/corpus/models) compiled for the
 * smallest square mesh of generic mesh cores that holds each (compiler/fit.ts) and for mesh:64x64,
 * then emulated timing-only. Per model and target: the back-end mode and region, the memory map per
 * core, the predicted cycles and µs at the target's clock, the compile time, and the emulator's time
 * and whether it measured exactly the predicted cycles. The LLaMA layer is the one that needs
 * distributed mode; the others fit single cores.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type CompileResult } from '../compiler/compile.js';
import { smallestSquareMesh } from '../compiler/fit.js';
import { nodeHost } from '../compiler/host.js';
import { importOnnx } from '../compiler/frontend/onnx/index.js';
import { prepareGraph, readDataSet } from '../cli/conformance.js';
import { resolveTarget } from '../ir/target-presets.js';
import { cyclesToSeconds } from '../ir/target.js';
import { emulate } from '../runtime/emulate.js';
import { isDistKernel } from '../compiler/kernels/distributed.js';
import { table } from './machine.js';

const MODELS = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../../shared/corpus/models');

export interface ModelBenchRow {
  model: string;
  target: string;
  mode: string;
  sramBytes: number;
  cycles: number;
  seconds: number;
  compileSeconds: number;
  emulateSeconds: number;
  matched: boolean;
}

function row(model: string, res: CompileResult, compileSeconds: number): ModelBenchRow {
  const t0 = performance.now();
  const run = emulate(res.program, { mode: 'timing' });
  const emulateSeconds = (performance.now() - t0) / 1000;
  const target = res.state.target;
  const cycles = res.program.predicted!.totalCycles;
  const r = res.program.regions[0].rect;
  const mode = `${isDistKernel(res.mesh.ops[0]?.kernel ?? '') ? 'distributed' : 'single-core'} ${r.width}x${r.height}`;
  return {
    model, target: target.name, mode, sramBytes: res.state.sram?.bytes ?? 0, cycles, seconds: cyclesToSeconds(target, cycles),
    compileSeconds, emulateSeconds, matched: run.totalCycles === cycles && run.prediction.matched,
  };
}

export function runModelsBench(): { text: string; json: ModelBenchRow[] } {
  if (!existsSync(MODELS)) return { text: `models bench: ${MODELS} is missing`, json: [] };
  const rows: ModelBenchRow[] = [];
  for (const name of readdirSync(MODELS).sort()) {
    const path = join(MODELS, name, 'model.onnx');
    if (!existsSync(path)) continue;
    // Symbolic dims bound from the model's first data set (as the conformance run does).
    const set = join(MODELS, name, 'test_data_set_0');
    const graph = existsSync(set) ? prepareGraph(readFileSync(path), path, readDataSet(set, 'input')).graph : importOnnx(readFileSync(path), { modelPath: path, host: nodeHost });
    let t0 = performance.now();
    const fit = smallestSquareMesh(graph);
    rows.push(row(name, fit.result, (performance.now() - t0) / 1000));
    t0 = performance.now();
    const big = compile(graph, { target: resolveTarget('mesh:64x64') });
    rows.push(row(name, big, (performance.now() - t0) / 1000));
  }
  const text = [
    'Corpus models: the smallest square mesh of generic cores that holds each (searched upward; compile time includes the search), and mesh:64x64; timing-only emulation.',
    table(['model', 'target', 'mode', 'SRAM/core B', 'cycles', 'µs', 'compile s', 'emulate s', 'measured == predicted'],
      rows.map((r) => [r.model, r.target, r.mode, String(r.sramBytes), String(r.cycles), (r.seconds * 1e6).toFixed(1), r.compileSeconds.toFixed(2), r.emulateSeconds.toFixed(2), r.matched ? 'yes' : 'NO'])),
  ].join('\n');
  return { text, json: rows };
}
