/**
 * Loader, kernel part: checks one region's SPMD kernel (instruction structure W5012; the memory map,
 * W5004 / W5005, in loader-memory.ts) and compiles it once into a flat code array the executor
 * interprets per core.
 *
 * Flat code: every instruction in pre-order; a loop is followed by its body and then an ENDLOOP
 * marker (not an instruction: it costs nothing itself, the loop's per-iteration overhead is charged
 * when the next iteration begins). Every expression is compiled to a closure over the environment
 * [x, y, w, h, i0..i3] (loader-expr.ts). Buffers keep their program indices; per-core bindings
 * (after `swap`) live in the executor.
 */
import type { BufferDecl, Expr, Instr, Kernel, MemType, Operand, Region } from '../ir/program.js';
import { DEFAULT_OPSET, MEM_TYPE_BYTES } from '../ir/program.js';
import { UNARY_FN_COST, lanesFor as lanesOf } from '../ir/program-cost.js';
import type { Target } from '../ir/target.js';
import type { Diagnostic } from '../ir/diagnostics.js';
import { compileCall, type CompiledCall } from './loader-call.js';
import { compileExpr, exprProblem, maxLoopVar, type Compiled, type ExprFn } from './loader-expr.js';
import { checkBuffers } from './loader-memory.js';
import type { Presence } from './loader-presence.js';

export const OP_MATMUL = 0;
export const OP_UNARY = 1;
export const OP_BINARY = 2;
export const OP_REDUCE = 3;
export const OP_FILL = 4;
export const OP_SEND = 5;
export const OP_RECV = 6;
export const OP_FORWARD = 7;
export const OP_WAIT = 8;
export const OP_LOOP = 9;
export const OP_SWAP = 10;
export const OP_ENDLOOP = 11;
export const OP_CALL = 12;
export const OP_DELAY = 13;

const OPCODES: Record<string, number> = {
  matmul: OP_MATMUL, unary: OP_UNARY, binary: OP_BINARY, reduce: OP_REDUCE, fill: OP_FILL, send: OP_SEND,
  recv: OP_RECV, forward: OP_FORWARD, wait: OP_WAIT, loop: OP_LOOP, swap: OP_SWAP, call: OP_CALL, delay: OP_DELAY,
};

export const UNARY_FNS = ['copy', 'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'recip', 'relu', 'sigmoid', 'tanh', 'gelu', 'silu', 'square', 'scale', 'add_scalar'] as const;
/** c_fn of docs/runtime-model.md per unary function, in UNARY_FNS order. */
export const UNARY_COST = UNARY_FNS.map((f) => UNARY_FN_COST[f]);
export const BINARY_FNS = ['add', 'sub', 'mul', 'div', 'max', 'min'] as const;
export const BCASTS = ['none', 'row', 'col', 'scalar'] as const;
export const COMBINES = ['none', 'add', 'max'] as const;
export const MEM_TYPES: readonly MemType[] = ['f32', 'f16', 'i32'];

const never: ExprFn = () => 0;

/** One compiled instruction; every field exists on every instance (one hidden class for V8). */
export class CInstr {
  op = 0;
  id = 0;
  /** Dense index of the instruction over the whole program (statistics arrays are indexed by it). */
  ix = 0;
  loc = '';
  opName = '';
  /** Enclosing loops. */
  depth = 0;
  guard: ExprFn | null = null;
  /** Predicted start cycle (program.predicted), if any. */
  predict: ExprFn | null = null;
  /** Index of the next instruction when this one is skipped (for a loop: past its ENDLOOP). */
  skipTo = 0;
  /** ENDLOOP: index of its loop's first body instruction. */
  bodyStart = 0;
  /** ENDLOOP: index of its loop instruction. */
  loopAt = 0;
  count: ExprFn = never;
  bufA = -1;
  bufB = -1;
  bufC = -1;
  offA: ExprFn = never;
  offB: ExprFn = never;
  offC: ExprFn = never;
  s1: ExprFn = never;
  s2: ExprFn = never;
  s3: ExprFn = never;
  fn = 0;
  combine = 0;
  bcast = 0;
  /** reduce: 1 when reducing over columns (one output per row). */
  axisCols = 0;
  accumulate = false;
  transB = false;
  scalar = 0;
  colour: ExprFn = never;
  colour2: ExprFn = never;
  /** FMA lanes per cycle for this instruction's operand types. */
  lanes = 1;
  /** Element type carried by a send / recv / forward. */
  memType: MemType = 'f32';
  /** call: the compiled op and tensors. */
  call: CompiledCall | null = null;
}

export interface CompiledKernel {
  code: CInstr[];
  buffers: BufferDecl[];
  /** Element size of each buffer in bytes. */
  bufBytes: number[];
  /** Length in elements of each buffer. */
  bufLen: Int32Array;
  /** Whether any swap appears (cores then need their own buffer bindings). */
  hasSwap: boolean;
  /** Max over cores and instruction ids of the bytes of the (present) buffers live there. */
  liveHighWater: number;
  /** Which buffers exist on which core (BufferDecl.guard); null when every buffer exists on every core. */
  presence: Presence | null;
  /** With presence: the SRAM high-water of each group of cores. */
  groupHighWater: Float64Array | null;
  /** Every send/forward (sources) and recv/forward (sinks) with their enclosing loops, for route checks. */
  transfers: TransferSite[];
}

export interface TransferSite {
  instr: CInstr;
  /** The loops enclosing it, outermost first. */
  loops: CInstr[];
  /** send colour, or forward outColour. */
  sendColour?: Compiled;
  /** recv colour, or forward inColour. */
  recvColour?: Compiled;
  guard?: Compiled;
  loopGuards: (Compiled | undefined)[];
  loopCounts: Compiled[];
}

const where = (r: Region, ins?: { id: number; loc: string }) =>
  ins ? `region ${r.name}, instruction #${ins.id} (${ins.loc})` : `region ${r.name}`;

/** Checks and compiles a region's kernel; problems go to `out` (compiled code is then unusable). */
export function compileKernel(
  region: Region, target: Target, predictions: Map<number, Expr>, seenIds: Set<number>, out: Diagnostic[], opset = DEFAULT_OPSET,
): CompiledKernel | undefined {
  const k: Kernel | undefined = region.kernel;
  const startErrors = out.length;
  if (!k || !Array.isArray(k.buffers) || !Array.isArray(k.body)) {
    out.push({ code: 'W5012', message: `region ${region.name} has no kernel (buffers and body)`, location: where(region) });
    return undefined;
  }
  const map = checkBuffers(region, target, out);
  if (!map) return undefined;
  const bufs = k.buffers;
  const bad = (ins: { id: number; loc: string }, msg: string) =>
    out.push({ code: 'W5012', message: `${msg}`, location: where(region, ins), hint: 'The message names the instruction; fix the program (or the compiler that emitted it).' });
  const code: CInstr[] = [];
  /** Loop guards and counts with their dependency info, for the route checks of transfer sites. */
  const loopInfo = new Map<CInstr, { guard?: Compiled; count: Compiled }>();
  const transfers: TransferSite[] = [];
  let hasSwap = false;

  const expr = (ins: Instr, name: string, e: unknown, depth: number): Compiled => {
    const p = exprProblem(e);
    if (p) { bad(ins, `${ins.op} ${name}: ${p}`); return compileExpr(0); }
    const c = compileExpr(e as Expr);
    if (maxLoopVar(c) >= depth) bad(ins, `${ins.op} ${name} reads loop counter i${maxLoopVar(c)} outside a loop that defines it`);
    return c;
  };
  const operand = (ins: Instr, name: string, o: Operand | undefined, depth: number): [number, ExprFn] => {
    if (!o || typeof o !== 'object' || !Number.isInteger(o.buf) || o.buf < 0 || o.buf >= bufs.length) {
      bad(ins, `${ins.op} operand ${name} names buffer ${o && typeof o === 'object' ? String(o.buf) : '?'}, but the kernel has ${bufs.length} buffers`);
      return [-1, never];
    }
    return [o.buf, expr(ins, `${name}.offset`, o.offset, depth).fn];
  };
  const lanesFor = (inputs: number[], output: number): number => {
    const ty = (b: number): MemType => (b >= 0 && b < bufs.length ? bufs[b].type : 'f32');
    return lanesOf(target, inputs.map(ty), ty(output));
  };

  const walk = (body: Instr[], depth: number, loops: CInstr[]) => {
    if (!Array.isArray(body)) return;
    for (const ins of body) {
      const c = new CInstr();
      if (!ins || typeof ins !== 'object' || !(ins.op in OPCODES)) {
        out.push({ code: 'W5012', message: `unknown instruction ${JSON.stringify((ins as { op?: unknown })?.op)}`, location: where(region) });
        continue;
      }
      c.op = OPCODES[ins.op];
      c.id = ins.id;
      c.loc = typeof ins.loc === 'string' ? ins.loc : '';
      c.opName = ins.op;
      c.depth = depth;
      if (!Number.isInteger(ins.id) || ins.id < 0) bad(ins, `instruction id ${String(ins.id)} is not a non-negative integer`);
      else if (seenIds.has(ins.id)) bad(ins, `instruction id ${ins.id} is used twice in the program`);
      else seenIds.add(ins.id);
      const g = ins.guard !== undefined ? expr(ins, 'guard', ins.guard, depth) : undefined;
      c.guard = g ? g.fn : null;
      const pred = predictions.get(ins.id);
      if (pred !== undefined) c.predict = expr(ins, 'predicted start', pred, depth).fn;
      const at = code.length;
      code.push(c);
      switch (ins.op) {
        case 'matmul':
          [c.bufA, c.offA] = operand(ins, 'a', ins.a, depth);
          [c.bufB, c.offB] = operand(ins, 'b', ins.b, depth);
          [c.bufC, c.offC] = operand(ins, 'c', ins.c, depth);
          c.s1 = expr(ins, 'm', ins.m, depth).fn;
          c.s2 = expr(ins, 'k', ins.k, depth).fn;
          c.s3 = expr(ins, 'n', ins.n, depth).fn;
          c.accumulate = !!ins.accumulate;
          c.transB = !!ins.transB;
          c.lanes = lanesFor([c.bufA, c.bufB], c.bufC);
          break;
        case 'unary':
          [c.bufA, c.offA] = operand(ins, 'src', ins.src, depth);
          [c.bufC, c.offC] = operand(ins, 'dst', ins.dst, depth);
          c.s1 = expr(ins, 'n', ins.n, depth).fn;
          c.fn = UNARY_FNS.indexOf(ins.fn);
          if (c.fn < 0) bad(ins, `unknown unary function ${String(ins.fn)}`);
          c.scalar = typeof ins.scalar === 'number' ? ins.scalar : 0;
          c.lanes = lanesFor([c.bufA], c.bufC);
          break;
        case 'binary':
          [c.bufA, c.offA] = operand(ins, 'a', ins.a, depth);
          [c.bufB, c.offB] = operand(ins, 'b', ins.b, depth);
          [c.bufC, c.offC] = operand(ins, 'dst', ins.dst, depth);
          c.s1 = expr(ins, 'rows', ins.rows, depth).fn;
          c.s2 = expr(ins, 'cols', ins.cols, depth).fn;
          c.fn = BINARY_FNS.indexOf(ins.fn);
          c.bcast = BCASTS.indexOf(ins.bcast);
          if (c.fn < 0) bad(ins, `unknown binary function ${String(ins.fn)}`);
          if (c.bcast < 0) bad(ins, `unknown broadcast ${String(ins.bcast)}`);
          c.lanes = lanesFor([c.bufA, c.bufB], c.bufC);
          break;
        case 'reduce':
          [c.bufA, c.offA] = operand(ins, 'src', ins.src, depth);
          [c.bufC, c.offC] = operand(ins, 'dst', ins.dst, depth);
          c.s1 = expr(ins, 'rows', ins.rows, depth).fn;
          c.s2 = expr(ins, 'cols', ins.cols, depth).fn;
          c.fn = ins.fn === 'sum' ? 0 : ins.fn === 'max' ? 1 : -1;
          if (c.fn < 0) bad(ins, `unknown reduction ${String(ins.fn)}`);
          if (ins.axis !== 'rows' && ins.axis !== 'cols') bad(ins, `unknown reduce axis ${String(ins.axis)}`);
          c.axisCols = ins.axis === 'cols' ? 1 : 0;
          c.accumulate = !!ins.accumulate;
          c.lanes = lanesFor([c.bufA], c.bufC);
          break;
        case 'fill':
          [c.bufC, c.offC] = operand(ins, 'dst', ins.dst, depth);
          c.s1 = expr(ins, 'n', ins.n, depth).fn;
          c.scalar = typeof ins.value === 'number' ? ins.value : 0;
          break;
        case 'send': {
          [c.bufA, c.offA] = operand(ins, 'src', ins.src, depth);
          c.s1 = expr(ins, 'n', ins.n, depth).fn;
          const col = expr(ins, 'colour', ins.colour, depth);
          c.colour = col.fn;
          if (c.bufA >= 0) c.memType = bufs[c.bufA].type;
          transfers.push(site(c, loops, g, col, undefined));
          break;
        }
        case 'recv': {
          [c.bufC, c.offC] = operand(ins, 'dst', ins.dst, depth);
          c.s1 = expr(ins, 'n', ins.n, depth).fn;
          const col = expr(ins, 'colour', ins.colour, depth);
          c.colour = col.fn;
          c.combine = COMBINES.indexOf(ins.combine);
          if (c.combine < 0) bad(ins, `unknown combine ${String(ins.combine)}`);
          if (c.bufC >= 0) c.memType = bufs[c.bufC].type;
          transfers.push(site(c, loops, g, undefined, col));
          break;
        }
        case 'forward': {
          [c.bufA, c.offA] = operand(ins, 'buf', ins.buf, depth);
          c.s1 = expr(ins, 'n', ins.n, depth).fn;
          const cin = expr(ins, 'inColour', ins.inColour, depth);
          const cout = expr(ins, 'outColour', ins.outColour, depth);
          c.colour = cin.fn;
          c.colour2 = cout.fn;
          c.combine = COMBINES.indexOf(ins.combine);
          if (c.combine < 0) bad(ins, `unknown combine ${String(ins.combine)}`);
          if (c.bufA >= 0) c.memType = bufs[c.bufA].type;
          transfers.push(site(c, loops, g, cout, cin));
          break;
        }
        case 'wait':
          break;
        case 'call': {
          const cc = compileCall(ins, bufs, target, opset, (name, e) => expr(ins, name, e, depth), (msg) => bad(ins, msg));
          if (cc) c.call = cc;
          break;
        }
        case 'delay':
          c.s1 = expr(ins, 'cycles', ins.cycles, depth).fn;
          break;
        case 'swap': {
          hasSwap = true;
          const ok = (b: number) => Number.isInteger(b) && b >= 0 && b < bufs.length;
          if (!ok(ins.a) || !ok(ins.b)) bad(ins, `swap names buffers ${String(ins.a)} and ${String(ins.b)}, but the kernel has ${bufs.length}`);
          else if (bufs[ins.a].type !== bufs[ins.b].type || bufs[ins.a].length !== bufs[ins.b].length) {
            bad(ins, `swap of buffers ${bufs[ins.a].name} (${bufs[ins.a].type}[${bufs[ins.a].length}]) and ${bufs[ins.b].name} (${bufs[ins.b].type}[${bufs[ins.b].length}]) of unequal type or length`);
          } else { c.bufA = ins.a; c.bufB = ins.b; }
          break;
        }
        case 'loop': {
          if (depth >= 4) { bad(ins, 'loops nested deeper than 4 (counters i0..i3)'); break; }
          const cnt = expr(ins, 'count', ins.count, depth);
          c.count = cnt.fn;
          walk(ins.body, depth + 1, [...loops, c]);
          const end = new CInstr();
          end.op = OP_ENDLOOP;
          end.id = c.id;
          end.loc = c.loc;
          end.opName = 'endloop';
          end.depth = depth;
          end.bodyStart = at + 1;
          end.loopAt = at;
          code.push(end);
          loopInfo.set(c, { guard: g, count: cnt });
          break;
        }
      }
      c.skipTo = code.length;
    }
  };
  const site = (c: CInstr, loops: CInstr[], guard: Compiled | undefined, send: Compiled | undefined, recv: Compiled | undefined): TransferSite =>
    ({ instr: c, loops, guard, sendColour: send, recvColour: recv, loopGuards: [], loopCounts: [] });
  walk(k.body, 0, []);
  for (const s of transfers) {
    for (const l of s.loops) {
      const info = loopInfo.get(l)!;
      s.loopGuards.push(info.guard);
      s.loopCounts.push(info.count);
    }
  }
  // Memory-map problems (W5004, W5005) leave the code usable (route checks go on); malformed code does not.
  if (out.slice(startErrors).some((d) => d.code === 'W5012')) return undefined;
  return {
    code,
    buffers: bufs,
    bufBytes: bufs.map((b) => MEM_TYPE_BYTES[b.type]),
    bufLen: Int32Array.from(bufs, (b) => b.length),
    hasSwap,
    liveHighWater: map.liveHighWater,
    presence: map.presence,
    groupHighWater: map.groupHighWater,
    transfers,
  };
}
