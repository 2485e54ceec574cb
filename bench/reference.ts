/**
 * `npm run bench -- reference`: the reference evaluator's speed — float32 MatMul GFLOP/s (blocked
 * kernel) and the wall time of the ONNX 1.23 backend suite through import + passes + evaluation.
 */
import { resolve } from 'node:path';
import { findCases, runCase, summarize } from '../cli/conformance.js';
import { benchReferenceMatmul } from './reference-matmul.js';
import { table } from './machine.js';

export function runReferenceBench(): { text: string; json: unknown } {
  const mm = benchReferenceMatmul([128, 256, 512, 1024]);
  const suites = [
    { name: 'onnx-1.23 node', dir: resolve('../shared/corpus/onnx-backend-1.23/node') },
    { name: 'onnx-1.12 node', dir: '/usr/share/libonnx-testdata/data/node' },
  ];
  const conf = suites.map((s) => {
    const cases = findCases([s.dir]);
    const t0 = performance.now();
    const results = cases.map((c) => runCase(c));
    const seconds = (performance.now() - t0) / 1000;
    return { suite: s.name, cases: cases.length, seconds, ...summarize(results) };
  });
  const text = [
    'reference MatMul, float32, square N×N·N×N (best of runs)',
    table(['N', 'seconds', 'GFLOP/s'], mm.map((r) => [r.size, r.seconds.toFixed(4), r.gflops.toFixed(2)])),
    '',
    'conformance wall time, one thread (import + passes + evaluate + compare)',
    table(['suite', 'cases', 'seconds', 'passed', 'failed', 'unsupported'], conf.map((c) => [c.suite, c.cases, c.seconds.toFixed(1), c.passed, c.failed + c.rejected + c.crashed, c.unsupported])),
  ].join('\n');
  return { text, json: { matmul: mm, conformance: conf } };
}
