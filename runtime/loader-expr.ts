/**
 * Compiles program expressions (ir/program.ts Expr) once per kernel into closures over a shared
 * environment array, so the executor evaluates an operand per core without walking the Expr tree.
 * Semantics are exactly evalExpr's (floored div, Euclidean mod, 0/1 comparisons, div/mod by 0 → 0).
 *
 * The environment is a Float64Array: [x, y, w, h, i0, i1, i2, i3]. Each compiled expression also
 * reports what it depends on, so the loader can evaluate a loop-invariant or core-invariant
 * expression once instead of per core or per iteration.
 */
import type { Expr, ExprVar } from '../ir/program.js';

export type Env = Float64Array;
export type ExprFn = (env: Env) => number;

export const ENV_SIZE = 8;
export const VAR_SLOT: Readonly<Record<ExprVar, number>> = { x: 0, y: 1, w: 2, h: 3, i0: 4, i1: 5, i2: 6, i3: 7 };

export interface Compiled {
  fn: ExprFn;
  /** Set when the expression has no variables. */
  constant?: number;
  /** Depends on x or y (the core's position). */
  usesCore: boolean;
  /** Bit k set: depends on loop counter ik. */
  loopMask: number;
}

/** Checks an Expr is well-formed (untrusted program data); returns a problem or undefined. */
export function exprProblem(e: unknown, depth = 0): string | undefined {
  if (depth > 64) return 'expression nested deeper than 64';
  if (typeof e === 'number') return Number.isSafeInteger(e) ? undefined : `constant ${e} is not an integer`;
  if (typeof e !== 'object' || e === null) return 'expression is not a number or object';
  const o = e as Record<string, unknown>;
  if ('v' in o) return typeof o.v === 'string' && o.v in VAR_SLOT ? undefined : `unknown variable ${String(o.v)}`;
  if (o.op === 'select') return exprProblem(o.c, depth + 1) ?? exprProblem(o.a, depth + 1) ?? exprProblem(o.b, depth + 1);
  if (typeof o.op !== 'string' || !BINOPS.has(o.op)) return `unknown operator ${String(o.op)}`;
  return exprProblem(o.a, depth + 1) ?? exprProblem(o.b, depth + 1);
}

const BINOPS = new Set(['add', 'sub', 'mul', 'div', 'mod', 'min', 'max', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or']);

function konst(c: number): Compiled {
  return { fn: () => c, constant: c, usesCore: false, loopMask: 0 };
}

function binop(op: string, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return b === 0 ? 0 : Math.floor(a / b);
    case 'mod': { if (b === 0) return 0; const r = a % b; return r < 0 ? r + Math.abs(b) : r; }
    case 'min': return a < b ? a : b;
    case 'max': return a > b ? a : b;
    case 'eq': return a === b ? 1 : 0;
    case 'ne': return a !== b ? 1 : 0;
    case 'lt': return a < b ? 1 : 0;
    case 'le': return a <= b ? 1 : 0;
    case 'gt': return a > b ? 1 : 0;
    case 'ge': return a >= b ? 1 : 0;
    case 'and': return a !== 0 && b !== 0 ? 1 : 0;
    default: return a !== 0 || b !== 0 ? 1 : 0;
  }
}

/** Closure for `op` over two sub-closures; the common arithmetic ops get their own closure shape. */
function binFn(op: string, fa: ExprFn, fb: ExprFn): ExprFn {
  switch (op) {
    case 'add': return (e) => fa(e) + fb(e);
    case 'sub': return (e) => fa(e) - fb(e);
    case 'mul': return (e) => fa(e) * fb(e);
    case 'div': return (e) => { const b = fb(e); return b === 0 ? 0 : Math.floor(fa(e) / b); };
    case 'mod': return (e) => { const b = fb(e); if (b === 0) return 0; const r = fa(e) % b; return r < 0 ? r + Math.abs(b) : r; };
    case 'eq': return (e) => (fa(e) === fb(e) ? 1 : 0);
    case 'lt': return (e) => (fa(e) < fb(e) ? 1 : 0);
    default: return (e) => binop(op, fa(e), fb(e));
  }
}

/** Compiles a well-formed expression (check with exprProblem first when it is untrusted). */
export function compileExpr(e: Expr): Compiled {
  if (typeof e === 'number') return konst(e);
  if ('v' in e) {
    const slot = VAR_SLOT[e.v];
    return { fn: (env) => env[slot], usesCore: slot < 2, loopMask: slot >= 4 ? 1 << (slot - 4) : 0 };
  }
  if (e.op === 'select') {
    const c = compileExpr(e.c);
    const a = compileExpr(e.a);
    const b = compileExpr(e.b);
    if (c.constant !== undefined) return c.constant !== 0 ? a : b;
    const fc = c.fn, fa = a.fn, fb = b.fn;
    return {
      fn: (env) => (fc(env) !== 0 ? fa(env) : fb(env)),
      usesCore: c.usesCore || a.usesCore || b.usesCore,
      loopMask: c.loopMask | a.loopMask | b.loopMask,
    };
  }
  const a = compileExpr(e.a);
  const b = compileExpr(e.b);
  if (a.constant !== undefined && b.constant !== undefined) return konst(binop(e.op, a.constant, b.constant));
  let fn: ExprFn;
  if (e.op === 'add' && b.constant !== undefined) { const fa = a.fn, k = b.constant; fn = (env) => fa(env) + k; }
  else if (e.op === 'mul' && b.constant !== undefined) { const fa = a.fn, k = b.constant; fn = (env) => fa(env) * k; }
  else fn = binFn(e.op, a.fn, b.fn);
  return { fn, usesCore: a.usesCore || b.usesCore, loopMask: a.loopMask | b.loopMask };
}

/** Highest loop counter an expression reads (−1 if none). */
export function maxLoopVar(c: Compiled): number {
  let k = -1;
  for (let i = 0; i < 4; i++) if (c.loopMask & (1 << i)) k = i;
  return k;
}
