/**
 * Prefill → decode transition (docs/llm-plan.md "Transition"): the weights, laid out for the prefill
 * regions (side Pp, GEMM tiles), move once to the decode layout (side Pd, GEMV tiles), and the
 * prompt's KV cache with them. Bandwidth/distance model over the target's links:
 *
 *   hops(layer)  = Manhattan distance between the centres of its prefill and decode regions
 *                  + (Pp + Pd) / 2 (the mean re-tiling displacement inside the squares)
 *   wordHops     = Σ words(layer) · hops(layer)        (embedding / head with the first / last layer)
 *   cycles       = max(⌈wordHops / linkDirections(box)⌉, ⌈max words a core sends or receives / link words per cycle⌉)
 *                  + max hops · α + 2ρ
 *
 * with box the bounding rectangle of both phases' regions (dimension-ordered routes between two of
 * its cores stay inside it): either every link of the box is busy moving the words or a core's ramp
 * is the bottleneck. It is an estimate (no route-level schedule); its limits (docs/llm-plan.md
 * "Transition"): KV bytes unpadded while weights are at the decode tiles, the embedding / head only
 * pay the re-tiling distance, and where a prefill and a decode region overlap a core is assumed to
 * have room for both layouts while the move runs.
 */
import { wordsPerLinkCycle, type Target } from '../../ir/target.js';
import type { LlmConfig } from '../frontend/llm/config.js';
import type { PlanDtype } from './plan-decode.js';
import type { PhasePlan, Region } from './plan-phase.js';
import type { SramBreakdown } from './plan-memory.js';

export interface TransitionPlan {
  weightBytes: number;
  kvBytes: number;
  wordHops: number;
  maxHops: number;
  cycles: number;
  seconds: number;
}

function stageOf(layersPerStage: number[], layer: number): number {
  let acc = 0;
  for (let i = 0; i < layersPerStage.length; i++) {
    acc += layersPerStage[i];
    if (layer < acc) return i;
  }
  return layersPerStage.length - 1;
}

const centre = (r: Region, P: number) => ({ x: r.x + P / 2, y: r.y + P / 2 });

export function transition(cfg: LlmConfig, t: Target, pre: PhasePlan, dec: PhasePlan, L: number, dtype: PlanDtype): TransitionPlan {
  const b = dtype === 'f16' ? 2 : 4;
  const Pp = pre.P, Pd = dec.P;
  const fd = dec.footprint, fp = pre.footprint;
  // Bytes moved: the decode layout's tiles (what arrives), summed over the decode region's cores.
  const layerBytes = fd.layerWeights * Pd * Pd;
  const kvLayerBytes = 2 * L * cfg.kvHeads * cfg.headDim * b;
  const extraBytes = (fd.embedding + fd.lmHead) * Pd * Pd;
  let wordHops = 0, maxHops = 0;
  for (let l = 0; l < cfg.layers; l++) {
    const a = centre(pre.regions[stageOf(pre.layersPerStage, l)], Pp), d = centre(dec.regions[stageOf(dec.layersPerStage, l)], Pd);
    const hops = Math.abs(a.x - d.x) + Math.abs(a.y - d.y) + (Pp + Pd) / 2;
    maxHops = Math.max(maxHops, hops);
    wordHops += ((layerBytes + kvLayerBytes) / 4) * hops;
  }
  wordHops += (extraBytes / 4) * ((Pp + Pd) / 2);
  const rects = [...pre.regions.map((r) => ({ ...r, P: Pp })), ...dec.regions.map((r) => ({ ...r, P: Pd }))];
  const w = Math.max(...rects.map((r) => r.x + r.P)) - Math.min(...rects.map((r) => r.x));
  const h = Math.max(...rects.map((r) => r.y + r.P)) - Math.min(...rects.map((r) => r.y));
  const links = Math.max(1, 2 * ((w - 1) * h + w * (h - 1)));
  const wpc = wordsPerLinkCycle(t);
  // Per core: what a prefill core holds of weights and KV, what a decode core receives.
  // (each stage's weights, embedding and head share as its SRAM breakdown places them, plus the prompt's KV)
  const held = (s: SramBreakdown) => s.weights + s.embedding + s.lmHead;
  const sendWords = Math.max(...pre.layersPerStage.map((n, i) => (held(pre.sram[i]) + n * fp.kvPerSlot) / 4));
  const recvWords = Math.max(...dec.layersPerStage.map((n, i) => (held(dec.sram[i]) + n * fd.kvPerSlot * Math.ceil(L / Pd)) / 4));
  const cycles = Math.ceil(Math.max(wordHops / (links * wpc), Math.max(sendWords, recvWords) / wpc)) + Math.ceil(maxHops) * t.link.hopLatency + 2 * t.link.rampLatency;
  return {
    weightBytes: layerBytes * cfg.layers + extraBytes, kvBytes: kvLayerBytes * cfg.layers, wordHops, maxHops, cycles, seconds: cycles / t.clockHz,
  };
}
