/**
 * `npm run bench -- emulator`: emulator throughput. A stencil-like program where every core runs
 * 10 iterations of ~10 instructions (compute, a send to its east and south neighbours, receives from
 * its west and north neighbours, combine, wait) — about 100 instructions per core — timed:
 *   - timing-only on the full wse2 rectangle (750×994 = 745,500 cores): wall time, simulated events
 *     per second, peak memory (target: under 60 s and 4 GB);
 *   - timing-only and functional on a 64×64 mesh.
 */
import { ProgramBuilder, X, Y, W, H, gt, lt, sub } from '../ir/program-builder.js';
import type { Program } from '../ir/program.js';
import { resolveTarget } from '../ir/target-presets.js';
import type { Target } from '../ir/target.js';
import { emulate } from '../runtime/emulate.js';
import { table } from './machine.js';

const N = 64; // elements per message
const ITERATIONS = 10;

/** Builds the stencil program for a target's whole mesh. */
export function stencilProgram(target: Target): Program {
  const b = new ProgramBuilder(`stencil-${target.width}x${target.height}`, target);
  const r = b.region('mesh', { x: 0, y: 0, width: target.width, height: target.height });
  const state = r.buffer('state', 'f32', N);
  const work = r.buffer('work', 'f32', N);
  const fromWest = r.buffer('from_west', 'f32', N);
  const fromNorth = r.buffer('from_north', 'f32', N);
  const hasEast = lt(X, sub(W, 1));
  const hasSouth = lt(Y, sub(H, 1));
  const hasWest = gt(X, 0);
  const hasNorth = gt(Y, 0);
  r.setLoc('init');
  r.fill(state, N, 1);
  r.setLoc('step');
  r.loop(ITERATIONS, (body) => {
    body.unary('scale', work, state, N, { scalar: 0.5 });
    body.send(work, N, 0, { guard: hasEast });
    body.send(work, N, 1, { guard: hasSouth });
    body.recv(fromWest, N, 0, { guard: hasWest });
    body.recv(fromNorth, N, 1, { guard: hasNorth });
    body.wait();
    body.binary('add', state, work, fromWest, 1, N, { guard: hasWest });
    body.binary('add', state, state, fromNorth, 1, N, { guard: hasNorth });
    body.unary('tanh', state, state, N);
    body.binary('max', state, state, work, 1, N);
  });
  r.route({ colour: 0, input: 'ramp', outputs: 'east', guard: hasEast });
  r.route({ colour: 0, input: 'west', outputs: 'ramp', guard: hasWest });
  r.route({ colour: 1, input: 'ramp', outputs: 'south', guard: hasSouth });
  r.route({ colour: 1, input: 'north', outputs: 'ramp', guard: hasNorth });
  return b.build();
}

interface Row {
  mesh: string;
  mode: 'timing' | 'functional';
  cores: number;
  instructionsPerCore: number;
  cycles: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  peakRssMiB: number;
}

function measure(target: Target, mode: 'timing' | 'functional'): Row {
  const program = stencilProgram(target);
  const t0 = performance.now();
  const r = emulate(program, { mode });
  const seconds = (performance.now() - t0) / 1000;
  const executed = r.locs.reduce((s, l) => s + l.count, 0);
  const cores = target.width * target.height;
  return {
    mesh: `${target.width}x${target.height}`,
    mode,
    cores,
    instructionsPerCore: Math.round(executed / cores),
    cycles: r.totalCycles,
    events: r.events,
    seconds,
    eventsPerSecond: r.events / seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

export function runEmulatorBench(): { text: string; json: unknown } {
  const rows = [
    measure(resolveTarget('mesh:64x64'), 'timing'),
    measure(resolveTarget('mesh:64x64'), 'functional'),
    measure(resolveTarget('wse2'), 'timing'),
  ];
  const text = [
    `program: ${ITERATIONS} iterations of {scale, send east, send south, recv west, recv north, wait, add, add, tanh, max} on ${N}-float messages; target wse2 figures (mesh:64x64 = WSE-2 cores on a 64×64 mesh)`,
    table(
      ['mesh', 'mode', 'cores', 'instr/core', 'cycles', 'events', 'wall s', 'events/s', 'peak RSS MiB'],
      rows.map((r) => [r.mesh, r.mode, r.cores, r.instructionsPerCore, r.cycles, r.events, r.seconds.toFixed(2), Math.round(r.eventsPerSecond), r.peakRssMiB.toFixed(0)]),
    ),
    'targets: full wse2 timing-only under 60 s and 4096 MiB (peak RSS is of the whole process, cumulative)',
  ].join('\n');
  return { text, json: rows };
}
