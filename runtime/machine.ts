/**
 * The machine model the emulator runs on, built from a Target (docs/runtime-model.md, "Cores, SRAM,
 * routers, links"): core ids, router ports, link ids and the figures the executor reads in its hot
 * loop, all as plain numbers so nothing per core or per link is an object.
 *
 * Core id = y·width + x. Router ports are numbered north 0, south 1, west 2, east 3, ramp 4. Every
 * router owns six link directions: its four outgoing router-to-router links (id = core·6 + port) and
 * the two directions of its ramp — core → router (core·6 + 4) and router → core (core·6 + 5). A link
 * moves `wordsPerCycle` 32-bit words per cycle; one stream occupies it at a time.
 */
import type { Port } from '../ir/program.js';
import type { Target } from '../ir/target.js';

export const NORTH = 0;
export const SOUTH = 1;
export const WEST = 2;
export const EAST = 3;
export const RAMP = 4;

export const PORT_NAMES: readonly Port[] = ['north', 'south', 'west', 'east', 'ramp'];
export const PORT_INDEX: Readonly<Record<Port, number>> = { north: NORTH, south: SOUTH, west: WEST, east: EAST, ramp: RAMP };

/** Link directions per router: four outgoing hops, ramp up (core → router), ramp down (router → core). */
export const LINKS_PER_ROUTER = 6;
export const RAMP_UP = 4;
export const RAMP_DOWN = 5;

/** x and y steps of a move through each router-to-router port. */
export const DX = [0, 0, -1, 1];
export const DY = [-1, 1, 0, 0];
/** The port a wavelet enters the next router through after leaving through port p. */
export const OPPOSITE = [SOUTH, NORTH, EAST, WEST];

export interface Machine {
  target: Target;
  width: number;
  height: number;
  cores: number;
  /** 32-bit words a link moves per cycle. */
  wordsPerCycle: number;
  /** α: cycles per router-to-router hop. */
  hop: number;
  /** Cycles of one ramp crossing. */
  ramp: number;
  /** β: software relay cycles of a forward. */
  relay: number;
  queueWords: number;
  issue: number;
  comm: number;
  loop: number;
  readWords: number;
  writeWords: number;
  /** Directed router-to-router links of the whole mesh. */
  meshLinks: number;
}

export function buildMachine(t: Target): Machine {
  const { width, height } = t;
  return {
    target: t,
    width,
    height,
    cores: width * height,
    wordsPerCycle: t.link.bitsPerCycle / 32,
    hop: t.link.hopLatency,
    ramp: t.link.rampLatency,
    relay: t.relayCycles,
    queueWords: t.router.queueWords,
    issue: t.overhead.issue,
    comm: t.overhead.comm,
    loop: t.overhead.loop,
    readWords: t.sram.readWordsPerCycle,
    writeWords: t.sram.writeWordsPerCycle,
    meshLinks: 2 * (width - 1) * height + 2 * width * (height - 1),
  };
}

/** Cycles a stream of n words occupies each link it crosses. */
export function streamCycles(m: Machine, words: number): number {
  return m.wordsPerCycle === 1 ? words : Math.ceil(words / m.wordsPerCycle);
}

export function coreName(m: { width: number }, core: number): string {
  return `core (${core % m.width},${Math.floor(core / m.width)})`;
}

/**
 * Checks the target figures the emulator divides by or sizes arrays from (a program file carries
 * its target, so these are untrusted). Returns the problems as field/value messages.
 */
export function targetProblems(t: Target): string[] {
  const out: string[] = [];
  const need = (name: string, v: unknown, positive: boolean, integer = false) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (positive ? v <= 0 : v < 0) || (integer && !Number.isInteger(v))) {
      out.push(`target.${name} is ${String(v)}; expected a finite ${positive ? 'positive' : 'non-negative'}${integer ? ' integer' : ' number'}`);
    }
  };
  need('width', t.width, true, true);
  need('height', t.height, true, true);
  need('clockHz', t.clockHz, true);
  need('sram.bytesPerCore', t.sram?.bytesPerCore, true, true);
  need('sram.readWordsPerCycle', t.sram?.readWordsPerCycle, true);
  need('sram.writeWordsPerCycle', t.sram?.writeWordsPerCycle, true);
  need('flopsPerCycle.float32', t.flopsPerCycle?.float32, true);
  need('flopsPerCycle.float16', t.flopsPerCycle?.float16, true);
  need('flopsPerCycle.float16Acc32', t.flopsPerCycle?.float16Acc32, true);
  need('link.bitsPerCycle', t.link?.bitsPerCycle, true);
  need('link.hopLatency', t.link?.hopLatency, false, true);
  need('link.rampLatency', t.link?.rampLatency, false, true);
  need('relayCycles', t.relayCycles, false, true);
  need('router.colours', t.router?.colours, false, true);
  need('router.queueWords', t.router?.queueWords, false, true);
  need('overhead.issue', t.overhead?.issue, false, true);
  need('overhead.comm', t.overhead?.comm, false, true);
  need('overhead.loop', t.overhead?.loop, false, true);
  need('host.bytesPerSecond', t.host?.bytesPerSecond, true);
  need('host.latencySeconds', t.host?.latencySeconds, false);
  need('power.coreActiveWatts', t.power?.coreActiveWatts, false);
  need('power.coreIdleWatts', t.power?.coreIdleWatts, false);
  need('power.joulesPerWordHop', t.power?.joulesPerWordHop, false);
  if (out.length === 0 && t.width * t.height > 2 ** 26) out.push(`target has ${t.width * t.height} cores; the emulator handles at most ${2 ** 26}`);
  return out;
}
