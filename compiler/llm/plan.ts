/**
 * The LLM planner (docs/llm-plan.md): from an `LlmConfig` and a `Target`, predicts how a decoder LLM
 * runs at wafer scale in WaferLLM's layout — prefill and decode each on square regions of their own
 * side, layers packed into pipeline stages, the weights moved once between the phases, KV cache by
 * the shift or concat scheme — without building a graph. Every cycle comes from the kernel cost
 * functions the emitters use (plan-steps.ts). Entry point `planLlm`; `formatPlan` prints a report,
 * `planFigures` the headline figures. No plan fits → W3009 with the fullest core's breakdown.
 */
import { diag } from '../../ir/diagnostics.js';
import type { Target } from '../../ir/target.js';
import type { LlmConfig } from '../frontend/llm/config.js';
import { decodeStepCycles, phaseCycles, phaseJoules, planPhase, referenceContext, regionCount, type PhaseCycles, type PhasePlan, type PhaseQuery } from './plan-phase.js';
import { transition, type TransitionPlan } from './plan-transition.js';
import { layerRouting } from './layer-program.js';
import type { SramBreakdown } from './plan-memory.js';

export { decodeLayerSteps } from './plan-decode.js';
export { referenceContext } from './plan-phase.js';
export { prefillLayerSteps } from './plan-prefill.js';
export type { LayerStep, LocalOp, StepKernel } from './plan-steps.js';
export type { PhasePlan, PhaseCycles } from './plan-phase.js';
export type { SramBreakdown } from './plan-memory.js';
export type { TransitionPlan } from './plan-transition.js';
export { formatPlan, planFigures } from './plan-format.js';

export interface LlmPlanOptions {
  prompt: number;
  generate: number;
  dtype?: 'f16' | 'f32';
  kv?: 'shift' | 'concat';
  prefillCores?: number;
  decodeCores?: number;
  batch?: 1;
  /**
   * Colour each phase's layer as the emitter would (layerRouting) and take, among the sides that
   * fit, the best whose kernels share the target's router colours (default true; false skips it,
   * and the plan says routing was not checked).
   */
  checkRouting?: boolean;
}

export interface LlmPlan {
  model: string;
  target: string;
  clockHz: number;
  prompt: number;
  generate: number;
  dtype: 'f16' | 'f32';
  kv: 'shift' | 'concat';
  /** Sides tried by the search and whether each phase fit there. */
  candidates: { P: number; prefillFits: boolean; decodeFits: boolean; prefillSeconds?: number; decodeTokensPerSecond?: number }[];
  prefill: PhasePlan;
  decode: PhasePlan;
  prefillCycles: PhaseCycles;
  /** Decode step at the reference context T = L + max(1, ⌊G/2⌋) (TPOT), and its context. */
  decodeCycles: PhaseCycles;
  decodeReferenceContext: number;
  /** Σ of the G − 1 decode steps' cycles over T = L + 1 … L + G − 1 (the prefill yields the first token), and their split. */
  decodeTotalCycles: number;
  decodeTotals: { compute: number; comm: number; pipeline: number };
  transition: TransitionPlan;
  prefillJoules: number;
  decodeJoulesPerToken: number;
  maxGeneration: { shift: number; concat: number; slots: number; how: string };
  /** Per phase: 'ok' (the layer's kernels share the router's colours at its side), 'unchecked', or the W3009 that no side that fits escapes. */
  routing: { prefill: string; decode: string };
  notes: string[];
}

const MAX_TOKENS = 1 << 24;

function checkOptions(cfg: LlmConfig, t: Target, o: LlmPlanOptions): void {
  const bad = (m: string, hint: string) => { throw diag('W1102', `LLM plan: ${m}`, cfg.name, hint); };
  if (!Number.isInteger(o.prompt) || o.prompt < 1 || o.prompt > MAX_TOKENS) bad(`prompt = ${o.prompt} is not an integer from 1 to ${MAX_TOKENS}`, 'give the prompt length in tokens');
  if (!Number.isInteger(o.generate) || o.generate < 1 || o.generate > MAX_TOKENS) bad(`generate = ${o.generate} is not an integer from 1 to ${MAX_TOKENS}`, 'give the number of tokens to generate');
  if (o.dtype !== undefined && o.dtype !== 'f16' && o.dtype !== 'f32') bad(`dtype '${String(o.dtype)}' is not f16 or f32`, 'use f16 or f32');
  if (o.kv !== undefined && o.kv !== 'shift' && o.kv !== 'concat') bad(`kv '${String(o.kv)}' is not shift or concat`, 'use shift or concat');
  if (o.batch !== undefined && o.batch !== 1) bad(`batch ${String(o.batch)} is not supported`, 'the planner models batch 1');
  for (const [name, v] of [['prefillCores', o.prefillCores], ['decodeCores', o.decodeCores]] as const) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 1) bad(`${name} = ${v} is not a positive integer`, 'give a square side in cores');
    if (v > Math.min(t.width, t.height)) {
      throw diag('W3009', `LLM plan: a ${v}×${v} region (${name}) does not fit the ${t.width}×${t.height} mesh of target ${t.name}`, cfg.name,
        `use a side of at most ${Math.min(t.width, t.height)}`);
    }
  }
}

/**
 * Square sides the search tries: multiples of 30 from 60 to min(W, H) (every side on meshes smaller
 * than 60), the sides that tile the mesh exactly along one axis (⌊W/k⌋, ⌊H/k⌋ for k = 1 … 16, at
 * least 30), plus the forced ones.
 */
export function candidateSides(t: Target, forced: (number | undefined)[]): number[] {
  const m = Math.min(t.width, t.height);
  const out = new Set<number>();
  if (m < 60) for (let p = 1; p <= m; p++) out.add(p);
  else {
    for (let p = 60; p <= m; p += 30) out.add(p);
    for (let k = 1; k <= 16; k++) for (const p of [Math.floor(t.width / k), Math.floor(t.height / k)]) if (p >= 30 && p <= m) out.add(p);
  }
  for (const f of forced) if (f !== undefined) out.add(f);
  return [...out].sort((a, b) => a - b);
}

function fmtBreakdown(s: SramBreakdown): string {
  return `weights ${s.weights}, KV cache ${s.kvCache}, embedding ${s.embedding}, LM head ${s.lmHead}, activations ${s.activations}, scratch ${s.scratch}: ${s.total} bytes of ${s.capacity}`;
}

function noFit(cfg: LlmConfig, t: Target, phase: string, p: PhasePlan, o: LlmPlanOptions, tried: number): never {
  const s = p.sram[p.fullest];
  throw diag('W3009', `LLM plan: no ${phase} plan of ${cfg.name} fits target ${t.name} at any of ${tried} square side(s) tried; the closest, side ${p.P} (${regionCount(t, p.P)} regions, ${p.stages} stages) the fullest core (stage ${p.fullest}) needs ${fmtBreakdown(s)}`,
    cfg.name, `prompt ${o.prompt}, generate ${o.generate}: use a larger target, fewer generated tokens, f16, or another core count`);
}

export function planLlm(cfg: LlmConfig, target: Target, opts: LlmPlanOptions): LlmPlan {
  checkOptions(cfg, target, opts);
  const dtype = opts.dtype ?? 'f16', kv = opts.kv ?? 'shift';
  const q: PhaseQuery = { cfg, target, dtype, prompt: opts.prompt, generate: opts.generate, kv };
  const sides = candidateSides(target, [opts.prefillCores, opts.decodeCores]);
  const pre = opts.prefillCores !== undefined ? [opts.prefillCores] : sides;
  const dec = opts.decodeCores !== undefined ? [opts.decodeCores] : sides;
  const rows = new Map<number, LlmPlan['candidates'][number]>();
  const row = (P: number) => rows.get(P) ?? (rows.set(P, { P, prefillFits: false, decodeFits: false }), rows.get(P)!);
  const over = (p: PhasePlan) => p.sram[p.fullest].total / p.sram[p.fullest].capacity;
  const check = opts.checkRouting ?? true;
  const fitting: { pre: { p: PhasePlan; c: PhaseCycles }[]; dec: { p: PhasePlan; c: PhaseCycles }[] } = { pre: [], dec: [] };
  let lastPre: PhasePlan | undefined;
  for (const P of pre) {
    const r = planPhase(q, 'prefill', P);
    if (!lastPre || over(r.plan) < over(lastPre)) lastPre = r.plan;
    if (!r.fits) continue;
    const c = phaseCycles(r.plan);
    Object.assign(row(P), { prefillFits: true, prefillSeconds: c.total / target.clockHz });
    fitting.pre.push({ p: r.plan, c });
  }
  if (!fitting.pre.length) noFit(cfg, target, 'prefill', lastPre!, opts, pre.length);
  let lastDec: PhasePlan | undefined;
  const refT = referenceContext(opts.prompt, opts.generate);
  for (const P of dec) {
    const r = planPhase(q, 'decode', P);
    if (!lastDec || over(r.plan) < over(lastDec)) lastDec = r.plan;
    if (!r.fits) continue;
    const c = decodeStepCycles(q, r.plan, refT, new Map());
    Object.assign(row(P), { decodeFits: true, decodeTokensPerSecond: target.clockHz / c.total });
    fitting.dec.push({ p: r.plan, c });
  }
  if (!fitting.dec.length) noFit(cfg, target, 'decode', lastDec!, opts, dec.length);
  const [bestPre, preRouting] = routable(target, fitting.pre, check);
  const [bestDec, decRouting] = routable(target, fitting.dec, check);
  const prefill = bestPre.p, decode = bestDec.p;
  const memo = new Map<number, PhaseCycles>();
  let decodeTotalCycles = 0;
  const decodeTotals = { compute: 0, comm: 0, pipeline: 0 };
  for (let T = opts.prompt + 1; T < opts.prompt + opts.generate; T++) {
    const c = decodeStepCycles(q, decode, T, memo);
    decodeTotalCycles += c.total;
    decodeTotals.compute += c.compute; decodeTotals.comm += c.comm; decodeTotals.pipeline += c.pipeline;
  }
  const mg = decode.maxGeneration!;
  const how = `with the layers spread over all ${regionCount(target, decode.P)} regions of side ${decode.P} (re-packed for each count), every stage's cores fit their weights, embedding/head, activations, scratch and at most ${mg.slots} KV positions per core `
    + `(each position: K and V slices of every layer of the stage, plus its scores); shift spreads positions over the ${decode.P} rows: `
    + `G tokens leave L + G − 1 entries in the cache (the prefill yields the first token), so shift allows ${decode.P}·${mg.slots} − L + 1 = ${mg.shift}; `
    + `concat appends every generated entry to one row, which already holds ⌈L/${decode.P}⌉ prompt entries: ${mg.slots} − ${Math.ceil(opts.prompt / decode.P)} + 1 = ${mg.concat} `
    + `(memory limits only; the model's maxPositions is ${cfg.maxPositions})`;
  const notes: string[] = [];
  if (opts.prompt + opts.generate - 1 > cfg.maxPositions) notes.push(`prompt + generate − 1 = ${opts.prompt + opts.generate - 1} positions exceed the model's maxPositions ${cfg.maxPositions}`);
  if (opts.generate === 1) notes.push('generate 1: the prefill yields the only token; no decode step runs (decode figures are what one step would cost)');
  if (cfg.tiedEmbeddings) notes.push('tied embeddings: one table in the first stage; the last stage sends the final hidden vector (prefill: the last token\'s row) back to it for the LM head');
  return {
    model: cfg.name, target: target.name, clockHz: target.clockHz, prompt: opts.prompt, generate: opts.generate, dtype, kv,
    candidates: [...rows.values()].sort((a, b) => a.P - b.P),
    prefill, decode, prefillCycles: bestPre.c, decodeCycles: bestDec.c, decodeReferenceContext: refT, decodeTotalCycles, decodeTotals,
    transition: transition(cfg, target, prefill, decode, opts.prompt, dtype),
    prefillJoules: phaseJoules(target, prefill, bestPre.c),
    decodeJoulesPerToken: phaseJoules(target, decode, bestDec.c),
    maxGeneration: { ...mg, how }, routing: { prefill: preRouting, decode: decRouting }, notes,
  };
}

/**
 * The fastest fitting side (the first of equals in search order) whose layer the emitter can route
 * on the target's colours ('ok'); when none can, the fastest, with the diagnostic of its routing.
 */
function routable(t: Target, fits: { p: PhasePlan; c: PhaseCycles }[], check: boolean): [{ p: PhasePlan; c: PhaseCycles }, string] {
  const ranked = fits.map((f, i) => ({ f, i })).sort((a, b) => a.f.c.total - b.f.c.total || a.i - b.i).map((x) => x.f);
  if (!check) return [ranked[0], 'unchecked'];
  for (const f of ranked) if (layerRouting(t, f.p.P, f.p.layerSteps) === undefined) return [f, 'ok'];
  return [ranked[0], layerRouting(t, ranked[0].p.P, ranked[0].p.layerSteps)!];
}
