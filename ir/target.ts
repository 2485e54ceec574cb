/**
 * Target machines: a target is plain data describing a mesh of cores (PLMR model, HARDWARE.md). The
 * compiler's cost model and the emulator both read it; neither hides a machine figure in code.
 * Presets and JSON overrides live in target-presets.ts; this file holds the types and the figures
 * every tool derives from them.
 */

export interface Target {
  /** Preset name or a user label (`wse2`, `mesh:8x8`, `my-chip`). */
  name: string;
  /** Cores along x (columns) and y (rows) of the usable rectangle. */
  width: number;
  height: number;
  /** Core clock, Hz: converts cycles to seconds. */
  clockHz: number;
  sram: {
    /** Bytes of SRAM per core. */
    bytesPerCore: number;
    /** Number of banks (informational; the port counts below are what timing uses). */
    banks: number;
    /** 32-bit words the core can read from SRAM per cycle. */
    readWordsPerCycle: number;
    /** 32-bit words the core can write to SRAM per cycle. */
    writeWordsPerCycle: number;
  };
  /** Peak floating-point operations per cycle per core (an FMA counts 2). */
  flopsPerCycle: {
    float32: number;
    /** fp16 inputs and fp16 accumulation. */
    float16: number;
    /** fp16 inputs with fp32 accumulation. */
    float16Acc32: number;
  };
  link: {
    /** Bits a link moves per cycle per direction (one 32-bit word on the WSE). */
    bitsPerCycle: number;
    /** α: cycles for a word to cross one router-to-router hop along a configured route. */
    hopLatency: number;
    /** Cycles between a core and its own router (ramp), each way. */
    rampLatency: number;
  };
  /** β: cycles a core spends relaying one message in software (receive + re-send set-up), excluding the words. */
  relayCycles: number;
  router: {
    /** Routable colours (virtual channels) per router available to programs. */
    colours: number;
    /** Words of buffering per colour at a router input (back-pressure beyond this). */
    queueWords: number;
  };
  /** Fixed instruction costs in cycles (unknown on real hardware: documented defaults). */
  overhead: {
    /** Issue cost of any instruction. */
    issue: number;
    /** Extra set-up of a send or receive (descriptor set-up). */
    comm: number;
    /** Cost of one loop iteration's branch. */
    loop: number;
  };
  host: {
    /** Host ↔ wafer I/O bandwidth, bytes per second. */
    bytesPerSecond: number;
    /** Fixed latency of one host transfer, seconds. */
    latencySeconds: number;
  };
  power: {
    /** Watts drawn by a core while it computes. */
    coreActiveWatts: number;
    /** Watts drawn by an idle core. */
    coreIdleWatts: number;
    /** Joules per 32-bit word per hop moved on the fabric. */
    joulesPerWordHop: number;
  };
}

/** Seconds for a number of cycles on this target. */
export function cyclesToSeconds(t: Target, cycles: number): number {
  return cycles / t.clockHz;
}

/** Words moved per cycle by one link direction. */
export function wordsPerLinkCycle(t: Target): number {
  return t.link.bitsPerCycle / 32;
}

export function coreCount(t: Target): number {
  return t.width * t.height;
}
