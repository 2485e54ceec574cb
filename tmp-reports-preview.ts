import { formatReport, reportJson } from './runtime/report.js';
import { traceJson } from './runtime/trace.js';
import type { RunResult } from './runtime/result.js';
const r: RunResult = {
  program: 'shift', target: 'mesh:4x2', mode: 'functional',
  totalCycles: 1234, seconds: 1234 / 1.1e9,
  hostIo: { inputBytes: 512, outputBytes: 256, seconds: 2.5e-6 },
  regions: [{ name: 'main', cores: 8, finishCycle: 1234, computeCycles: 6000, commCycles: 2000, idleCycles: 1872 }],
  locs: Array.from({length: 23}, (_, i) => ({ loc: `op${i}`, cycles: 1000 - i * 10 - (i%3), count: i + 1 })),
  share: { compute: 0.6077, communication: 0.2026, idle: 0.1897 },
  coreUtilization: 0.8103,
  links: { wordHops: 4096, utilization: 0.0123, hottest: { x: 1, y: 0, dir: 'east', utilization: 0.4567 }, streams: 16 },
  sram: { maxBytes: 12288, maxCore: { x: 3, y: 1 }, capacityBytes: 49152, histogram: [0, 2, 6, 0, 0, 0, 0, 0, 0, 0] },
  energy: { joules: 3.1e-7, computeJoules: 2.5e-7, idleJoules: 5e-8, fabricJoules: 1e-8 },
  prediction: { checked: 64, matched: false, predictedTotal: 1230, firstDivergence: { instr: 7, loc: 'matmul_0', core: { x: 2, y: 1 }, iteration: [3, 0], predicted: 812, measured: 816 } },
  events: 5678,
  outputs: [{ name: 'y', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }],
  trace: { sampledCores: [{x:1,y:0},{x:0,y:0}], spans: [
    { core: {x:0,y:0}, region: 0, instr: 0, loc: 'a', op: 'matmul', start: 0, end: 10 },
    { core: {x:0,y:0}, region: 0, instr: 1, loc: 'b', op: 'send', start: 10, end: 30 },
    { core: {x:0,y:0}, region: 0, instr: 2, loc: 'c', op: 'unary', start: 12, end: 14 },
    { core: {x:0,y:0}, region: 0, instr: 3, loc: 'd', op: 'wait', start: 20, end: 40 },
  ], bucketCycles: 100, linkLoad: [{cycle: 0, words: 40}, {cycle: 100, words: 12}] },
};
console.log(formatReport(r));
console.log(JSON.stringify(reportJson(r), null, 1).slice(0, 600));
console.log(traceJson(r, 'shift'));
