/**
 * Pipelines: flat lists of passes, with the form of the IR at each point.
 *
 * Graph level (GraphPass, compiler/pass-manager.ts):
 *   frontend → verify           graph IR, types known for inputs/constants only, dims maybe symbolic
 *   infer-shapes                every value has a static type (dims must be bound first)
 *   fold-constants              shape arithmetic and other compile-time subgraphs are constants
 *   simplify                    no Identity / inference Dropout / no-op casts and reshapes, no dead code
 *   sink-expand                 no Expand feeds an elementwise op: broadcasting absorbs it (or it moved past the op)
 *
 * Back end (BackendPass, run by compiler/compile.ts over a BackendState):
 *   fuse                        graph IR: elementwise chains are wafer:FusedElementwise nodes
 *   select-kernels              mesh IR: every op a kernel instance (`call`), every value a layout on core (0,0)
 *   place                       every op and value on its core of the used sub-region (state.placement)
 *   insert-redistribution       a `redistribute` op (kernel `transfer`) wherever a value is read on another core
 *   route                       each transfer has an XY route and a colour (params; state.routes)
 *   allocate-sram               every tensor of every core has an SRAM buffer and offset (state.sram)
 *   schedule                    every op is a step with a start cycle, a cost and per-core finishes (state.schedule)
 *   emit                        the program (state.program)
 */
import type { Graph } from '../ir/graph.js';
import type { MeshGraph } from '../ir/mesh.js';
import type { Expr, MemType, Program, Rect, RouteRule } from '../ir/program.js';
import type { AllreduceChoice, GemmChoice } from './kernels/distribute-plan.js';
import type { Target } from '../ir/target.js';
import type { GraphPass } from './pass-manager.js';
import { allocateSramPass } from './passes/allocate-sram.js';
import { emitPass } from './passes/emit.js';
import { foldConstantsPass } from './passes/fold-constants.js';
import { fusePass } from './passes/fuse.js';
import { inferShapesPass } from './passes/infer-shapes.js';
import { insertRedistributionPass } from './passes/insert-redistribution.js';
import { placePass } from './passes/place.js';
import { routePass } from './passes/route.js';
import { schedulePass } from './passes/schedule.js';
import { selectKernelsPass } from './passes/select-kernels.js';
import { simplifyPass } from './passes/simplify.js';
import { sinkExpandPass } from './passes/sink-expand.js';

/** The graph-level pipeline run on every imported model. */
export const GRAPH_PASSES: readonly GraphPass[] = [inferShapesPass, foldConstantsPass, simplifyPass, sinkExpandPass];

export function passById(id: string): GraphPass | undefined {
  return GRAPH_PASSES.find((p) => p.id === id);
}

// ---- the back end ---------------------------------------------------------------------------------

export interface BackendOptions {
  /** `f32` stores float16 values in f32 buffers; `f16` (default) keeps them f16. */
  dtype?: 'f32' | 'f16';
  /**
   * `single`: every op a single-core `call` (tiled row by row when an input is too large);
   * `distributed`: every value a grid of tiles over a P×P region, every op a distributed kernel;
   * `auto` (default): single, and distributed when the model does not fit single cores.
   */
  layout?: 'auto' | 'single' | 'distributed';
  /** GEMM algorithm of distributed MatMuls (`auto`: the cheapest by the exact cost). */
  gemm?: GemmChoice;
  /** Allreduce algorithm of distributed reductions and Softmax (`auto`: the cheapest). */
  allreduce?: AllreduceChoice;
  /** Run the `fuse` pass (default true). */
  fuse?: boolean;
  /** Distributed mode: the largest region side to consider (set by compile's retries). */
  maxSide?: number;
}

/** A core of the mesh, absolute coordinates. */
export interface Core {
  x: number;
  y: number;
}

/** Where the model went (place). */
export interface Placement {
  /** The used sub-region of the mesh (absolute): the program's one region. */
  region: Rect;
  /** Cores that hold at least one tensor, in snake order. */
  cores: Core[];
  /** Per-core SRAM budget the placement kept to (bytes). */
  budget: number;
  /** One line saying which sub-region was chosen and why. */
  note: string;
}

/** The route of one transfer (route). */
export interface TransferRoute {
  /** The redistribute op. */
  op: string;
  colour: number;
  src: Core;
  dests: Core[];
  /** Router hops to each destination (same order as dests). */
  hops: number[];
  /** Route rules (absolute rectangles), deduplicated program-wide by emit. */
  rules: RouteRule[];
}

/** One tensor held by one core (allocate-sram). */
export interface SramTensor {
  value: string;
  core: Core;
  mem: MemType;
  elements: number;
  /** 'const' (in the core's constant pack), 'io' (a graph input or output, in an I/O slot), 'temp' (in the arena). */
  kind: 'const' | 'io' | 'temp';
  /** Name of the buffer of the memory map that holds it. */
  buffer: string;
  /** Element offset in that buffer on this core. */
  offset: number;
  /** First and last step (op index) at which the tensor is live. */
  live: [number, number];
}

export interface SramBuffer {
  name: string;
  type: MemType;
  /** Elements. */
  length: number;
  /** Byte offset in SRAM (on every core where the buffer exists). */
  offset: number;
  /** The cores where the buffer exists (undefined: every core of the region). */
  cores?: Core[];
}

export interface SramPlan {
  /** The region's buffers (each on the cores it names, or on every core). */
  buffers: SramBuffer[];
  tensors: SramTensor[];
  /** Bytes the map reaches on the fullest core. */
  bytes: number;
}

/** One step of the schedule: one op, started on every core of the region at `start`. */
export interface ScheduleStep {
  op: string;
  kind: 'call' | 'transfer' | 'kernel';
  start: number;
  /** C_s: cycles until every core may start the next step. */
  cost: number;
  /** Finish offsets of the cores that do work in this step (others: 0). */
  finish: { core: Core; offset: number }[];
  /** A distributed kernel's finish offset on every core of its region, as an expression of x, y. */
  finishExpr?: Expr;
}

export interface Schedule {
  steps: ScheduleStep[];
  totalCycles: number;
}

/** What the back-end passes read and write: the mesh IR and the decisions annotating it. */
export interface BackendState {
  /** The graph after the graph passes (the program's source). */
  graph: Graph;
  target: Target;
  options: BackendOptions;
  mesh?: MeshGraph;
  /** Graph output name of each mesh value that stands for one (when they differ: a copy of an input or constant). */
  outputNames?: Map<string, string>;
  placement?: Placement;
  routes?: TransferRoute[];
  /** A distributed program's route rules (route-distributed.ts: the kernels' rules, compacted). */
  routeRules?: RouteRule[];
  sram?: SramPlan;
  schedule?: Schedule;
  program?: Program;
  /** Informational lines (which sub-region was used, ...). */
  notes: string[];
}

export interface BackendPass {
  /** `verb-noun` id used on the command line. */
  id: string;
  summary: string;
  run(state: BackendState): BackendState;
}

/** The back-end pipeline, after the graph passes. */
export const BACKEND_PASSES: readonly BackendPass[] = [
  fusePass, selectKernelsPass, placePass, insertRedistributionPass, routePass, allocateSramPass, schedulePass, emitPass,
];
