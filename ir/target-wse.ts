/**
 * The figures of the Cerebras WSE-2 and WSE-3 presets, each with its source. Sources are the ones
 * /work/shared/HARDWARE.md names ("Derived" marks arithmetic on cited figures). Figures that are not
 * public are parameters with a documented default: the comment says so and why the value was chosen,
 * so that a user who knows better can override them (`wafer targets`, docs/targets.md). Nothing here
 * is a hidden constant: the emulator and the cost model read only these fields.
 *
 * target-presets.ts turns these into `Target` values (`wse2`, `wse3`, `mesh:WxH`); this file holds
 * data only.
 */
import type { Target } from './target.js';

/**
 * Defaults shared by the presets for figures no public source gives. One place, so the WSE-2 and
 * WSE-3 presets (and every mesh:WxH) agree on them and docs/targets.md can list them once.
 */
export const UNKNOWN_DEFAULTS = {
  /**
   * Ramp (core ↔ own router) latency, cycles each way. Not published. WaferLLM's timers correct each
   * core by px+py cycles, i.e. the distance-dependent part is ~1 cycle per hop and the ramp part is a
   * constant they do not need; the ramp is one more router port like N/S/E/W, so we give it the
   * same 1 cycle as a hop.
   */
  rampLatency: 1,
  /**
   * β: cycles a core spends relaying one message in software, beyond the words themselves. Not
   * published; PLMR only says α < β. A relay is a data-triggered task activation plus setting up an
   * input and an output fabric descriptor: we count 2 × overhead.comm (8) for the two descriptors and
   * 8 for the task switch (wake-up, picking the task, saving/restoring its context), giving 16 —
   * an order of magnitude above α = 1, as PLMR's L property has it.
   */
  relayCycles: 16,
  /**
   * Words of buffering per colour at a router input before back-pressure. Not published (the routers
   * hold "a few" wavelets per colour). 8 words lets single-word and short control messages (the
   * scalar allreduces of RMSNorm and softmax) go eagerly, while every data tile still needs a posted
   * receive — the conservative reading. Set 0 for a pure rendezvous machine.
   */
  queueWords: 8,
  /** Issue cost of any instruction, cycles: an in-order core issues one instruction per cycle. */
  issue: 1,
  /**
   * Extra set-up of a send/recv/forward, cycles. Not published. Setting up a fabric descriptor
   * writes about four fields (base address, length, stride, colour/queue), one per cycle: 4.
   */
  comm: 4,
  /** Cost of one loop iteration's branch, cycles: counter decrement plus a conditional branch: 2. */
  loop: 2,
  /**
   * Host ↔ wafer bandwidth, bytes/s. Not in HARDWARE.md. The CS-2 system's I/O is 12 × 100 Gb
   * Ethernet (vendor datasheet) = 1.2 Tb/s = 150 GB/s: an upper bound; real host transfers through
   * the SDK runtime are slower, so override it when calibrating against a measured copy.
   */
  hostBytesPerSecond: 150e9,
  /**
   * Fixed latency of one host transfer, seconds. Not published. An Ethernet round trip through the
   * host software stack is microseconds to tens of microseconds: 10 µs.
   */
  hostLatencySeconds: 10e-6,
  /**
   * Watts drawn by an idle core. Not published. Static (leakage) and clock-tree power are typically
   * a quarter to a half of active power in CMOS logic at these nodes; a third of the ~30 mW active
   * figure: 10 mW.
   */
  coreIdleWatts: 0.01,
  /**
   * Joules per 32-bit word per hop. Not published. Core pitch ≈ √(46,225 mm² wafer / 850,000 cores)
   * ≈ 0.23 mm (wafer area: vendor, not in HARDWARE.md); on-chip wires cost ~0.1 pJ/bit/mm, so
   * 32 bits × 0.23 mm ≈ 0.75 pJ of wire, plus about as much again for the router's buffers and
   * crossbar: 1.5e-12 J. An order-of-magnitude figure.
   */
  joulesPerWordHop: 1.5e-12,
} as const;

/** Cerebras WSE-2 (CS-2), as an SDK program sees it. */
export const WSE2: Target = {
  name: 'wse2',
  // Program rectangle an SDK program can use: 750 × 994 of the 757 × 996 fabric (the I/O halo takes
  // 7 columns and 2 rows). Source: Cerebras csl-examples benchmarks/single-tile-matvec; WaferLLM
  // compile scripts. (The marketing figure of 850,000 cores counts the whole wafer.)
  width: 750,
  height: 994,
  // 1.1 GHz: the rate WaferLLM converts cycles at ("maximum of 1.1 GHz"; WaferLLM paper and launch
  // scripts), so our times compare with its published ones. The SDK examples convert at 0.85 GHz;
  // override `clockHz` to 850e6 to compare with those.
  clockHz: 1.1e9,
  sram: {
    // 48 KB per core. Source: Cerebras SDK language appendix.
    bytesPerCore: 48 * 1024,
    // 8 banks of 6 KB. Source: SDK language appendix.
    banks: 8,
    // Per cycle two 32-bit reads and one 32-bit write. Source: SDK language appendix.
    readWordsPerCycle: 2,
    writeWordsPerCycle: 1,
  },
  flopsPerCycle: {
    // fp32 FMA 1 lane = 2 FLOP/cycle (derived from the SDK appendix SIMD table).
    float32: 2,
    // fp16 FMA 4 lanes = 8 FLOP/cycle. Source: SDK appendix SIMD table.
    float16: 8,
    // fp16 inputs, fp32 accumulation: 2 lanes = 4 FLOP/cycle. Source: SDK appendix SIMD table.
    float16Acc32: 4,
  },
  link: {
    // A 32-bit wavelet to a neighbour per cycle per direction. Source: SDK "computing with Cerebras".
    bitsPerCycle: 32,
    // α ≈ 1 cycle per hop: WaferLLM's timers correct each core by px+py cycles (WaferLLM launch
    // scripts). No official figure.
    hopLatency: 1,
    // Not published: documented default (UNKNOWN_DEFAULTS.rampLatency).
    rampLatency: UNKNOWN_DEFAULTS.rampLatency,
  },
  // β, not published: documented default (UNKNOWN_DEFAULTS.relayCycles).
  relayCycles: UNKNOWN_DEFAULTS.relayCycles,
  router: {
    // 24 routable colours (5-bit colour tag; SDK docs, PLMR "R"), of which the SDK runtime reserves 6
    // for host I/O (memcpy). We leave programs 24 − 6 = 18: wafer programs move their inputs and
    // outputs through the host, so the runtime's colours are in use. A vendor 25-point stencil
    // example uses 21, so the true figure for a program is between 18 and 21 depending on which of the
    // reserved IDs are routable; 18 is the number every program can count on. Override to 21 or 24 to
    // explore.
    colours: 18,
    // Not published: documented default (UNKNOWN_DEFAULTS.queueWords).
    queueWords: UNKNOWN_DEFAULTS.queueWords,
  },
  // Not published: documented defaults (UNKNOWN_DEFAULTS.issue / comm / loop).
  overhead: { issue: UNKNOWN_DEFAULTS.issue, comm: UNKNOWN_DEFAULTS.comm, loop: UNKNOWN_DEFAULTS.loop },
  // Not in HARDWARE.md: documented defaults (UNKNOWN_DEFAULTS.host*).
  host: { bytesPerSecond: UNKNOWN_DEFAULTS.hostBytesPerSecond, latencySeconds: UNKNOWN_DEFAULTS.hostLatencySeconds },
  power: {
    // About 30 mW per core (trade press; consistent with ~20 kW for a CS system:
    // 850,000 × 30 mW ≈ 25 kW).
    coreActiveWatts: 0.03,
    // Not published: documented defaults (UNKNOWN_DEFAULTS.coreIdleWatts / joulesPerWordHop).
    coreIdleWatts: UNKNOWN_DEFAULTS.coreIdleWatts,
    joulesPerWordHop: UNKNOWN_DEFAULTS.joulesPerWordHop,
  },
};

/** Cerebras WSE-3 (CS-3). Fewer figures are public; each assumption carried over from WSE-2 says so. */
export const WSE3: Target = {
  name: 'wse3',
  // Fabric 762 × 1172 (Cerebras csl-examples / WaferLLM scripts); usable ≈ 755 × 1170, derived by
  // removing the same I/O halo as WSE-2 (7 columns, 2 rows).
  width: 755,
  height: 1170,
  // Not published. Third-party code converts at 0.875 GHz (HARDWARE.md); we use that, the only
  // WSE-3-specific figure. Override `clockHz` to compare at another rate (e.g. WSE-2's 1.1e9).
  clockHz: 0.875e9,
  sram: {
    // 48 KB per core. Source: vendor (HARDWARE.md table).
    bytesPerCore: 48 * 1024,
    // Not published for WSE-3: WSE-2's 8 banks assumed.
    banks: 8,
    // Not published for WSE-3: WSE-2's two 32-bit reads and one write per cycle assumed.
    readWordsPerCycle: 2,
    writeWordsPerCycle: 1,
  },
  flopsPerCycle: {
    // Not published: WSE-2's 1 fp32 lane scaled by the doubled SIMD width of fp16 (4 → 8 lanes),
    // i.e. 2 lanes = 4 FLOP/cycle (derived, an assumption).
    float32: 4,
    // fp16 FMA 8 lanes = 16 FLOP/cycle. Source: SDK appendix SIMD table.
    float16: 16,
    // Not published: WSE-2's ratio (half the fp16 lanes) kept: 4 lanes = 8 FLOP/cycle (derived).
    float16Acc32: 8,
  },
  link: {
    // Same 32-bit wavelet per cycle as WSE-2. Source: SDK "computing with Cerebras" ("same").
    bitsPerCycle: 32,
    // No WSE-3 figure: WSE-2's ≈ 1 cycle assumed.
    hopLatency: 1,
    rampLatency: UNKNOWN_DEFAULTS.rampLatency,
  },
  relayCycles: UNKNOWN_DEFAULTS.relayCycles,
  router: {
    // WSE-3 binds colours to 8 input queues per core (SDK docs), which bounds how many colours a core
    // can receive on at once; the Target has no field for that (docs/targets.md). The routable colour
    // tag is not documented as changed, so WSE-2's 18 program colours are kept.
    colours: 18,
    queueWords: UNKNOWN_DEFAULTS.queueWords,
  },
  overhead: { issue: UNKNOWN_DEFAULTS.issue, comm: UNKNOWN_DEFAULTS.comm, loop: UNKNOWN_DEFAULTS.loop },
  host: { bytesPerSecond: UNKNOWN_DEFAULTS.hostBytesPerSecond, latencySeconds: UNKNOWN_DEFAULTS.hostLatencySeconds },
  power: {
    // "Same as WSE-2": about 30 mW per core (trade press).
    coreActiveWatts: 0.03,
    coreIdleWatts: UNKNOWN_DEFAULTS.coreIdleWatts,
    joulesPerWordHop: UNKNOWN_DEFAULTS.joulesPerWordHop,
  },
};
