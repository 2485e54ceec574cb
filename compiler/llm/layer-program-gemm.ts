/**
 * Prefill step emitters of a layer program (layer-program.ts): the distributed GEMMs and the
 * coordinate scopes that run a kernel on parts of the region.
 *
 *   meshgemm    emitGemm('meshgemm', data skew) on the whole region (a projection: B is a shapes-only
 *               weight constant) or, with a side s < P, on every s×s sub-square of the region
 *               (attention's P·V: x → x mod s, y → y mod s), `copies` times one after another.
 *   transposed  emitGemm('transposed') likewise (Q·Kᵀ on the sub-squares).
 *
 * `inSquares` / `inLines` emit a kernel written for an s×s (or line) region once in a scope; cores
 * outside every whole square (line) skip it and leave at the step's end; the routes come back in
 * the region's coordinates, guarded to the squares. `repeat` runs a kernel `copies` times, each copy
 * padded to its cycles (so the next starts on every core at once) with its scratch live only then.
 */
import { and, lt, mod, select, sub, substituteExpr, X, Y } from '../../ir/program-builder.js';
import type { Expr } from '../../ir/program.js';
import { emitGemm, gemmColoursNeeded } from '../kernels/gemm-program.js';
import { tiles, type GemmShape } from '../kernels/gemm.js';
import type { KernelEnv } from '../kernels/kernel.js';
import type { EmittedStep, StepContext } from './layer-program-kernels.js';
import type { LayerStep } from './plan-steps.js';

type Vars = Partial<Record<'x' | 'y' | 'w' | 'h', Expr>>;

function scopedEmit(ctx: StepContext, vars: Vars, inside: Expr, emit: () => EmittedStep): EmittedStep {
  const e = ctx.region.scoped({ vars, guard: inside }, emit);
  const finish = select(inside, typeof e.finish === 'number' ? e.finish : substituteExpr(e.finish, vars), 0);
  const routes = e.routes.map((r) => ({ ...r, guard: r.guard === undefined ? inside : and(inside, substituteExpr(r.guard, vars)) }));
  return { cycles: e.cycles, finish, routes };
}

/** A kernel for an s×s region on every whole s×s sub-square of the P×P region. */
export function inSquares(ctx: StepContext, s: number, emit: () => EmittedStep): EmittedStep {
  if (s === ctx.P) return emit();
  const n = s * Math.floor(ctx.P / s);
  return scopedEmit(ctx, { x: mod(X, s), y: mod(Y, s), w: s, h: s }, and(lt(X, n), lt(Y, n)), emit);
}

/** A kernel for lines of `line` cores along `axis` on every whole group of `line` cores of each row (column). */
export function inLines(ctx: StepContext, axis: 'x' | 'y', line: number, emit: () => EmittedStep): EmittedStep {
  if (line === ctx.P) return emit();
  const pos = axis === 'x' ? X : Y;
  const vars: Vars = axis === 'x' ? { x: mod(X, line), w: line } : { y: mod(Y, line), h: line };
  return scopedEmit(ctx, vars, lt(pos, line * Math.floor(ctx.P / line)), emit);
}

/** `copies` runs of a kernel one after another (each padded to its cycles, its scratch live only during it). */
export function repeat(ctx: StepContext, copies: number, one: () => EmittedStep): EmittedStep {
  if (copies <= 1) return one();
  let cycles = 0;
  let routes: EmittedStep['routes'] = [];
  for (let c = 0; c < copies; c++) {
    const mark = ctx.bufs.mark();
    const m0 = ctx.region.delay(0);
    const e = one();
    const m1 = ctx.region.delay(typeof e.finish === 'number' ? e.cycles - e.finish : sub(e.cycles, e.finish));
    ctx.bufs.release(mark, m0, m1);
    routes = e.routes;
    cycles += e.cycles;
  }
  return { cycles, finish: cycles, routes };
}

export function gemmKernelColours(step: LayerStep): number {
  const s = step.shape as unknown as GemmShape;
  return gemmColoursNeeded(step.kernel === 'transposed' ? 'transposed' : 'meshgemm', s.P, { skew: 'data' });
}

/** A MeshGEMM or transposed-GEMM step (side shape.P ≤ the region's, `copies` times). */
export function emitGemmStep(ctx: StepContext, step: LayerStep): EmittedStep {
  const sh = step.shape as unknown as GemmShape & { copies?: number };
  const s: GemmShape = { M: sh.M, K: sh.K, N: sh.N, P: sh.P, type: sh.type, ...(sh.acc ? { acc: sh.acc } : {}) };
  const kernel = step.kernel === 'transposed' ? 'transposed' : 'meshgemm';
  const { m, k, n } = tiles(s);
  const acc = s.acc ?? s.type;
  const copies = sh.copies ?? 1;
  const weight = kernel === 'meshgemm' && s.P === ctx.P && copies === 1;
  const A = ctx.bufs.scratch(`${step.name}.A`, s.type, m * k);
  const B = weight ? ctx.bufs.persistent(`${step.name}.W`, s.type, k * n) : ctx.bufs.scratch(`${step.name}.B`, s.type, k * n);
  const C = ctx.bufs.scratch(`${step.name}.C`, acc, m * n);
  if (weight) ctx.bufs.weight(`${step.name}.weight`, B, [s.K, s.N], [k, n], [Y, X], undefined);
  const one = () => inSquares(ctx, s.P, () => {
    const env: KernelEnv = { target: ctx.target, region: ctx.region, width: s.P, height: s.P, colours: { colours: ctx.colours }, loc: step.name,
      scratch: (name, type, length) => ctx.bufs.scratch(name, type, length) };
    const e = emitGemm(kernel, env, s, { A, B, C }, { skew: 'data' });
    return { cycles: e.cycles, finish: e.finish, routes: e.routes };
  });
  return repeat(ctx, copies, one);
}
