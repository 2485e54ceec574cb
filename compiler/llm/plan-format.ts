/**
 * The LLM plan as figures (`planFigures`: named numbers, for JSON and tests) and as a human report
 * (`formatPlan`: stages, regions, SRAM per core by tensor, per-step cycles, figures). Deterministic:
 * the same plan prints the same text.
 */
import type { LlmPlan } from './plan.js';
import type { PhaseCycles, PhasePlan } from './plan-phase.js';
import type { LayerStep } from './plan-steps.js';

const routable = (r: string): number => (r === 'ok' ? 1 : r === 'unchecked' ? -1 : 0);

/** The report's routing line of a phase. */
function routingLine(r: string, P: number): string {
  if (r === 'ok') return `  routing: the layer's kernels share the router's colours at ${P}² (coloured as the emitter does)`;
  if (r === 'unchecked') return '  routing: not checked (checkRouting: false)';
  return `  routing: NOT ROUTABLE at ${P}², nor at any other side that fits: ${r} — the timing is the kernels' costs without a router configuration (docs/llm-plan.md, Limits)`;
}

export function planFigures(p: LlmPlan): Record<string, number> {
  const hz = p.clockHz;
  const prefillSeconds = p.prefillCycles.total / hz;
  const decodeSecondsPerToken = p.decodeCycles.total / hz;
  const decodeTotalSeconds = p.decodeTotalCycles / hz;
  // G tokens: the prefill yields the first, G − 1 decode steps the rest; with none, no transition either.
  const decodeSteps = p.generate - 1;
  const endToEndSeconds = prefillSeconds + (decodeSteps > 0 ? p.transition.seconds + decodeTotalSeconds : 0);
  const share = (c: PhaseCycles, k: 'compute' | 'comm' | 'pipeline') => c[k] / c.total;
  return {
    prefillCores: p.prefill.P,
    decodeCores: p.decode.P,
    prefillStages: p.prefill.stages,
    decodeStages: p.decode.stages,
    prefillSeconds,
    prefillTokensPerSecond: p.prompt / prefillSeconds,
    transitionSeconds: p.transition.seconds,
    decodeSecondsPerToken,
    decodeTokensPerSecond: 1 / decodeSecondsPerToken,
    decodeTotalSeconds,
    decodeMeanTokensPerSecond: decodeSteps > 0 ? decodeSteps / decodeTotalSeconds : 1 / decodeSecondsPerToken,
    endToEndSeconds,
    endToEndTokensPerSecond: p.generate / endToEndSeconds,
    maxGenerationShift: p.maxGeneration.shift,
    maxGenerationConcat: p.maxGeneration.concat,
    joulesPerToken: p.decodeJoulesPerToken,
    prefillJoulesPerToken: p.prefillJoules / p.prompt,
    prefillComputeShare: share(p.prefillCycles, 'compute'),
    prefillCommShare: share(p.prefillCycles, 'comm'),
    prefillPipelineShare: share(p.prefillCycles, 'pipeline'),
    decodeComputeShare: share(p.decodeCycles, 'compute'),
    decodeCommShare: share(p.decodeCycles, 'comm'),
    decodePipelineShare: share(p.decodeCycles, 'pipeline'),
    // 1: the layer's kernels share the router's colours at that side (checked); 0: they do not; −1: not checked.
    prefillRoutable: routable(p.routing.prefill),
    decodeRoutable: routable(p.routing.decode),
    prefillFullestCoreBytes: p.prefill.sram[p.prefill.fullest].total,
    decodeFullestCoreBytes: p.decode.sram[p.decode.fullest].total,
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const sig = (n: number): string => (n === 0 ? '0' : Math.abs(n) >= 1e5 || Math.abs(n) < 1e-3 ? n.toExponential(3) : String(Number(n.toPrecision(4))));
const pct = (a: number, b: number): string => `${b > 0 ? ((100 * a) / b).toFixed(1) : '0.0'}%`;

function stepLines(steps: readonly LayerStep[]): string[] {
  const w = Math.max(...steps.map((s) => s.name.length), 4);
  return steps.map((s) => `    ${s.name.padEnd(w)}  ${s.kernel.padEnd(10)}  ${int(s.cycles).padStart(10)}  (compute ${int(s.computeCycles)}, comm ${int(s.commCycles)})`);
}

function phaseLines(name: string, p: PhasePlan, c: PhaseCycles, routing: string): string[] {
  const s = p.sram[p.fullest];
  const out = [
    `${name}: ${p.P}×${p.P} cores per region, ${p.stages} stage(s), layers per stage ${p.layersPerStage.join(' ')}${p.phase === 'prefill' ? `, attention in ${p.attentionChunks} query chunk(s)` : ''}`,
    `  regions at ${p.regions.map((r) => `(${r.x},${r.y})`).join(' ')}`,
    `  fullest core (stage ${p.fullest}): weights ${int(s.weights)}, KV cache ${int(s.kvCache)}, embedding ${int(s.embedding)}, LM head ${int(s.lmHead)}, activations ${int(s.activations)}, scratch ${int(s.scratch)} = ${int(s.total)} of ${int(s.capacity)} bytes`,
    `  cycles per pass ${int(c.total)}: compute ${pct(c.compute, c.total)}, communication ${pct(c.comm, c.total)}, pipeline transfers ${pct(c.pipeline, c.total)}`,
    `  one layer${p.phase === 'decode' ? ' (at the reference context)' : ''}:`,
    ...stepLines(p.layerSteps),
    '  embedding:',
    ...stepLines(p.embedSteps),
    '  final norm, LM head, argmax:',
    ...stepLines(p.headSteps),
    routingLine(routing, p.P),
    `  stage transfers: ${p.stageTransfers.length ? p.stageTransfers.map((x) => `${x.kernel} ${int(x.cycles)}`).join(', ') + ' cycles' : 'none (one stage)'}${p.loopTransfer ? `; back to the first stage (${p.loopTransfer.name}): ${int(p.loopTransfer.cycles)} cycles` : ''}`,
  ];
  return out;
}

export function formatPlan(p: LlmPlan): string {
  const f = planFigures(p);
  const lines = [
    `LLM plan: ${p.model} on ${p.target}, ${p.dtype}, prompt ${p.prompt}, generate ${p.generate}, KV ${p.kv}`,
    `sides tried: ${p.candidates.map((c) => `${c.P}${c.prefillFits ? 'p' : ''}${c.decodeFits ? 'd' : ''}`).join(' ')} (p: prefill fits, d: decode fits)`,
    ...phaseLines('prefill', p.prefill, p.prefillCycles, p.routing.prefill),
    ...phaseLines(`decode (context ${p.decodeReferenceContext})`, p.decode, p.decodeCycles, p.routing.decode),
    `transition: ${int(p.transition.weightBytes)} weight bytes and ${int(p.transition.kvBytes)} KV bytes, ${sig(p.transition.wordHops)} word-hops, ${int(p.transition.cycles)} cycles`,
    `max generation for prompt ${p.prompt}: shift ${int(p.maxGeneration.shift)}, concat ${int(p.maxGeneration.concat)} — ${p.maxGeneration.how}`,
    'figures:',
    ...Object.entries(f).map(([k, v]) => `  ${k.padEnd(28)} ${sig(v)}`),
    '  (decodeTokensPerSecond: 1 / TPOT at the reference context; decodeMeanTokensPerSecond: (G − 1) decode steps / their time;',
    '   endToEndTokensPerSecond: G / (prefill + transition + Σ decode steps), the prefill yielding the first token)',
    ...p.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n') + '\n';
}
