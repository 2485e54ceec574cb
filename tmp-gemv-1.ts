import { ProgramBuilder, X, Y } from './ir/program-builder.js';
import { resolveTarget } from './ir/target-presets.js';
import { loadProgram } from './runtime/emulate.js';
import { Executor } from './runtime/executor.js';
import { emitAllreduce, type AllreduceShape } from './compiler/kernels/allreduce.js';
import type { Target } from './ir/target.js';

function run(t: Target, w: number, h: number, s: AllreduceShape) {
  const b = new ProgramBuilder('ar', t);
  const r = b.region('r', { x: 0, y: 0, width: w, height: h });
  const src = r.buffer('src', s.type, s.n), dst = r.buffer('dst', s.type, s.n);
  const e = emitAllreduce({ target: t, region: r, width: w, height: h, colours: { colours: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] }, loc: 'ar' }, { ...s, src, dst });
  for (const ru of e.routes) r.route(ru);
  b.predictTotal(e.cycles);
  const p = b.build();
  const lp = loadProgram(p);
  const ex = new Executor(lp, { functional: false, bucketCycles: 256, maxEvents: 1e9 });
  ex.run();
  const L = s.axis === 'x' ? w : h;
  let bad = 0;
  let first = '';
  let tot = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const c = y * t.width + x;
    const pos = s.axis === 'x' ? x : y;
    const m = ex.cs.finish[c];
    tot = Math.max(tot, m);
    if (m !== e.cost.finish[pos]) { bad++; if (!first) first = `pos ${pos}: measured ${m} predicted ${e.cost.finish[pos]}`; }
  }
  return { L, predicted: e.cycles, measured: tot, bad, first };
}

const t = resolveTarget('mesh:64x64');
for (const alg of ['chain', 'ktree', 'ring'] as const) {
  for (const L of [1, 2, 3, 5, 8, 13, 20, 31]) {
    for (const n of [1, 7, 16, 17, 40]) {
      for (const type of ['f32', 'f16'] as const) {
        const r = run(t, L, 2, { algorithm: alg, axis: 'x', fn: 'sum', n, type });
        if (r.bad || r.predicted !== r.measured) console.log(alg, L, n, type, JSON.stringify(r));
      }
    }
  }
}
console.log('done');
