import { ProgramBuilder } from './ir/program-builder.js';
import { resolveTarget } from './ir/target-presets.js';
import { loadProgram } from './runtime/emulate.js';
import { Executor } from './runtime/executor.js';
import { emitAllreduce, type AllreduceShape } from './compiler/kernels/allreduce.js';
import type { Target } from './ir/target.js';

function run(t: Target, w: number, h: number, s: AllreduceShape) {
  const b = new ProgramBuilder('ar', t);
  const r = b.region('r', { x: 1, y: 1, width: w, height: h });
  const src = r.buffer('src', s.type, s.n), dst = r.buffer('dst', s.type, s.n);
  const e = emitAllreduce({ target: t, region: r, width: w, height: h, colours: { colours: [3, 1, 4, 9, 5, 6, 7, 8, 2, 10, 11, 12, 13, 14, 15, 16, 17] }, loc: 'ar' }, { ...s, src, dst });
  for (const ru of e.routes) r.route(ru);
  const p = b.build();
  const lp = loadProgram(p);
  const ex = new Executor(lp, { functional: false, bucketCycles: 256, maxEvents: 1e9 });
  ex.run();
  let bad = 0, first = '', tot = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const c = (y + 1) * t.width + x + 1;
    const pos = s.axis === 'x' ? x : y;
    const m = ex.cs.finish[c];
    tot = Math.max(tot, m);
    if (m !== e.cost.finish[pos]) { bad++; if (!first) first = `pos ${pos}: measured ${m} predicted ${e.cost.finish[pos]}`; }
  }
  return { predicted: e.cycles, measured: tot, bad, first };
}
function tgt(q: number, over: Partial<{ issue: number; comm: number; loop: number; ramp: number; hop: number; beta: number; bits: number }> = {}) {
  const t = resolveTarget('mesh:80x80');
  t.overhead = { issue: over.issue ?? 1, comm: over.comm ?? 3, loop: over.loop ?? 2 };
  t.link = { ...t.link, rampLatency: over.ramp ?? 2, hopLatency: over.hop ?? 3, bitsPerCycle: over.bits ?? 32 };
  t.relayCycles = over.beta ?? 5;
  t.router = { colours: 24, queueWords: q };
  return t;
}
const targets: [string, Target][] = [['q0', tgt(0)], ['q4', tgt(4)], ['q8', tgt(8, { ramp: 0, hop: 1, beta: 0, issue: 0, comm: 0, loop: 0 })],
  ['q3w2', tgt(3, { bits: 64, beta: 30, hop: 2 })], ['wse', resolveTarget('mesh:80x80')]];
let runs = 0, fails = 0;
for (const [tn, t] of targets) for (const alg of ['chain', 'ktree', 'ring'] as const) for (const L of [2, 4, 6, 9, 16, 25, 37, 50]) for (const n of [1, 3, 8, 9, 24, 33]) for (const type of ['f32', 'f16'] as const) {
  const ks = alg === 'ktree' ? [undefined, { k: 1 }, { k: 3 }, { k: 2, groups: Math.max(1, L >> 1) }, { k: 4 }, { k: 2, groups: 2 }] : [undefined];
  for (const kt of ks) for (const axis of ['x', 'y'] as const) {
    if (alg === 'ring' && L > 25 && tn !== 'wse') continue;
    const w = axis === 'x' ? L : 3, h = axis === 'x' ? 2 : L;
    const s: AllreduceShape = { algorithm: alg, axis, fn: 'max', n, type, ktree: kt, broadcast: (n % 2 === 0) };
    runs++;
    try {
      const r = run(t, w, h, s);
      if (r.bad || r.predicted !== r.measured) { fails++; if (fails < 30) console.log(tn, alg, L, n, type, axis, JSON.stringify(kt), s.broadcast, JSON.stringify(r)); }
    } catch (e) { fails++; if (fails < 30) console.log(tn, alg, L, n, type, axis, JSON.stringify(kt), String(e).slice(0, 200)); }
  }
}
console.log('runs', runs, 'fails', fails);
