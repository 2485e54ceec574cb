/**
 * One LLM layer as a real wafer program (docs/llm-layer-program.md): the planner's ordered
 * `LayerStep`s (plan-decode.ts, plan-prefill.ts) emitted on the P×P region at the mesh origin as the
 * kernels their cycles came from (layer-program-kernels.ts), under the composition rule of
 * compiler/passes/emit-distributed.ts — every step is
 *
 *   delay 0                           (predicted start T_s)
 *   <the kernel's instructions>
 *   delay (C_s − finish_s(x, y))      (predicted start T_s + finish_s: every core leaves at T_s + C_s)
 *
 * so the program's predicted total is Σ C_s and the emulator (timing-only: weights are shapes-only
 * constants, activations uninitialised scratch) must measure exactly that.
 *
 * Buffers: the GEMV tiles (x, W, y) and the projection GEMMs' weights are persistent; every other operand and every kernel's scratch
 * lives in one arena after them, reused step by step (live ranges = the step's two delays). The
 * emitter runs twice: once to learn the persistent buffers and the largest step scratch, once for real.
 * Colours (layer-program-colours.ts): kernels with the same route rules (every K-tree along one axis
 * over one line length, GEMVs included) share one set of colours; distinct rule sets get disjoint
 * colours when they fit, else colours free of conflicting rules, so no (router, colour, port) is
 * configured twice (W5008). Prefill's Q/K/V transfers are placeholders (LayerProgram.placeholders).
 */
import { DiagnosticError, diag } from '../../ir/diagnostics.js';
import { add, ProgramBuilder, sub, type BufferRef, type InstrRef, type RegionBuilder } from '../../ir/program-builder.js';
import { MEM_TYPE_BYTES, type Expr, type MemType, type Program } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import type { LlmConfig } from '../frontend/llm/config.js';
import { allreduceColours, type MeshAxis } from '../kernels/allreduce.js';
import type { GemvShape } from '../kernels/gemv.js';
import type { KernelRoute } from '../kernels/kernel.js';
import { assignColours, type RuleSet } from './layer-program-colours.js';
import { emitGemmStep, gemmKernelColours } from './layer-program-gemm.js';
import { emitAllreduceStep, emitGemvStep, emitKvShift, emitLocal, emitPlaceholder, type EmittedStep, type StepBuffers, type StepContext } from './layer-program-kernels.js';
import { decodeLayerSteps, type DecodeStepOptions } from './plan-decode.js';
import { prefillLayerSteps } from './plan-prefill.js';
import type { LayerStep } from './plan-steps.js';

export interface LayerProgram {
  program: Program;
  steps: LayerStep[];
  /** Σ steps' cycles: the planner's prediction of the layer. */
  predictedCycles: number;
  /** Each step's cycles as emitted (the program's own prediction is their sum). */
  emittedCycles: number[];
  /** Steps whose emitted kernel does not take the planner's cycles (empty when the planner is exact). */
  mismatches: { step: string; planned: number; emitted: number }[];
  /**
   * Steps emitted as a plain delay of the planner's cycles, moving no data: the prefill transfers of
   * Q/K/V to the attention sub-squares and back (no kernel realises the planner's one-stream model).
   */
  placeholders: string[];
  /** SRAM per core: persistent tiles + the largest step scratch. */
  sramBytes: number;
}

const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/** One decode layer at side P and context T: a program on the P×P region at the mesh origin whose predicted total equals Σ steps' cycles. */
export function decodeLayerProgram(cfg: LlmConfig, target: Target, P: number, T: number, dtype: 'f16' | 'f32', opts: DecodeStepOptions = {}): LayerProgram {
  checkSide(target, P, 'decode');
  if (!Number.isInteger(T) || T < 1) throw diag('W1102', `decode layer program: context T = ${T} is not a positive integer`, 'decode');
  const steps = decodeLayerSteps(cfg, target, P, T, dtype, opts);
  return layerProgram(`${cfg.name}-decode-p${P}-t${T}-${dtype}${opts.kv === 'concat' ? '-concat' : ''}`, target, P, steps);
}

/** Same for the prefill layer over L tokens (its Q/K/V scatter and gather transfers are placeholders: see LayerProgram.placeholders). */
export function prefillLayerProgram(cfg: LlmConfig, target: Target, P: number, L: number, dtype: 'f16' | 'f32', chunks = 1): LayerProgram {
  checkSide(target, P, 'prefill');
  if (!Number.isInteger(L) || L < 1) throw diag('W1102', `prefill layer program: prompt length L = ${L} is not a positive integer`, 'prefill');
  const steps = prefillLayerSteps(cfg, target, P, L, dtype, chunks);
  return layerProgram(`${cfg.name}-prefill-p${P}-l${L}-${dtype}${chunks > 1 ? `-c${chunks}` : ''}`, target, P, steps);
}

function checkSide(target: Target, P: number, where: string): void {
  if (!Number.isInteger(P) || P < 1 || P > target.width || P > target.height) {
    throw diag('W3009', `${where} layer program: a ${P}×${P} region does not fit the ${target.width}×${target.height} mesh of ${target.name}`, where, 'use a smaller side P or a larger target');
  }
}

/** The route rules' identity of a step (steps with one key share colours) and the colours it needs. */
function routeKey(step: LayerStep, P: number): { key: string; colours: number } | undefined {
  const sh = step.shape;
  if (step.kernel === 'gemv') {
    const s = sh as unknown as GemvShape;
    const axis = s.reduceAxis ?? 'y';
    return { key: `ktree|${axis}|${P}`, colours: allreduceColours(P, { algorithm: 'ktree', axis, fn: 'sum', n: 1, type: s.type }) };
  }
  if (step.kernel === 'allreduce' && step.cycles > 0) {
    const line = sh.line as number, axis = sh.axis as MeshAxis;
    return { key: `ktree|${axis}|${line}`, colours: allreduceColours(line, { algorithm: 'ktree', axis, fn: 'sum', n: 1, type: sh.type as MemType }) };
  }
  if (step.kernel === 'meshgemm' || step.kernel === 'transposed') return { key: `${step.kernel}|${sh.P as number}`, colours: gemmKernelColours(step) };
  if (step.kernel === 'transfer' && step.cycles > 0 && isKvShift(step, P)) return { key: 'kv-shift', colours: 1 };
  return undefined;
}

const isKvShift = (step: LayerStep, P: number): boolean => step.shape.hops === 1 && step.shape.flows === P * P && P >= 2;

interface Pass {
  program?: Program;
  persistent: { name: string; type: MemType; length: number }[];
  scratchBytes: number;
  emitted: number[];
  /** The first pass: each key's rule set on canonical colours. */
  sets: RuleSet[];
  placeholders: string[];
}

/** Buffers of one pass: persistent ones declared up front (second pass) or on demand (first). */
class LayerBuffers implements StepBuffers {
  readonly declared = new Map<string, BufferRef>();
  readonly order: { name: string; type: MemType; length: number }[] = [];
  stepScratch: BufferRef[] = [];
  cursor = 0;
  maxScratch = 0;
  constructor(private readonly b: ProgramBuilder, private readonly r: RegionBuilder, private readonly arena: number | undefined) {}
  persistent(name: string, type: MemType, length: number): BufferRef {
    const have = this.declared.get(name);
    if (have && have.type === type && have.length >= length) return have;
    const ref = this.r.buffer(have ? `${name}.${this.order.length}` : name, type, length);
    this.declared.set(name, ref);
    const i = this.order.findIndex((d) => d.name === name);
    if (i >= 0) this.order[i] = { name, type, length: Math.max(this.order[i].length, length) };
    else this.order.push({ name, type, length });
    return ref;
  }
  scratch(name: string, type: MemType, length: number): BufferRef {
    const ref = this.arena === undefined ? this.r.buffer(name, type, length) : this.r.buffer(name, type, length, { offset: this.arena + this.cursor });
    this.cursor += align4(length * MEM_TYPE_BYTES[type]);
    this.maxScratch = Math.max(this.maxScratch, this.cursor);
    this.stepScratch.push(ref);
    return ref;
  }
  weight(name: string, buffer: BufferRef, shape: [number, number], tile: [number, number], at: [Expr, Expr], guard: Expr | undefined): void {
    if (this.arena === undefined) return;
    this.b.constant(name, buffer.type, shape, { buffer, tile, at, ...(guard !== undefined ? { guard } : {}) });
  }
  mark(): number {
    return this.cursor;
  }
  release(mark: number, from: InstrRef, to: InstrRef): void {
    const start = this.arena === undefined ? -1 : this.arena + mark;
    const keep: BufferRef[] = [];
    for (const x of this.stepScratch) {
      if (this.arena !== undefined && x.offset >= start) x.live(from, to);
      else keep.push(x);
    }
    if (this.arena !== undefined) this.stepScratch = keep;
    this.cursor = mark;
  }
}

function emitPass(name: string, target: Target, P: number, steps: readonly LayerStep[], known?: Pass): Pass {
  const b = new ProgramBuilder(name, target);
  const r = b.region('layer', { x: 0, y: 0, width: P, height: P });
  let arena: number | undefined;
  const bufs0 = new LayerBuffers(b, r, undefined);
  if (known) {
    for (const d of known.persistent) bufs0.persistent(d.name, d.type, d.length);
    arena = r.buffers.reduce((m, x) => Math.max(m, align4(x.offset + x.bytes)), 0);
  }
  const bufs = new LayerBuffers(b, r, arena);
  for (const [k, v] of bufs0.declared) bufs.declared.set(k, v);
  bufs.order.push(...bufs0.order);
  // First pass: canonical colours, rule sets recorded; second: the assigned colours and rules.
  const assigned = known ? assignColours(known.sets, target, P) : undefined;
  if (assigned) for (const rule of assigned.rules) b.route(rule);
  const sets = new Map<string, RuleSet>();
  const emitted: number[] = [];
  const placeholders: string[] = [];
  let T = 0;
  for (const step of steps) {
    const route = routeKey(step, P);
    if ((step.kernel === 'allreduce' || step.kernel === 'transfer') && step.cycles === 0) { emitted.push(0); continue; }
    const colours = route ? assigned?.colours.get(route.key) ?? Array.from({ length: route.colours }, (_, i) => i) : [];
    r.setLoc(step.name);
    bufs.cursor = 0;
    bufs.stepScratch = [];
    const first = r.delay(0);
    b.predict(first, T);
    const ctx: StepContext = { target, region: r, P, bufs, colours };
    const placeholder = step.kernel === 'transfer' && !route;
    const e = placeholder ? emitPlaceholder(ctx, step) : emitStep(ctx, step);
    if (placeholder) placeholders.push(step.name);
    const last = r.delay(typeof e.finish === 'number' ? e.cycles - e.finish : sub(e.cycles, e.finish));
    b.predict(last, typeof e.finish === 'number' ? T + e.finish : add(T, e.finish));
    if (known) for (const x of bufs.stepScratch) x.live(first, last);
    if (route && !sets.has(route.key)) sets.set(route.key, { key: route.key, colours: route.colours, routes: dedupe(e.routes) });
    emitted.push(e.cycles);
    T += e.cycles;
  }
  b.predictTotal(T);
  return { ...(known ? { program: b.build() } : {}), persistent: bufs.order, scratchBytes: bufs.maxScratch, emitted, sets: [...sets.values()], placeholders };
}

/** A kernel's rules with repeats dropped (the loader wants each rule once). */
function dedupe(routes: readonly KernelRoute[]): KernelRoute[] {
  const seen = new Set<string>();
  return routes.filter((r) => {
    const k = JSON.stringify([r.colour, r.input, r.outputs, r.guard]);
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

function emitStep(ctx: StepContext, step: LayerStep): EmittedStep {
  switch (step.kernel) {
    case 'local': return emitLocal(ctx, step);
    case 'gemv': return emitGemvStep(ctx, step);
    case 'allreduce': return emitAllreduceStep(ctx, step);
    case 'transfer': return emitKvShift(ctx, step);
    case 'meshgemm':
    case 'transposed': return emitGemmStep(ctx, step);
    default:
      throw diag('W1102', `layer program: step ${step.name} runs kernel '${step.kernel}', which the layer program does not emit`, step.name);
  }
}

const routingMemo = new Map<string, string | undefined>();

/**
 * Whether a layer's kernels can be configured together on the target's router colours at side P:
 * undefined when they can, else the diagnostic (W3009) saying which rule set found no colour. The
 * steps are emitted once (no program kept) and their rule sets coloured as `layerProgram` does;
 * memoized by target, side and the steps' kernels and shapes (what the rule sets depend on).
 */
export function layerRouting(target: Target, P: number, steps: readonly LayerStep[]): string | undefined {
  const key = JSON.stringify([target.name, target.router.colours, target.width, target.height, P, steps.map((s) => [s.kernel, s.shape, s.cycles === 0])]);
  if (routingMemo.has(key)) return routingMemo.get(key);
  let verdict: string | undefined;
  try {
    assignColours(emitPass('routing', target, P, steps).sets, target, P);
  } catch (e) {
    if (!(e instanceof DiagnosticError)) throw e;
    verdict = `${e.diagnostics[0].code} ${e.diagnostics[0].message}`;
  }
  routingMemo.set(key, verdict);
  return verdict;
}

/** Emits a step list on the P×P region: two passes (buffers, then the program), SRAM checked first. */
export function layerProgram(name: string, target: Target, P: number, steps: LayerStep[]): LayerProgram {
  const dry = emitPass(name, target, P, steps);
  const persistentBytes = dry.persistent.reduce((s, d) => s + align4(d.length * MEM_TYPE_BYTES[d.type]), 0);
  const sramBytes = persistentBytes + dry.scratchBytes;
  if (sramBytes > target.sram.bytesPerCore) {
    throw diag('W3009', `layer program ${name}: a core needs ${sramBytes} bytes (${persistentBytes} of persistent tiles, ${dry.scratchBytes} of step scratch), ${target.name} has ${target.sram.bytesPerCore}`, name,
      'use a larger side P or a shorter context');
  }
  const pass = emitPass(name, target, P, steps, dry);
  const mismatches = steps.flatMap((s, i) => (pass.emitted[i] === s.cycles ? [] : [{ step: s.name, planned: s.cycles, emitted: pass.emitted[i] }]));
  return { program: pass.program!, steps, predictedCycles: steps.reduce((s, x) => s + x.cycles, 0), emittedCycles: pass.emitted, mismatches, placeholders: pass.placeholders, sramBytes };
}
