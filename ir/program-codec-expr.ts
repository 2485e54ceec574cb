/**
 * Expressions on the wire: an Expr tree ↔ a list of sint64 codes in reverse Polish notation
 * (program.proto, "Conventions"). A code c is the literal c/2 when c is even, otherwise the token
 * (c−1)/2 of TOKENS: variables, then binary operators, then select. Small literals and every token
 * take one byte on the wire, and a shallow expression costs a few bytes.
 *
 * Decoding is where untrusted data meets the tree, so it checks everything the tree relies on:
 * literals are safe integers, tokens are known, the stack never underflows and ends with exactly
 * one value, and the tree is at most MAX_EXPR_DEPTH deep (so recursive walkers cannot overflow).
 */
import { diag } from './diagnostics.js';
import type { Expr, ExprOp, ExprVar } from './program.js';

export const EXPR_VARS: readonly ExprVar[] = ['x', 'y', 'w', 'h', 'i0', 'i1', 'i2', 'i3'];
export const EXPR_OPS: readonly ExprOp[] = ['add', 'sub', 'mul', 'div', 'mod', 'min', 'max', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or'];
const SELECT_TOKEN = EXPR_VARS.length + EXPR_OPS.length;
const TOKEN_COUNT = SELECT_TOKEN + 1;

/** Deepest expression tree accepted (a left-deep sum of 256 terms is fine; recursion stays shallow). */
export const MAX_EXPR_DEPTH = 256;
/** Most codes in one expression. */
export const MAX_EXPR_CODES = 65536;

/** A protobufjs 64-bit integer: a Long (low/high signed 32-bit halves) or, without long.js, a number. */
export type Int64Like = number | { low: number; high: number };

const varToken = new Map<ExprVar, number>(EXPR_VARS.map((v, i) => [v, i]));
const opToken = new Map<ExprOp, number>(EXPR_OPS.map((o, i) => [o, EXPR_VARS.length + i]));

/**
 * The codes of an expression (post-order). The caller has validated the tree (safe-integer literals,
 * known variables and operators, bounded depth): see program-codec-validate.ts.
 */
export function exprToCodes(e: Expr, out: number[] = []): number[] {
  if (typeof e === 'number') {
    // 2·n is exact for every safe integer n (|2n| < 2^54 is an even double).
    out.push(e * 2);
  } else if ('v' in e) {
    out.push(2 * (varToken.get(e.v) as number) + 1);
  } else if (e.op === 'select') {
    exprToCodes(e.c, out);
    exprToCodes(e.a, out);
    exprToCodes(e.b, out);
    out.push(2 * SELECT_TOKEN + 1);
  } else {
    exprToCodes(e.a, out);
    exprToCodes(e.b, out);
    out.push(2 * (opToken.get(e.op) as number) + 1);
  }
  return out;
}

/**
 * Splits a code into (odd?, c >> 1) without losing precision: the halved value must be a safe
 * integer. Returns undefined for codes whose half is not.
 */
function splitCode(c: Int64Like): { odd: boolean; half: number } | undefined {
  if (typeof c === 'number') {
    if (!Number.isSafeInteger(c)) return undefined;
    const odd = Math.abs(c % 2) === 1;
    return { odd, half: Math.floor(c / 2) };
  }
  // Arithmetic shift right by one of the 64-bit value (high:low).
  const low = ((c.low >>> 1) | (c.high << 31)) >>> 0;
  const high = c.high >> 1;
  if (high < -0x200000 || high > 0x1fffff) return undefined;
  const half = high * 0x100000000 + low;
  if (!Number.isSafeInteger(half)) return undefined;
  return { odd: (c.low & 1) === 1, half };
}

/**
 * Rebuilds an expression from its codes. An empty list gives undefined (absent). `where` names the
 * field and `source` the file for the diagnostic.
 */
export function codesToExpr(codes: readonly Int64Like[], where: string, source?: string): Expr | undefined {
  if (codes.length === 0) return undefined;
  const bad = (why: string) =>
    diag('W5012', `malformed expression in ${where}: ${why}`, source ? `${source}: ${where}` : where, 'the program file is corrupt; recompile it');
  if (codes.length > MAX_EXPR_CODES) throw bad(`${codes.length} codes (at most ${MAX_EXPR_CODES})`);
  const stack: Expr[] = [];
  const depth: number[] = [];
  const pop = (): [Expr, number] => {
    const e = stack.pop();
    const d = depth.pop();
    if (e === undefined || d === undefined) throw bad('an operator has too few operands');
    return [e, d];
  };
  for (const code of codes) {
    const s = splitCode(code);
    if (!s) throw bad('a literal is not a safe integer');
    if (!s.odd) {
      stack.push(s.half);
      depth.push(1);
      continue;
    }
    const t = s.half;
    if (t < 0 || t >= TOKEN_COUNT) throw bad(`unknown token ${t}`);
    let e: Expr;
    let d: number;
    if (t < EXPR_VARS.length) {
      e = { v: EXPR_VARS[t] };
      d = 1;
    } else if (t === SELECT_TOKEN) {
      const [b, db] = pop();
      const [a, da] = pop();
      const [c, dc] = pop();
      e = { op: 'select', c, a, b };
      d = 1 + Math.max(da, db, dc);
    } else {
      const [b, db] = pop();
      const [a, da] = pop();
      e = { op: EXPR_OPS[t - EXPR_VARS.length], a, b };
      d = 1 + Math.max(da, db);
    }
    if (d > MAX_EXPR_DEPTH) throw bad(`nested deeper than ${MAX_EXPR_DEPTH}`);
    stack.push(e);
    depth.push(d);
  }
  if (stack.length !== 1) throw bad(`${stack.length} values left on the stack (expected 1)`);
  return stack[0];
}
