/**
 * SRAM per core of a pipeline stage, by tensor (docs/llm-plan.md "SRAM per core"): the weights of
 * the stage's layers at the kernels' tile sizes, the KV cache, the embedding table / LM head share,
 * the activation buffers and the kernel scratch (the largest any step needs: buffers are reused).
 * Also: packing layers into the fewest stages that fit, and the longest generation each KV scheme
 * leaves room for.
 */
import { MEM_TYPE_BYTES } from '../../ir/program.js';
import type { LlmConfig } from '../frontend/llm/config.js';
import { decodeLayout, type PlanDtype } from './plan-decode.js';
import { prefillLayout } from './plan-prefill.js';

export type Phase = 'prefill' | 'decode';

/** Bytes per core of one stage, by tensor. */
export interface SramBreakdown {
  weights: number;
  kvCache: number;
  embedding: number;
  lmHead: number;
  activations: number;
  scratch: number;
  total: number;
  capacity: number;
}

/** What one layer and the stage extras cost per core, before the number of layers and positions is known. */
export interface CoreFootprint {
  /** Weights (norm gains and biases included) of one layer. */
  layerWeights: number;
  /** K and V bytes of one position slot of one layer (decode) — or of the prompt's whole tile (prefill). */
  kvPerSlot: number;
  /** Bytes per position slot that do not scale with layers (decode: scores, probabilities, their scratch). */
  perSlotShared: number;
  embedding: number;
  lmHead: number;
  /** Activation buffers (reused by every layer): persistent + max(attention, mlp). */
  activations: number;
  /** Live throughout (x, residual, normed x); live only in the attention part / the MLP part of a layer. */
  persistent: number;
  attention: number;
  mlp: number;
}

/** Kernel scratch by the part of the pass its step runs in (the stage transfer: the tile shift's buffers). */
export interface ScratchByPart { attention: number; mlp: number; embed: number; head: number; transfer: number }

/** Scratch beyond the activation buffers, by what a stage runs: its layers (and stage transfer), the embedding (first stage), the head. */
export interface StageScratch { layer: number; embed: number; head: number }

/**
 * Scratch beyond the activation buffers: a step's scratch coexists with the persistent buffers and
 * the buffers of its own part of the layer only (the embedding / head steps and the stage transfer
 * with the persistent ones). Each stage is charged for what it runs (stageSram).
 */
export function scratchBeyond(f: CoreFootprint, s: ScratchByPart): StageScratch {
  const beyond = (working: number) => Math.max(0, working - f.activations);
  return {
    layer: beyond(Math.max(f.persistent + f.attention + s.attention, f.persistent + f.mlp + s.mlp, f.persistent + s.transfer)),
    embed: beyond(f.persistent + s.embed),
    head: beyond(f.persistent + s.head),
  };
}

/** Which part of a layer a step belongs to (by name): the attention (projections included) or the rest. */
export function stagePart(name: string): 'attention' | 'mlp' {
  return /^(q|k|v|o|rope|kv|scores|softmax|pv|attn)(\.|$)/.test(name) ? 'attention' : 'mlp';
}

const a4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Per-core footprint at side P. Prefill: the prompt's KV tile is `kvPerSlot` (one "slot" per layer). */
export function coreFootprint(cfg: LlmConfig, phase: Phase, P: number, L: number, dtype: PlanDtype, chunks = 1): CoreFootprint {
  const b = MEM_TYPE_BYTES[dtype];
  const gated = cfg.mlp === 'gated';
  const normW = (d: number) => (cfg.norm === 'layer' ? 2 : 1) * a4(d * b);
  if (phase === 'decode') {
    const y = decodeLayout(cfg, P);
    const { dt, qt, kvt, it } = y;
    const vt = Math.ceil(cfg.vocab / P);
    const layerWeights = a4(dt * qt * b) + 2 * a4(dt * kvt * b) + a4(qt * dt * b) + (gated ? 3 : 2) * a4(dt * it * b) + 2 * normW(dt)
      + (cfg.qkvBias ? a4(qt * b) + 2 * a4(kvt * b) : 0) + (cfg.outBias ? a4(dt * b) : 0) + (cfg.mlpBias ? (gated ? 2 : 1) * a4(it * b) + a4(dt * b) : 0);
    const embedding = a4(vt * dt * b) + (cfg.positions === 'learned' ? a4(Math.ceil(cfg.maxPositions / P) * dt * b) : 0);
    const lmHead = (cfg.tiedEmbeddings ? 0 : a4(dt * vt * b)) + normW(dt);
    // x, residual, normed x; q, k, v, attention output; gate/up (or fc); one f32 GEMV result; RoPE frequencies.
    const persistent = 3 * a4(dt * b) + (cfg.positions === 'rope' ? a4((y.hdt / 2) * 4) : 0);
    const attention = 2 * a4(qt * b) + 2 * a4(kvt * b) + a4(Math.max(qt, dt) * 4);
    const mlp = (gated ? 2 : 1) * a4(it * b) + a4(Math.max(it, dt) * 4);
    // Per slot: scores (f32), their allreduce's side buffer (f32) and the probabilities in the operand type.
    return { layerWeights, kvPerSlot: 2 * kvt * b, perSlotShared: y.hr * (4 + 4 + b), embedding, lmHead, activations: persistent + Math.max(attention, mlp), persistent, attention, mlp };
  }
  const y = prefillLayout(cfg, P, L, chunks);
  const { lt, dt, qn, kn } = y;
  const vt = Math.ceil(cfg.vocab / P);
  const layerWeights = a4(dt * qn * b) + 2 * a4(dt * kn * b) + a4(qn * dt * b) + (gated ? 3 : 2) * a4(dt * y.in * b) + 2 * normW(dt)
    + (cfg.qkvBias ? a4(qn * b) + 2 * a4(kn * b) : 0) + (cfg.outBias ? a4(dt * b) : 0) + (cfg.mlpBias ? (gated ? 2 : 1) * a4(y.in * b) + a4(dt * b) : 0);
  const embedding = a4(vt * dt * b) + (cfg.positions === 'learned' ? a4(Math.ceil(cfg.maxPositions / P) * dt * b) : 0);
  const lmHead = (cfg.tiedEmbeddings ? 0 : a4(dt * vt * b)) + normW(dt);
  // Liveness: x, residual and normed x live throughout; the attention buffers and the MLP's are never
  // live together, so the larger set counts.
  const persistent = 3 * a4(lt * dt * b);
  const attention = a4(lt * qn * b) * 2 + 2 * a4(lt * kn * b) + a4(lt * Math.max(qn, kn, dt) * 4)
    + y.headsPerSquare * 4 * a4(y.ls * y.hsT * b) + a4(y.lc * y.ls * 4) + a4(y.lc * y.ls * b);
  const mlp = (gated ? 2 : 1) * a4(lt * y.in * b) + a4(lt * Math.max(y.in, dt) * 4);
  return { layerWeights, kvPerSlot: 2 * a4(lt * kn * b), perSlotShared: 0, embedding, lmHead, activations: persistent + Math.max(attention, mlp), persistent, attention, mlp };
}

/** The breakdown of a stage of `layers` layers holding `slots` KV positions per core (decode) and the extras it carries. */
export function stageSram(f: CoreFootprint, layers: number, slots: number, first: boolean, last: boolean, tiedHeadOnFirst: boolean, stageScratch: StageScratch, capacity: number): SramBreakdown {
  const weights = layers * f.layerWeights;
  const kvCache = layers * f.kvPerSlot * slots + f.perSlotShared * slots;
  const embedding = first ? f.embedding : 0;
  // Tied embeddings: the head (and final norm) runs on the first stage, which holds the table.
  const headHere = tiedHeadOnFirst ? first : last;
  const lmHead = headHere ? f.lmHead : 0;
  const scratch = Math.max(stageScratch.layer, first ? stageScratch.embed : 0, headHere ? stageScratch.head : 0);
  const total = weights + kvCache + embedding + lmHead + f.activations + scratch;
  return { weights, kvCache, embedding, lmHead, activations: f.activations, scratch, total, capacity };
}

export interface StagePacking {
  layers: number[];
  sram: SramBreakdown[];
  /** Index of the fullest stage. */
  fullest: number;
}

/** Layers each stage of n can hold with `slots` KV positions per core, given what else it carries. */
function stageCapacities(cfg: LlmConfig, f: CoreFootprint, n: number, slots: number, scratch: StageScratch, capacity: number): number[] {
  const per = f.layerWeights + f.kvPerSlot * slots;
  return Array.from({ length: n }, (_, i) => {
    const s = stageSram(f, 0, slots, i === 0, i === n - 1, cfg.tiedEmbeddings, scratch, capacity);
    return Math.max(0, Math.min(cfg.layers, Math.floor((capacity - s.total) / per)));
  });
}

/**
 * Layers of each of n stages: as even as the stages' capacities allow (water-filling: every stage
 * gets up to ⌈layers/n⌉, then surplus comes off the fullest stages and shortfall goes to the emptiest
 * stages that have room; ties prefer the middle stages for extra layers, as the ends carry the
 * embedding and head).
 */
export function splitLayers(layers: number, caps: number[]): number[] {
  const n = caps.length;
  const mid = (i: number) => Math.abs(i - (n - 1) / 2);
  const out = caps.map((c) => Math.min(c, Math.ceil(layers / n)));
  let sum = out.reduce((a, b) => a + b, 0);
  while (sum > layers) {
    let k = 0;
    for (let i = 1; i < n; i++) if (out[i] > out[k] || (out[i] === out[k] && mid(i) > mid(k))) k = i;
    out[k]--; sum--;
  }
  while (sum < layers) {
    let k = -1;
    for (let i = 0; i < n; i++) if (out[i] < caps[i] && (k < 0 || out[i] < out[k] || (out[i] === out[k] && mid(i) < mid(k)))) k = i;
    if (k < 0) break;
    out[k]++; sum++;
  }
  return out;
}

function packing(cfg: LlmConfig, f: CoreFootprint, layers: number[], slots: number, scratch: StageScratch, capacity: number): StagePacking {
  const n = layers.length;
  const sram = layers.map((l, i) => stageSram(f, l, slots, i === 0, i === n - 1, cfg.tiedEmbeddings, scratch, capacity));
  let fullest = 0;
  sram.forEach((s, i) => { if (s.total > sram[fullest].total) fullest = i; });
  return { layers, sram, fullest };
}

/** The fewest stages (≤ maxStages; with `most`, exactly the most) whose every core fits with `slots` KV positions; or, failing, the even split over the most stages. */
export function packStages(cfg: LlmConfig, f: CoreFootprint, slots: number, scratch: StageScratch, capacity: number, maxStages: number, most = false): { fits: boolean; packing: StagePacking } {
  const limit = Math.max(1, Math.min(maxStages, cfg.layers));
  for (let n = most ? limit : 1; n <= limit; n++) {
    const caps = stageCapacities(cfg, f, n, slots, scratch, capacity);
    if (caps.reduce((a, b) => a + b, 0) < cfg.layers) continue;
    const p = packing(cfg, f, splitLayers(cfg.layers, caps), slots, scratch, capacity);
    if (p.sram[p.fullest].total <= capacity) return { fits: true, packing: p };
  }
  const even = splitLayers(cfg.layers, Array.from({ length: limit }, () => cfg.layers));
  return { fits: false, packing: packing(cfg, f, even, slots, scratch, capacity) };
}

/**
 * Longest generation for a prompt L with `slots` positions per core. The prefill yields the first
 * token, so G tokens take G − 1 decode steps and the cache's last step holds L + G − 1 entries:
 * shift balances them over the P rows (P·slots ≥ L + G − 1); concat keeps the prompt's ⌈L/P⌉ per row
 * and piles the G − 1 generated entries on one row (slots ≥ ⌈L/P⌉ + G − 1). 0: not even the prompt fits.
 */
export function maxGeneration(P: number, slots: number, L: number): { shift: number; concat: number } {
  const rowPrompt = Math.ceil(L / P);
  return { shift: P * slots >= L ? P * slots - L + 1 : 0, concat: slots >= rowPrompt ? slots - rowPrompt + 1 : 0 };
}
