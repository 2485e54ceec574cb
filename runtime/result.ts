/**
 * What an emulator run returns: total time, the per-region / per-op / per-link statistics the report
 * prints, the prediction check, outputs in functional mode, and (when asked for) the trace samples.
 * The executor fills it; report.ts formats it; trace.ts turns its samples into Perfetto JSON.
 */

export type RunMode = 'functional' | 'timing';

export interface CoreRef {
  x: number;
  y: number;
}

export interface RegionStats {
  name: string;
  /** Cores in the region. */
  cores: number;
  /** Cycle at which the region's last core finished. */
  finishCycle: number;
  /** Core-cycles spent in compute instructions (sum over the region's cores). */
  computeCycles: number;
  /** Core-cycles spent issuing transfers or blocked in `wait` with transfers in flight. */
  commCycles: number;
  /** Core-cycles neither computing nor communicating, up to the program's end. */
  idleCycles: number;
}

export interface LocStats {
  /** IR location (op name) of the instructions. */
  loc: string;
  /** Core-cycles spent in instructions with this location. */
  cycles: number;
  /** Instruction executions (over all cores and iterations). */
  count: number;
}

export interface LinkStats {
  /** Words × hops moved over router-to-router links. */
  wordHops: number;
  /** Busy cycles summed over all links / (links × total cycles). */
  utilization: number;
  /** The busiest link direction and its busy fraction. */
  hottest?: { x: number; y: number; dir: 'north' | 'south' | 'east' | 'west'; utilization: number };
  /** Streams started. */
  streams: number;
}

export interface SramStats {
  /** Largest high-water mark of any core, bytes. */
  maxBytes: number;
  maxCore?: CoreRef;
  capacityBytes: number;
  /** Cores by high-water mark: counts per bucket of 10% of capacity (index 0: 0–10%, ..., 9: 90–100%). */
  histogram: number[];
}

export interface EnergyStats {
  joules: number;
  computeJoules: number;
  idleJoules: number;
  fabricJoules: number;
}

export interface Divergence {
  instr: number;
  loc: string;
  core: CoreRef;
  /** Loop counters at the divergence, outermost first. */
  iteration: number[];
  predicted: number;
  measured: number;
}

export interface PredictionCheck {
  /** Instruction executions compared with a prediction. */
  checked: number;
  /** True when every checked start and the total matched. */
  matched: boolean;
  predictedTotal?: number;
  firstDivergence?: Divergence;
}

/** One instruction execution on a sampled core, for traces. */
export interface TraceSpan {
  core: CoreRef;
  region: number;
  instr: number;
  loc: string;
  op: string;
  start: number;
  end: number;
}

/** Words crossing router-to-router links in one time bucket, for trace counters. */
export interface LinkLoadSample {
  cycle: number;
  words: number;
}

export interface TraceData {
  sampledCores: CoreRef[];
  spans: TraceSpan[];
  bucketCycles: number;
  linkLoad: LinkLoadSample[];
}

export interface OutputTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface RunResult {
  program: string;
  target: string;
  mode: RunMode;
  totalCycles: number;
  seconds: number;
  /** Host I/O time, reported apart from the mesh cycles. */
  hostIo: { inputBytes: number; outputBytes: number; seconds: number };
  regions: RegionStats[];
  locs: LocStats[];
  /** Fractions of all core-cycles of the used cores (sum to 1). */
  share: { compute: number; communication: number; idle: number };
  /** Mean fraction of the run the used cores were busy (compute + communication). */
  coreUtilization: number;
  links: LinkStats;
  sram: SramStats;
  energy: EnergyStats;
  prediction: PredictionCheck;
  /** Simulated events processed. */
  events: number;
  outputs?: OutputTensor[];
  trace?: TraceData;
}
