/**
 * One phase (prefill or decode) of the plan at one square side P: regions tiled over the mesh in a
 * serpentine, layers packed into the fewest stages that fit, the per-phase cycles (layers, embedding
 * and head, stage-to-stage transfers) split into compute, communication and pipeline transfer, and
 * the energy. docs/llm-plan.md "Pipeline stages" and "Energy".
 */
import type { Target } from '../../ir/target.js';
import type { LlmConfig } from '../frontend/llm/config.js';
import { decodeHeadSteps, decodeLayerSteps, kvRowPositions, type PlanDtype } from './plan-decode.js';
import { coreFootprint, maxGeneration, packStages, scratchBeyond, stagePart, type CoreFootprint, type Phase, type SramBreakdown, type StagePacking, type StageScratch } from './plan-memory.js';
import { prefillHeadSteps, prefillLayerSteps, prefillLayout } from './plan-prefill.js';
import { shiftStep, totals, transferStep, type LayerStep } from './plan-steps.js';

export interface Region { x: number; y: number }

/** Origin of region i of side P in the serpentine order (consecutive regions are neighbours). */
export function regionAt(t: Target, P: number, i: number): Region {
  const cols = Math.floor(t.width / P);
  const r = Math.floor(i / cols), c = i % cols;
  return { x: (r % 2 === 0 ? c : cols - 1 - c) * P, y: r * P };
}

export function regionCount(t: Target, P: number): number {
  return Math.floor(t.width / P) * Math.floor(t.height / P);
}

const dist = (a: Region, b: Region): number => Math.abs(a.x - b.x) + Math.abs(a.y - b.y);

/**
 * Hops of a decode vector split along y and replicated along x (every core of a row holds its
 * tile) from region a to every core of the matching rows of region b. Regions tile the mesh, so
 * their offsets are multiples of P. Sharing rows, each row's tile runs straight along its own row
 * through b (d hops, the P rows on their own links). Otherwise row y's tile goes up or down its
 * own column y of a (P rows, P distinct columns: no shared link) to row y of b and then along it,
 * up to P − 1 more hops: d + P − 1.
 */
export const rowTransferHops = (a: Region, b: Region, P: number): number => dist(a, b) + (a.y === b.y ? 0 : P - 1);

/**
 * The decode context the plan reports TPOT at: the prefill yields the first token, so G tokens take
 * G − 1 decode steps at contexts T = L + 1 … L + G − 1 (mean L + G/2); the reference is L + ⌊G/2⌋,
 * and L + 1 when G = 1 (no decode step runs, the figure says what one would cost).
 */
export function referenceContext(L: number, G: number): number {
  return L + Math.max(1, Math.floor(G / 2));
}

/** Cycles of a phase pass, split. */
export interface PhaseCycles {
  total: number;
  compute: number;
  comm: number;
  /** Stage-to-stage transfers (and the decode loop's return to the first stage). */
  pipeline: number;
  wordHops: number;
}

export interface PhasePlan {
  phase: Phase;
  P: number;
  /** Prefill: query-row blocks the attention runs in (1 for decode). */
  attentionChunks: number;
  stages: number;
  layersPerStage: number[];
  regions: Region[];
  sram: SramBreakdown[];
  fullest: number;
  footprint: CoreFootprint;
  /** KV positions per core the plan reserves (decode: for L + G − 1 under the scheme; prefill: the prompt). */
  slots: number;
  /** Decode: the longest generations the free SRAM allows. */
  maxGeneration?: { shift: number; concat: number; slots: number };
  /** Steps of one layer (decode: at the reference context), of the embedding / head, and the stage transfer. */
  layerSteps: LayerStep[];
  embedSteps: LayerStep[];
  headSteps: LayerStep[];
  /** The transfer from stage i to stage i + 1 (stages − 1 of them; decode hops depend on where the next region lies). */
  stageTransfers: LayerStep[];
  /** Pass back from the last stage to the first (decode: the token or the hidden vector for a tied head; prefill: the hidden row for a tied head). */
  loopTransfer?: LayerStep;
}

export interface PhaseQuery {
  cfg: LlmConfig;
  target: Target;
  dtype: PlanDtype;
  prompt: number;
  generate: number;
  kv: 'shift' | 'concat';
}

/**
 * Plans one phase at side P; `fits: false` with the fullest packing when no stage count fits.
 * Prefill tries the attention in 1, 2, 4, … query chunks and keeps the fewest whose stages fit
 * (fewer chunks are faster: each chunk pays the transposed GEMM's per-step latency again).
 */
export function planPhase(q: PhaseQuery, phase: Phase, P: number): { fits: boolean; plan: PhasePlan } {
  const { cfg, target: t, dtype, prompt: L, generate: G, kv } = q;
  const R = regionCount(t, P);
  const decode = phase === 'decode';
  const refT = referenceContext(L, G);
  const hs = decode ? decodeHeadSteps(cfg, t, P, dtype) : prefillHeadSteps(cfg, t, P, L, dtype);
  // The cache's last decode step holds L + G − 1 entries (the prefill yields the first token).
  const slots = decode ? kvRowPositions(P, L + G - 1, kv, L) : 1;
  const maxChunks = decode ? 1 : prefillLayout(cfg, P, L).ls;
  const dt = Math.ceil(cfg.hidden / P);
  const act = dtype;
  // Decode: x [D] split along y, replicated along x, to the same rows of the next region (hops by
  // where it lies: rowTransferHops); prefill: the [L, D] tiles move by the tile shift over distance P,
  // with its two buffers, whichever side the next region lies on. `transferAt` is the step from
  // region a to its neighbour b; the scratch is the same for every pair.
  const transferAt = (a: Region, b: Region): LayerStep => decode
    ? transferStep(t, 'stage.transfer', act, dt, rowTransferHops(a, b, P), P)
    : shiftStep(t, 'stage.transfer', act, Math.ceil(L / P) * dt, P, P, P);
  const transferScratch = transferAt(regionAt(t, P, 0), { x: P, y: 0 }).scratchBytes;
  let chunks = 1, f: CoreFootprint, layerSteps: LayerStep[], scratch: StageScratch, fits: boolean, packing: StagePacking;
  for (;;) {
    f = coreFootprint(cfg, phase, P, L, dtype, chunks);
    layerSteps = decode ? decodeLayerSteps(cfg, t, P, refT, dtype, { kv, prompt: L }) : prefillLayerSteps(cfg, t, P, L, dtype, chunks);
    // Scratch: the largest any step needs (decode at one position per core: the slots carry the growth).
    const scratchSteps = decode ? decodeLayerSteps(cfg, t, P, 1, dtype, { kv, prompt: L }) : layerSteps;
    const part = (k: 'attention' | 'mlp') => totals(scratchSteps.filter((x) => stagePart(x.name) === k)).scratch;
    scratch = scratchBeyond(f, { attention: part('attention'), mlp: part('mlp'), embed: totals(hs.embed).scratch, head: totals(hs.head).scratch, transfer: transferScratch });
    ({ fits, packing } = packStages(cfg, f, slots, scratch, t.sram.bytesPerCore, R));
    if (fits || chunks >= maxChunks) break;
    chunks = Math.min(maxChunks, 2 * chunks);
  }
  const n = packing.layers.length;
  const regions = Array.from({ length: Math.min(n, Math.max(R, 1)) }, (_, i) => regionAt(t, P, i));
  const stageTransfers = regions.slice(1).map((b, i) => transferAt(regions[i], b));
  // Back to the first stage: decode, the token id (untied: every core of the first region needs it
  // for the embedding gather) or the final hidden vector (tied: the head sits with the table on the
  // first stage), both from every row of the last region to the same rows of the first
  // (rowTransferHops); prefill, the last token's hidden row for a tied head, over the distance d.
  let loopTransfer: LayerStep | undefined;
  if (n > 1 && (decode || cfg.tiedEmbeddings)) {
    const a = regions[regions.length - 1], b = regions[0];
    loopTransfer = !decode
      ? transferStep(t, 'loop.hidden', act, dt, dist(a, b), P)
      : cfg.tiedEmbeddings
        ? transferStep(t, 'loop.hidden', act, dt, rowTransferHops(a, b, P), P)
        : transferStep(t, 'loop.token', 'f32', 1, rowTransferHops(a, b, P), P);
  }
  const plan: PhasePlan = {
    phase, P, attentionChunks: decode ? 1 : prefillLayout(cfg, P, L, chunks).chunks, stages: n, layersPerStage: packing.layers, regions, sram: packing.sram, fullest: packing.fullest, footprint: f, slots,
    layerSteps, embedSteps: hs.embed, headSteps: hs.head, stageTransfers, loopTransfer,
  };
  if (decode && fits) {
    // Longest generation: the most position slots per core with which the layers, spread over every
    // region the mesh has at this side (re-packed for each slot count), still fit.
    const fitsWith = (k: number) => packStages(cfg, f, k, scratch, t.sram.bytesPerCore, R, true).fits;
    let lo = 0, hi = Math.ceil(t.sram.bytesPerCore / Math.max(1, f.kvPerSlot + f.perSlotShared)) + 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (fitsWith(mid)) lo = mid;
      else hi = mid - 1;
    }
    plan.maxGeneration = { ...maxGeneration(P, lo, L), slots: lo };
  }
  return { fits: fits && n <= R, plan };
}

/** Cycles of one pass of a phase given one layer's steps (decode: at some context). */
export function phaseCycles(p: PhasePlan, layerSteps: readonly LayerStep[] = p.layerSteps): PhaseCycles {
  const layers = p.layersPerStage.reduce((a, b) => a + b, 0);
  const lay = totals(layerSteps), ext = totals([...p.embedSteps, ...p.headSteps]);
  const moves = [...p.stageTransfers, ...(p.loopTransfer ? [p.loopTransfer] : [])];
  const transfers = moves.reduce((a, m) => a + m.cycles, 0), transferHops = moves.reduce((a, m) => a + m.wordHops, 0);
  const compute = layers * lay.compute + ext.compute, comm = layers * lay.comm + ext.comm;
  return { total: compute + comm + transfers, compute, comm, pipeline: transfers, wordHops: layers * lay.wordHops + ext.wordHops + transferHops };
}

/**
 * Energy of one pass: the running stage's P² cores draw coreActiveWatts while the pass is in that
 * stage (stages run one after another at batch 1), the phase's other cores coreIdleWatts; plus the
 * fabric's joulesPerWordHop per word-hop.
 */
export function phaseJoules(t: Target, p: PhasePlan, c: PhaseCycles): number {
  const seconds = c.total / t.clockHz;
  const active = p.P * p.P, idle = (p.stages - 1) * p.P * p.P;
  return seconds * (active * t.power.coreActiveWatts + idle * t.power.coreIdleWatts) + c.wordHops * t.power.joulesPerWordHop;
}

/** Decode step cycles at context T (memoized per distinct per-row position count). */
export function decodeStepCycles(q: PhaseQuery, p: PhasePlan, T: number, memo: Map<number, PhaseCycles>): PhaseCycles {
  const key = kvRowPositions(p.P, T, q.kv, q.prompt);
  let c = memo.get(key);
  if (!c) {
    c = phaseCycles(p, decodeLayerSteps(q.cfg, q.target, p.P, T, q.dtype, { kv: q.kv, prompt: q.prompt }));
    memo.set(key, c);
  }
  return c;
}

export { maxGeneration };
export type { StagePacking };
