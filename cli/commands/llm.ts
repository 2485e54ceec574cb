/**
 * `wafer llm <config.json> --target <t> --prompt L --generate G ...`: plan a decoder LLM from a
 * Hugging Face config (compiler/llm/plan.ts) and print the plan and its predicted figures, or with
 * --generate-text run a small config functionally on the emulator, token by token (greedy), against
 * the reference evaluation (cli/llm-generate.ts). docs/llm.md is the guide; docs/cli.md lists the flags.
 *
 * Exit status 1 with --generate-text: the emulator's tokens or logits disagree with the reference's,
 * or a step's measured cycles differ from the compiler's prediction.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { diag, DiagnosticError } from '../../ir/diagnostics.js';
import { parseTargetSpec } from '../../ir/target-presets.js';
import { parseLlmConfig } from '../../compiler/frontend/llm/config.js';
import { openSafetensors } from '../../compiler/frontend/llm/safetensors.js';
import { resolveWeights, type WeightSource } from '../../compiler/frontend/llm/weights.js';
import { nodeHost } from '../../compiler/host.js';
import { formatPlan, planFigures, planLlm, referenceContext, type LlmPlan } from '../../compiler/llm/plan.js';
import { decodeLayerProgram, prefillLayerProgram, type LayerProgram } from '../../compiler/llm/layer-program.js';
import type { LayerStep } from '../../compiler/llm/plan.js';
import type { LlmConfig } from '../../compiler/frontend/llm/config.js';
import type { Target } from '../../ir/target.js';
import { emulate } from '../../runtime/emulate.js';
import { evalExpr, type Instr, type Program } from '../../ir/program.js';
import { generateGreedy } from '../llm-generate.js';
import { CliExit } from '../exit.js';
import { fmtInt } from '../../runtime/report-format.js';

export interface LlmFlags {
  target: string;
  prompt: string;
  generate: string;
  prefillCores?: string;
  decodeCores?: string;
  kv?: string;
  dtype?: string;
  json?: string;
  generateText?: boolean;
  weights?: string;
  seed?: string;
  tokens?: string;
  emulate?: boolean;
  emulateMax?: string;
}

function count(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw diag('W1101', `${flag} ${v} is not an integer from ${min} to ${max}`, flag, `e.g. ${flag} ${Math.max(min, 16)}`);
  }
  return n;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw diag(what === 'target' ? 'W5001' : 'W1101', `cannot read ${what} file '${path}'${code ? ` (${code})` : ''}`, path, 'check the path');
  }
}

export function llmCommand(configPath: string, flags: LlmFlags): void {
  const cfg = parseLlmConfig(readText(configPath, 'config'), configPath);
  const target = parseTargetSpec(flags.target, (p) => readText(p, 'target'));
  const dtype = flags.dtype ?? 'f16';
  if (dtype !== 'f16' && dtype !== 'f32') throw diag('W1101', `--dtype expects f16 or f32, got '${dtype}'`, '--dtype', 'f16 is what WaferLLM runs');
  const kv = flags.kv ?? 'shift';
  if (kv !== 'shift' && kv !== 'concat') throw diag('W1101', `--kv expects shift or concat, got '${kv}'`, '--kv', 'shift balances the cache over the rows of cores');
  for (const [flag, v] of [['--tokens', flags.tokens], ['--weights', flags.weights], ['--seed', flags.seed]] as const) {
    if (v !== undefined && !flags.generateText) throw diag('W1101', `${flag} applies only with --generate-text (a plan needs no weights or prompt ids)`, flag, `add --generate-text or drop ${flag}`);
  }
  // With --tokens the prompt is those ids: L is their count, and a --prompt that disagrees is an error.
  const ids = flags.tokens !== undefined ? parseTokens(flags.tokens, cfg.vocab) : undefined;
  if (ids && flags.prompt !== undefined && Number(flags.prompt) !== ids.length) {
    throw diag('W1101', `--prompt ${flags.prompt} disagrees with the ${ids.length} ids of --tokens`, '--prompt', 'drop --prompt: the prompt is the --tokens ids');
  }
  if (ids && ids.length > cfg.maxPositions) throw diag('W1101', `--tokens holds ${ids.length} ids, more than the ${cfg.maxPositions} positions of ${cfg.name}`, '--tokens', 'give a shorter prompt');
  const prompt = ids ? ids.length : count('--prompt', flags.prompt ?? DEFAULT_PROMPT, 1, cfg.maxPositions)!;
  const generate = count('--generate', flags.generate, 1, cfg.maxPositions)!;
  // G tokens: the prefill's last position yields the first, G − 1 decode steps the rest (L + G − 1 positions).
  if (prompt + generate - 1 > cfg.maxPositions) {
    throw diag('W1101', `${ids ? `the ${prompt} ids of --tokens` : `--prompt ${prompt}`} + --generate ${generate} − 1 positions exceed the ${cfg.maxPositions} of ${cfg.name}`, '--generate', 'generate fewer tokens');
  }

  if (flags.generateText) {
    const seed = count('--seed', flags.seed, 0, 2 ** 31) ?? 0;
    const store = dtype === 'f16' ? 'float16' : 'float32';
    const source: WeightSource = flags.weights ? safetensorsSource(flags.weights) : { kind: 'seeded', seed };
    const weights = resolveWeights(cfg, source, store)!;
    const promptIds = ids ?? Array.from({ length: prompt }, (_, i) => (seed + i * 7919) % cfg.vocab);
    const r = generateGreedy(cfg, { target, prompt: promptIds, generate: generate - 1, dtype, weights });
    const out = process.stdout;
    out.write(`${cfg.name} on ${target.name}, ${dtype}, ${flags.weights ? `weights from ${flags.weights}` : `seeded weights (seed ${seed})`}\n`);
    out.write(`prompt: ${promptIds.join(' ')}\n`);
    out.write(`tokens: ${r.tokens.join(' ')}\n`);
    let bad = 0;
    for (const s of r.steps) {
      const agree = s.token === s.referenceToken && s.cycles === s.predictedCycles;
      if (!agree) bad++;
      out.write(`  ${s.phase.padEnd(7)} past ${String(s.past).padStart(5)}: token ${String(s.token).padStart(6)} (reference ${s.referenceToken}), logits max |diff| ${s.maxLogitDiff.toExponential(2)} of ${s.maxLogit.toFixed(3)}, ${fmtInt(s.cycles)} cycles (predicted ${fmtInt(s.predictedCycles)}) on ${s.cores} cores${agree ? '' : '  <-- MISMATCH'}\n`);
    }
    if (flags.json) writeFileSync(flags.json, JSON.stringify({ config: cfg.name, target: target.name, prompt: promptIds, tokens: r.tokens, referenceTokens: r.referenceTokens, steps: r.steps }, null, 2) + '\n');
    if (bad) {
      process.stderr.write(`error: ${bad} step(s) disagree with the reference or with the predicted cycles\n`);
      throw new CliExit(1);
    }
    return;
  }

  const prefillCores = count('--prefill-cores', flags.prefillCores, 1, 1 << 12), decodeCores = count('--decode-cores', flags.decodeCores, 1, 1 << 12);
  const maxWork = count('--emulate-max', flags.emulateMax, 1, Number.MAX_SAFE_INTEGER) ?? DEFAULT_EMULATE_MAX;
  let plan: LlmPlan;
  try {
    plan = planLlm(cfg, target, { prompt, generate, dtype, kv, prefillCores, decodeCores });
  } catch (e) {
    // The whole model may not fit at a forced side while one layer still runs there: --emulate
    // then emulates the layers at the forced sides and says why there is no plan.
    const forced = decodeCores !== undefined || prefillCores !== undefined;
    if (!(flags.emulate && forced && e instanceof DiagnosticError && e.diagnostics[0].code === 'W3009')) throw e;
    process.stdout.write(`no plan: ${e.diagnostics[0].message}\nemulating one layer at the forced side(s) only\n`);
    const layers = emulateLayers(cfg, target, { prompt, context: referenceContext(prompt, generate), dtype, kv, decodeP: decodeCores, prefillP: prefillCores, maxWork });
    if (layers.some((l) => !l.matched)) throw new CliExit(1);
    return;
  }
  process.stdout.write(formatPlan(plan));
  const emulated = flags.emulate ? emulateLayers(cfg, target, { prompt, context: plan.decodeReferenceContext, dtype, kv, decodeP: plan.decode.P, prefillP: plan.prefill.P, chunks: plan.prefill.attentionChunks, planned: plan, maxWork }) : undefined;
  if (flags.json) writeFileSync(flags.json, JSON.stringify({ config: cfg.name, target: target.name, prompt, generate, dtype, kv, ...planFigures(plan), ...(emulated ? { emulated } : {}) }, null, 2) + '\n');
  if (emulated?.some((e) => !e.matched)) {
    const skipped = emulated.filter((e) => e.notEmitted || e.notEmulated).map((e) => e.phase);
    process.stderr.write(emulated.some((e) => !e.matched && !e.notEmitted && !e.notEmulated)
      ? 'error: a layer\'s measured cycles differ from the prediction\n'
      : `error: the ${skipped.join(' and ')} layer was not emulated, so its prediction is unchecked (see above)\n`);
    throw new CliExit(1);
  }
}

interface EmulatedLayer { phase: 'prefill' | 'decode'; cores: number; context: number; predicted: number; measured: number; planned?: number; matched: boolean; placeholders?: string[]; notEmitted?: string; notEmulated?: string }

interface LayerRequest { prompt: number; context: number; dtype: 'f16' | 'f32'; kv: 'shift' | 'concat'; decodeP?: number; prefillP?: number; chunks?: number; planned?: LlmPlan; maxWork: number }

/**
 * The largest layer --emulate runs, in core-instructions (instructions one core executes × cores):
 * about 3 minutes of timing-only emulation on a 2-core machine (a decode layer of LLaMA3-8B at 420²
 * is about 6.8·10⁷ and runs in about 25 s). Bigger layers are reported as not emulated, with their
 * size, before any is run (a prefill layer at wafer scale is orders of magnitude more).
 */
export const DEFAULT_EMULATE_MAX = 500_000_000;

/** --prompt when neither it nor --tokens is given. */
const DEFAULT_PROMPT = '2048';

/** Instructions a core executes (loops unrolled by their counts at core (0, 0); guards ignored) × the region's cores: an upper estimate of the emulator's work. */
export function emulationWork(p: Program): number {
  const env = { x: 0, y: 0, w: 0, h: 0, i0: 0, i1: 0, i2: 0, i3: 0 };
  const count = (body: readonly Instr[]): number => body.reduce((n, i) => n + 1 + (i.op === 'loop' ? Math.max(0, evalExpr(i.count, env)) * count(i.body) : 0), 0);
  return p.regions.reduce((n, r) => {
    env.w = r.rect.width; env.h = r.rect.height;
    return n + count(r.kernel.body) * r.rect.width * r.rect.height;
  }, 0);
}

/** --emulate: one layer of each phase (of those with a side), emitted and run timing-only; measured == predicted (== the plan's layer cycles). */
function emulateLayers(cfg: LlmConfig, target: Target, q: LayerRequest): EmulatedLayer[] {
  const out: EmulatedLayer[] = [];
  const layers = [];
  if (q.decodeP !== undefined) {
    layers.push({ phase: 'decode' as const, cores: q.decodeP, context: q.context, planned: q.planned && totalCycles(q.planned.decode.layerSteps),
      lp: () => decodeLayerProgram(cfg, target, q.decodeP!, q.context, q.dtype, { kv: q.kv, prompt: q.prompt }) });
  }
  if (q.prefillP !== undefined) {
    layers.push({ phase: 'prefill' as const, cores: q.prefillP, context: q.prompt, planned: q.planned && totalCycles(q.planned.prefill.layerSteps),
      lp: () => prefillLayerProgram(cfg, target, q.prefillP!, q.prompt, q.dtype, q.chunks) });
  }
  for (const l of layers) {
    let lp: LayerProgram;
    try {
      lp = l.lp();
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      process.stdout.write(`${l.phase} layer (${l.cores}×${l.cores} cores) not emulated: ${e.diagnostics[0].code} ${e.diagnostics[0].message}\n`);
      out.push({ phase: l.phase, cores: l.cores, context: l.context, predicted: 0, measured: 0, matched: false, notEmitted: `${e.diagnostics[0].code}: ${e.diagnostics[0].message}` });
      continue;
    }
    const work = emulationWork(lp.program);
    if (work > q.maxWork) {
      const why = `about ${work.toExponential(2)} core-instructions (${fmtInt(lp.predictedCycles)} predicted cycles on ${l.cores}² cores), over the --emulate-max of ${q.maxWork.toExponential(2)}`;
      process.stdout.write(`${l.phase} layer (${l.cores}×${l.cores} cores) not emulated: ${why}; raise --emulate-max to run it anyway, or force a smaller side\n`);
      out.push({ phase: l.phase, cores: l.cores, context: l.context, predicted: lp.predictedCycles, measured: 0, matched: false, notEmulated: why });
      continue;
    }
    const run = emulate(lp.program, { mode: 'timing' });
    const matched = run.prediction.matched && run.totalCycles === lp.predictedCycles && lp.mismatches.length === 0 && (l.planned === undefined || l.planned === lp.predictedCycles);
    const e: EmulatedLayer = { phase: l.phase, cores: l.cores, context: l.context, predicted: lp.predictedCycles, measured: run.totalCycles, ...(l.planned !== undefined ? { planned: l.planned } : {}), matched };
    process.stdout.write(`emulated one ${l.phase} layer (${l.cores}×${l.cores} cores, ${l.phase === 'decode' ? 'context' : 'prompt'} ${l.context}, timing-only): measured ${fmtInt(e.measured)} cycles, predicted ${fmtInt(e.predicted)}${e.planned !== undefined ? `, plan ${fmtInt(e.planned)}` : ''}${matched ? ' — equal' : '  <-- MISMATCH'}\n`);
    for (const m of lp.mismatches) process.stdout.write(`  step ${m.step}: the kernel takes ${fmtInt(m.emitted)} cycles, the plan charges ${fmtInt(m.planned)}\n`);
    if (lp.placeholders.length) {
      e.placeholders = lp.placeholders;
      process.stdout.write(`  not emitted: ${lp.placeholders.join(', ')} — delays of their modelled cost (no redistribution kernel yet), so this part of the layer is not checked\n`);
    }
    out.push(e);
  }
  return out;
}

const totalCycles = (steps: readonly LayerStep[]): number => steps.reduce((a, s) => a + s.cycles, 0);

function parseTokens(text: string, vocab: number): number[] {
  const ids = text.split(/[\s,]+/).filter(Boolean).map(Number);
  if (!ids.length || ids.some((t) => !Number.isInteger(t) || t < 0 || t >= vocab)) {
    throw diag('W1101', `--tokens '${text}' is not a list of token ids below the vocabulary size ${vocab}`, '--tokens', 'e.g. --tokens 1,15,27');
  }
  return ids;
}

/** Weights from a .safetensors file, an index, or a folder holding either. */
function safetensorsSource(path: string): WeightSource {
  const set = openSafetensors(nodeHost, path);
  return { kind: 'tensors', get: (name) => (set.entries.has(name) ? set.read(name) : undefined), names: set.entries.keys(), where: path };
}
