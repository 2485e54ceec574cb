/**
 * One full-size LLM compile, run in its own process by bench/llm.ts so its peak memory is its own:
 * `node dist/bench/llm-compile.js <config.json> <target> <prompt> <decodeSide> [prefillSide]`.
 *
 * "Compile" is everything `wafer llm` does before emulation: parse the config, build the shapes-only
 * prefill graph of the prompt and the decode graph at that context, plan both phases (the decode
 * side forced), and emit and encode the decode layer's program and the prefill layer's at the plan's
 * sides. Prints one JSON line: wall seconds, peak RSS, the program sizes and the plan's figures.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseLlmConfig } from '../compiler/frontend/llm/config.js';
import { buildLlmGraph } from '../compiler/frontend/llm/graph.js';
import { decodeLayerProgram, prefillLayerProgram } from '../compiler/llm/layer-program.js';
import { planFigures, planLlm } from '../compiler/llm/plan.js';
import { encodeProgram } from '../ir/program-codec.js';
import { resolveTarget } from '../ir/target-presets.js';
import { DiagnosticError } from '../ir/diagnostics.js';

export interface CompileMeasure {
  /** Graphs, plan and the decode layer's program (what `wafer llm` needs for a decode plan). */
  seconds: number;
  peakRssBytes: number;
  /** Emitting the prefill layer's program, apart; its diagnostic code when it cannot be emitted. */
  prefillSeconds: number;
  prefillError?: string;
  graphNodes: number;
  decodeProgramBytes: number;
  prefillProgramBytes: number;
  decodeCores: number;
  prefillCores: number;
  decodeLayerCycles: number;
  /** The model does not fit the target's SRAM: planned with unbounded SRAM. */
  overSram: boolean;
}

export function compileOnce(configPath: string, targetSpec: string, prompt: number, decodeSide: number, prefillSide?: number): CompileMeasure {
  const t0 = performance.now();
  const cfg = parseLlmConfig(readFileSync(configPath, 'utf8'), configPath);
  const target = resolveTarget(targetSpec);
  const prefill = buildLlmGraph(cfg, { phase: 'prefill', length: prompt, dtype: 'f16' });
  const decode = buildLlmGraph(cfg, { phase: 'decode', length: Math.min(prompt, cfg.maxPositions - 1), dtype: 'f16' });
  const opts = { prompt, generate: 128, dtype: 'f16' as const, decodeCores: decodeSide, prefillCores: prefillSide };
  // A model the target's SRAM cannot hold (W3009) is still planned and emitted, with unbounded SRAM, and marked.
  let plan, overSram = false;
  try {
    plan = planLlm(cfg, target, opts);
  } catch (e) {
    if (!(e instanceof DiagnosticError) || e.diagnostics[0].code !== 'W3009') throw e;
    plan = planLlm(cfg, { ...target, sram: { ...target.sram, bytesPerCore: 1 << 24 } }, opts);
    overSram = true;
  }
  const f = planFigures(plan);
  const dec = decodeLayerProgram(cfg, target, plan.decode.P, plan.decodeReferenceContext, 'f16', { kv: plan.kv, prompt });
  const decodeProgramBytes = encodeProgram(dec.program).length;
  const seconds = (performance.now() - t0) / 1000;
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  // The prefill layer program, timed apart: at wafer scale it may not be emitted yet (colours, W3009).
  const t1 = performance.now();
  let prefillProgramBytes = 0, prefillError: string | undefined;
  try {
    prefillProgramBytes = encodeProgram(prefillLayerProgram(cfg, target, plan.prefill.P, prompt, 'f16', plan.prefill.attentionChunks).program).length;
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    prefillError = e.diagnostics[0].code;
  }
  return {
    seconds, peakRssBytes, prefillSeconds: (performance.now() - t1) / 1000, prefillError, graphNodes: prefill.nodes.length + decode.nodes.length,
    decodeProgramBytes, prefillProgramBytes, decodeCores: f.decodeCores, prefillCores: f.prefillCores, decodeLayerCycles: dec.predictedCycles, overSram,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [config, target, prompt, decodeSide, prefillSide] = process.argv.slice(2);
  process.stdout.write(JSON.stringify(compileOnce(config, target, Number(prompt), Number(decodeSide), prefillSide ? Number(prefillSide) : undefined)) + '\n');
}
