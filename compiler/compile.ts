/**
 * The compiler's API: `compile(model, options)` takes ONNX bytes or a graph, runs the graph passes
 * and the back end (compiler/pipeline.ts), and returns the program, the mesh IR and what the
 * compiler has to say (notes such as the sub-region it used). Deterministic: the same model and
 * options give a program that encodes to the same bytes.
 *
 * The back-end passes run like the graph passes: verified after each one (the mesh verifier, on by
 * default), timed, and printed before/after on request through `onIr` (the mesh IR text with the
 * pass's decisions as comments: routes, SRAM plan, schedule; the program's disassembly after emit).
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import type { MeshGraph } from '../ir/mesh.js';
import { printMesh } from '../ir/mesh-text.js';
import { verifyMesh } from '../ir/mesh-verify.js';
import { disassemble } from '../ir/program-text.js';
import type { Program } from '../ir/program.js';
import type { Target } from '../ir/target.js';
import { printGraph } from '../ir/text.js';
import { verifyGraph } from '../ir/verify.js';
import { distributedSide } from './kernels/distributed.js';
import { bindDims, importOnnx } from './frontend/onnx/index.js';
import type { ImportHost } from './host.js';
import { checkPassIds, runPasses, type PipelineOptions } from './pass-manager.js';
import { formatSramPlan } from './passes/allocate-sram.js';
import { formatSchedule } from './passes/schedule.js';
import { BACKEND_PASSES, GRAPH_PASSES, type BackendOptions, type BackendState } from './pipeline.js';

export interface CompileOptions extends BackendOptions, PipelineOptions {
  target: Target;
  /** Symbolic dims to bind (`--dim name=N`). */
  dims?: Record<string, number>;
  /** For ONNX bytes: the model's path (external data is read relative to it) and the file access. */
  modelPath?: string;
  host?: ImportHost;
}

export interface CompileResult {
  program: Program;
  mesh: MeshGraph;
  /** The graph the back end compiled (after the graph passes and `fuse`): the program's source. */
  graph: Graph;
  /** Informational notes (the sub-region used, ...). */
  notes: string[];
  /** Everything the passes decided, for tests and dumps. */
  state: BackendState;
}

/** All pass ids, graph passes first (for --print-ir-* checks). */
export const ALL_PASS_IDS: readonly string[] = [...GRAPH_PASSES.map((p) => p.id), ...BACKEND_PASSES.map((p) => p.id)];

/** The printed form of the back end's state after a pass: mesh IR plus the decisions as comments. */
export function printBackendState(s: BackendState, passId: string): string {
  if (passId === 'emit' && s.program) return disassemble(s.program);
  if (!s.mesh) return printGraph(s.graph);
  const parts: string[] = [];
  if (s.mesh) parts.push(printMesh(s.mesh));
  if (s.placement) parts.push(`// ${s.placement.note}`);
  if (s.routes && s.routes.length) {
    parts.push(s.routes.map((r) => `// route ${r.op}: colour ${r.colour}, (${r.src.x},${r.src.y}) -> ${r.dests.map((d, k) => `(${d.x},${d.y}) ${r.hops[k]} hops`).join(', ')}; ` +
      r.rules.map((u) => `(${u.rect.x},${u.rect.y} ${u.rect.width}x${u.rect.height}) ${u.input} -> ${u.outputs.join('+')}`).join('; ')).join('\n'));
  }
  if (s.sram) parts.push(formatSramPlan(s.sram));
  if (s.schedule) parts.push(formatSchedule(s.schedule));
  return parts.join('\n') + '\n';
}

const wants = (list: string[] | undefined, id: string) => !!list && (list.includes('all') || list.includes(id));

/** Diagnostics of the single-core back end that the distributed one may overcome. */
const TOO_BIG = new Set(['W3002', 'W3003', 'W3005']);

/**
 * Runs the back-end passes on a graph that went through the graph passes. With layout 'auto' (the
 * default), a model that single-core ops cannot hold (W3002 / W3003 / W3005) is compiled again in
 * distributed mode; when that fails too, both reasons are reported, the single-core one first. A
 * model single cores hold only in pieces (row tiles, batch pieces) is compiled both ways, and the
 * one with fewer predicted cycles is kept.
 */
export function runBackend(graph: Graph, options: CompileOptions): BackendState {
  const layout = options.layout ?? 'auto';
  if (layout === 'single') return runBackendAs(graph, options, layout);
  if (layout === 'distributed') return runDistributed(graph, options);
  try {
    const single = runBackendAs(graph, options, 'single');
    // A model that single cores hold only in pieces (row tiles, batch pieces) may run faster
    // distributed: take whichever the exact schedules say is faster.
    if (!single.mesh!.ops.some((op) => typeof op.params.pin === 'number')) return single;
    let dist: BackendState | undefined;
    try {
      dist = runDistributed(graph, options);
    } catch (d) {
      if (!(d instanceof DiagnosticError)) throw d;
    }
    const cycles = (x: BackendState) => x.schedule!.totalCycles;
    if (!dist || cycles(single) <= cycles(dist)) return single;
    return { ...dist, notes: [...dist.notes, `distributed mode: ${cycles(dist)} cycles, against ${cycles(single)} for single-core ops in pieces`] };
  } catch (e) {
    if (!(e instanceof DiagnosticError) || !e.diagnostics.some((d) => TOO_BIG.has(d.code))) throw e;
    try {
      return runDistributed(graph, options);
    } catch (d) {
      if (!(d instanceof DiagnosticError)) throw d;
      throw new DiagnosticError([...e.diagnostics, ...d.diagnostics.map((x) => ({ ...x, message: `distributed mode: ${x.message}` }))]);
    }
  }
}

/** A distributed attempt that failed after choosing its region side (its routers' colours ran out). */
class SideFailure extends DiagnosticError {
  constructor(diagnostics: DiagnosticError['diagnostics'], readonly side: number) {
    super(diagnostics);
  }
}

/** Smaller sides distributed mode tries when the routers of the chosen one run out of colours. */
const SIDE_RETRIES = 6;

/**
 * Distributed mode: the planner picks a side by the kernels alone; when routing then runs out of
 * colours on it (W3004), smaller sides are tried, and the first failure is reported when none works.
 */
function runDistributed(graph: Graph, options: CompileOptions): BackendState {
  let first: SideFailure | undefined;
  let maxSide: number | undefined;
  for (let attempt = 0; attempt <= SIDE_RETRIES; attempt++) {
    try {
      const s = runBackendAs(graph, options, 'distributed', maxSide);
      if (first) s.notes.push(`distributed mode: ${first.side}x${first.side} cores fail (${first.diagnostics[0].code}); ${s.placement!.region.width}x${s.placement!.region.width} used`);
      return s;
    } catch (e) {
      if (!(e instanceof SideFailure) || e.side <= 2) throw first ?? e;
      first ??= e;
      maxSide = e.side - 1;
    }
  }
  throw first!;
}

function runBackendAs(graph: Graph, options: CompileOptions, layout: 'single' | 'distributed', maxSide?: number): BackendState {
  let s: BackendState = {
    graph, target: options.target, options: { dtype: options.dtype, layout, gemm: options.gemm, allreduce: options.allreduce, fuse: options.fuse, maxSide }, notes: [],
  };
  const verify = options.verify ?? true;
  const offset = GRAPH_PASSES.length;
  BACKEND_PASSES.forEach((pass, k) => {
    const index = offset + k;
    if (wants(options.printBefore, pass.id)) {
      options.onIr?.(pass.id, 'before', index, printBackendState(s, ''));
    }
    const t0 = performance.now();
    try {
      s = pass.run(s);
    } catch (e) {
      // Routers out of colours on the chosen side: runDistributed retries smaller ones. (A memory map
      // that overflows would only grow on a smaller side: W3005 is final.)
      const side = s.mesh ? distributedSide(s.mesh) : undefined;
      if (e instanceof DiagnosticError && side !== undefined && e.diagnostics.some((d) => d.code === 'W3004')) throw new SideFailure(e.diagnostics, side);
      throw e;
    }
    options.onTime?.(pass.id, performance.now() - t0);
    if (wants(options.printAfter, pass.id)) options.onIr?.(pass.id, 'after', index, printBackendState(s, pass.id));
    // place moves readers and values to their cores; insert-redistribution restores "a call's values
    // are on its core", so the verifier skips the one point in between.
    if (verify && !s.mesh) {
      const problems = verifyGraph(s.graph);
      if (problems.length) throw new DiagnosticError(problems.map((d) => ({ ...d, message: `after pass ${pass.id}: ${d.message}` })));
    }
    if (verify && s.mesh && pass.id !== 'emit' && pass.id !== 'place') {
      const problems = verifyMesh(s.mesh, { width: options.target.width, height: options.target.height });
      if (problems.length) throw new DiagnosticError(problems.map((d) => ({ ...d, message: `after pass ${pass.id}: ${d.message}` })));
    }
  });
  return s;
}

/** Compiles ONNX model bytes or a graph (imported, not yet through the graph passes) for a target. */
/** The graph of a model (ONNX bytes imported, or a graph as is) with the options' dims bound. */
export function modelGraph(model: Uint8Array | Graph, options: Pick<CompileOptions, 'modelPath' | 'host' | 'dims'>): Graph {
  const g = model instanceof Uint8Array ? importOnnx(model, { modelPath: options.modelPath, host: options.host, dims: options.dims }) : model;
  return options.dims && Object.keys(options.dims).length ? bindDims(g, options.dims) : g;
}

export function compile(model: Uint8Array | Graph, options: CompileOptions): CompileResult {
  const all = [...GRAPH_PASSES, ...BACKEND_PASSES];
  checkPassIds(all, options.printBefore, '--print-ir-before');
  checkPassIds(all, options.printAfter, '--print-ir-after');
  const g = modelGraph(model, options);
  const graphOnly = (list?: string[]) => list?.filter((id) => id === 'all' || GRAPH_PASSES.some((p) => p.id === id));
  const graph = runPasses(g, [...GRAPH_PASSES], { ...options, printBefore: graphOnly(options.printBefore), printAfter: graphOnly(options.printAfter) });
  const state = runBackend(graph, options);
  return { program: state.program!, mesh: state.mesh!, graph: state.graph, notes: state.notes, state };
}
