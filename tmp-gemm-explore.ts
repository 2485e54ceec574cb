import { ProgramBuilder, X, Y } from './ir/program-builder.js';
import { resolveTarget } from './ir/target-presets.js';
import { emitRingGemm, blockExpr } from './compiler/kernels/gemm-ring.js';
import { loadProgram } from './runtime/loader.js';
import { Executor } from './runtime/executor.js';
import type { Target } from './ir/target.js';

export function build(kind: 'cannon'|'meshgemm', P: number, b: number, type: 'f16'|'f32', t: Target, skew: 'tiling'|'data') {
  const pb = new ProgramBuilder('g', t);
  const r = pb.region('g', { x: 0, y: 0, width: P, height: P });
  const A = r.buffer('A', type, b*b), B = r.buffer('B', type, b*b), C = r.buffer('C', type, b*b);
  const k = emitRingGemm({ target: t, region: r, width: P, height: P, colours: { colours: [0,1,2,3,4,5,6,7,8,9,10,11] }, loc: 'gemm' }, kind,
    { M: P*b, K: P*b, N: P*b, P, type }, { A, B, C }, { skew }, () => ({ cycles: 0, finish: 0 }));
  for (const rt of k.routes) r.route({ colour: rt.colour, input: rt.input, outputs: rt.outputs, guard: rt.guard });
  const blk = skew === 'tiling' ? blockExpr(kind, P) : X;
  pb.input('A', type, [P*b, P*b], { buffer: A, tile: [b, b], at: [Y, blk] });
  pb.input('B', type, [P*b, P*b], { buffer: B, tile: [b, b], at: [skew === 'tiling' ? blk : Y, X] });
  pb.output('C', type, [P*b, P*b], { buffer: C, tile: [b, b], at: [Y, X] });
  return pb.build();
}
export function run(p: ReturnType<typeof build>) {
  const lp = loadProgram(p);
  const ex = new Executor(lp, { functional: false, bucketCycles: 256, maxEvents: 1e9, traceCores: lp.usedCores });
  ex.run();
  return { finish: Array.from(ex.cs.finish), spans: ex.spans, W: p.target.width };
}
const [kind, P, b, type] = [process.argv[2] as 'cannon', +process.argv[3], +process.argv[4], process.argv[5] as 'f16'];
const t = resolveTarget(`mesh:${P}x${P}`);
const res = run(build(kind, P, b, type, t, (process.argv[6] ?? 'tiling') as 'tiling'));
// wait-ends per core per step
const waits = new Map<number, number[]>();
for (const s of res.spans) if (s.op === 'wait') { const c = s.core.y*P+s.core.x; (waits.get(c) ?? waits.set(c, []).get(c)!).push(s.end); }
const nsteps = waits.get(0)!.length;
for (let s = 0; s < nsteps; s++) {
  console.log(`step ${s}`);
  for (let y = 0; y < P; y++) console.log(Array.from({length: P}, (_, x) => String(waits.get(y*P+x)![s]).padStart(6)).join(''));
}
console.log('finish');
for (let y = 0; y < P; y++) console.log(res.finish.slice(y*P, y*P+P).map(v => String(v).padStart(6)).join(''));
