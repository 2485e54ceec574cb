/**
 * The per-core interpreter: runs one core's instructions from its local clock until it must stop
 * — a `wait` (or the kernel's end) with transfers whose completion is not known yet, or an access to
 * a range an in-flight transfer of unknown completion uses (re-checked at that cycle). Compute
 * instructions only touch the core's own SRAM, so a core runs ahead of the global event time
 * through them without any event; sends and receives are posted to the fabric with their posting
 * cycle (docs/runtime-model.md, "Cost of an instruction on a core").
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import { wordsFor } from '../ir/program.js';
import {
  binaryCycles, binaryValues, fillCycles, matmulCycles, matmulValues, reduceCycles, reduceValues, roundTo, unaryCycles, unaryValues,
} from './compute.js';
import { MAX_CALL_TENSORS } from '../ir/program-call.js';
import { DEFAULT_OPSET } from '../ir/program.js';
import { executeCall } from './compute-call.js';
import {
  CInstr, MEM_TYPES, OP_BINARY, OP_CALL, OP_DELAY, OP_ENDLOOP, OP_FILL, OP_FORWARD, OP_LOOP, OP_MATMUL, OP_RECV, OP_REDUCE, OP_SEND, OP_SWAP, OP_UNARY,
  OP_WAIT, UNARY_COST,
} from './loader-kernel.js';
import { CORE_DONE, CORE_FINISHING, CORE_WAITING, XF_FORWARD, XF_RECV, XF_SEND } from './executor-state.js';
import type { Executor } from './executor.js';

const BCAST_NONE = 0, BCAST_ROW = 1, BCAST_COL = 2;

/** Scratch access list of the instruction being executed: physical buffer, offset, length, write (a call has the most). */
const MAX_ACCESSES = 2 * MAX_CALL_TENSORS;
const accBuf = new Int32Array(MAX_ACCESSES);
const accOff = new Float64Array(MAX_ACCESSES);
const accLen = new Float64Array(MAX_ACCESSES);
const accW = new Uint8Array(MAX_ACCESSES);
const accLog = new Int32Array(MAX_ACCESSES);
/** A call's per-operand absolute SRAM index and rounding mode (functional mode). */
const callBase = new Float64Array(MAX_ACCESSES);
const callRound = new Uint8Array(MAX_ACCESSES);

function oob(ex: Executor, c: number, ins: CInstr, logical: number, off: number, len: number, bufLen: number, name: string): DiagnosticError {
  const W = ex.m.width;
  const b = ex.lp.regions[ex.lp.coreRegion[c]].kernel.buffers[logical];
  return new DiagnosticError({
    code: 'W6004',
    message: `${ins.opName} operand ${name} reads or writes elements [${off}, ${off + len}) of buffer ${b?.name ?? logical}, which has ${bufLen} elements`,
    location: `core (${c % W},${Math.floor(c / W)}), ${ex.describeInstr(ins.ix)}`,
    hint: 'Fix the offsets or counts.',
  });
}

/** W6004 for an operand naming a buffer that does not exist on the core (its guard is zero there). */
function absent(ex: Executor, c: number, ins: CInstr, logical: number, name: string): DiagnosticError {
  const W = ex.m.width;
  const b = ex.lp.regions[ex.lp.coreRegion[c]].kernel.buffers[logical];
  const at = `(${c % W},${Math.floor(c / W)})`;
  return new DiagnosticError({
    code: 'W6004',
    message: `${ins.opName} operand ${name}: buffer ${b?.name ?? logical} does not exist on core ${at} (its guard is zero there)`,
    location: `core ${at}, ${ex.describeInstr(ins.ix)}`,
    hint: 'Guard the instruction to the cores that hold the buffer, or widen the buffer\'s guard.',
  });
}

/** W6004 for a swap of two buffers of which only one exists on the core. */
function swapAbsent(ex: Executor, c: number, ins: CInstr): DiagnosticError {
  const W = ex.m.width;
  const bufs = ex.lp.regions[ex.lp.coreRegion[c]].kernel.buffers;
  const at = `(${c % W},${Math.floor(c / W)})`;
  return new DiagnosticError({
    code: 'W6004',
    message: `swap of buffers ${bufs[ins.bufA].name} and ${bufs[ins.bufB].name}, but only one of them exists on core ${at} (a swap needs both or neither)`,
    location: `core ${at}, ${ex.describeInstr(ins.ix)}`,
    hint: 'Give the two buffers the same guard.',
  });
}

function race(ex: Executor, c: number, ins: CInstr, a: number, x: number): DiagnosticError {
  const W = ex.m.width, cs = ex.cs;
  const kinds = ['send', 'recv', 'forward'];
  const b = ex.lp.regions[ex.lp.coreRegion[c]].kernel.buffers[accLog[a]];
  return new DiagnosticError({
    code: 'W6002',
    message: `${ins.opName} ${accW[a] ? 'writes' : 'reads'} elements [${accOff[a]}, ${accOff[a] + accLen[a]}) of buffer ${b?.name ?? accLog[a]} while the ${kinds[cs.xKind[x]]} ${ex.describeInstr(cs.xInstr[x])} on colour ${cs.xColour[x]} still ${cs.xWrite[x] ? 'writes' : 'reads'} [${cs.xOff[x]}, ${cs.xOff[x] + cs.xLen[x]}) of it`,
    location: `core (${c % W},${Math.floor(c / W)}), ${ex.describeInstr(ins.ix)}`,
    hint: 'Add a `wait` before reusing the buffer.',
  });
}

/**
 * Checks the n accesses against the core's in-flight transfers at cycle t. Returns true when the
 * core must yield until global time reaches t (a conflicting transfer has no known completion yet).
 */
function raceCheck(ex: Executor, c: number, ins: CInstr, n: number, t: number, now: number): boolean {
  const cs = ex.cs;
  let prev = -1;
  let x = cs.inflight[c];
  while (x >= 0) {
    const done = cs.xDone[x];
    const next = cs.xNext[x];
    if (done >= 0 && done <= t) { cs.dropXfer(c, x, prev); x = next; continue; }
    const xb = cs.xBuf[x], xo = cs.xOff[x], xe = xo + cs.xLen[x], xw = cs.xWrite[x];
    for (let a = 0; a < n; a++) {
      if (accBuf[a] !== xb || (!xw && !accW[a]) || accLen[a] === 0) continue;
      if (accOff[a] < xe && xo < accOff[a] + accLen[a]) {
        if (done < 0 && now < t) return true;
        throw race(ex, c, ins, a, x);
      }
    }
    prev = x;
    x = next;
  }
  return false;
}

/** Runs core c from its saved state; `now` is the global event cycle. */
export function runCore(ex: Executor, c: number, now: number): void {
  const cs = ex.cs, m = ex.m;
  const ri = ex.lp.coreRegion[c];
  const reg = ex.lp.regions[ri];
  const code = reg.kernel.code;
  const nCode = code.length;
  const bufs = reg.kernel.buffers;
  const bufLen = reg.kernel.bufLen;
  const env = ex.env;
  const W = m.width;
  const x = (c % W) - reg.x0, y = Math.floor(c / W) - reg.y0;
  env[0] = x; env[1] = y; env[2] = reg.width; env[3] = reg.height;
  for (let d = 0; d < 4; d++) env[4 + d] = cs.iter[c * 4 + d];
  const local = y * reg.width + x;
  const bind = ex.bindings[ri];
  const nb = bufs.length;
  // Buffers present on this core (BufferDecl.guard): pmask[pOff + buf], or null when all are.
  const pres = reg.kernel.presence;
  const pmask = pres !== null ? pres.mask : null;
  const pOff = pres !== null ? pres.groupOf[local] * nb : 0;
  const mem = ex.memory ? ex.memory[ri] : null;
  const sampled = ex.sampleOf !== null && ex.sampleOf[c] >= 0;
  const issue = m.issue, R = m.readWords, Wr = m.writeWords;
  const stats = ex.stats;
  let t = cs.clock[c];
  let pc = cs.pc[c];
  let compute = 0, comm = 0;
  let executed = 0;
  const budget = ex.maxInstructions - ex.instructions;
  for (;;) {
    if (pc >= nCode) {
      if (cs.unknown[c] > 0) {
        cs.state[c] = CORE_FINISHING;
        cs.waitStart[c] = t;
        cs.clock[c] = t;
        break;
      }
      const fin = t > cs.maxKnown[c] ? t : cs.maxKnown[c];
      comm += fin - t;
      cs.clearXfers(c);
      cs.finish[c] = fin;
      cs.state[c] = CORE_DONE;
      break;
    }
    const ins = code[pc];
    const op = ins.op;
    if (op === OP_ENDLOOP) {
      const d = ins.depth;
      const it = ++cs.iter[c * 4 + d];
      if (it < cs.count[c * 4 + d]) {
        env[4 + d] = it;
        t += m.loop;
        compute += m.loop;
        stats.instrCycles[ins.ix] += m.loop;
        pc = ins.bodyStart;
      } else {
        if (sampled) ex.loopEnd(c, ins, t);
        pc++;
      }
      continue;
    }
    if (ins.guard !== null && ins.guard(env) === 0) { pc = ins.skipTo; continue; }
    if (++executed > budget) { ex.instructions += executed; throw ex.overBudget(); }
    // Operand ranges: evaluate, bound-check (W6004), race-check (W6002).
    let n = 0;
    let s1 = 0, s2 = 0, s3 = 0, oA = 0, oB = 0, oC = 0;
    switch (op) {
      case OP_MATMUL:
        s1 = ins.s1(env); s2 = ins.s2(env); s3 = ins.s3(env); oA = ins.offA(env); oB = ins.offB(env); oC = ins.offC(env);
        n = 3;
        accLog[0] = ins.bufA; accOff[0] = oA; accLen[0] = s1 * s2; accW[0] = 0;
        accLog[1] = ins.bufB; accOff[1] = oB; accLen[1] = s2 * s3; accW[1] = 0;
        accLog[2] = ins.bufC; accOff[2] = oC; accLen[2] = s1 * s3; accW[2] = 1;
        break;
      case OP_UNARY:
        s1 = ins.s1(env); oA = ins.offA(env); oC = ins.offC(env);
        n = 2;
        accLog[0] = ins.bufA; accOff[0] = oA; accLen[0] = s1; accW[0] = 0;
        accLog[1] = ins.bufC; accOff[1] = oC; accLen[1] = s1; accW[1] = 1;
        break;
      case OP_BINARY:
        s1 = ins.s1(env); s2 = ins.s2(env); oA = ins.offA(env); oB = ins.offB(env); oC = ins.offC(env);
        n = 3;
        accLog[0] = ins.bufA; accOff[0] = oA; accLen[0] = s1 * s2; accW[0] = 0;
        accLog[1] = ins.bufB; accOff[1] = oB; accW[1] = 0;
        accLen[1] = ins.bcast === BCAST_NONE ? s1 * s2 : ins.bcast === BCAST_ROW ? s2 : ins.bcast === BCAST_COL ? s1 : 1;
        accLog[2] = ins.bufC; accOff[2] = oC; accLen[2] = s1 * s2; accW[2] = 1;
        break;
      case OP_REDUCE:
        s1 = ins.s1(env); s2 = ins.s2(env); oA = ins.offA(env); oC = ins.offC(env);
        n = 2;
        accLog[0] = ins.bufA; accOff[0] = oA; accLen[0] = s1 * s2; accW[0] = 0;
        accLog[1] = ins.bufC; accOff[1] = oC; accLen[1] = ins.axisCols ? s1 : s2; accW[1] = 1;
        break;
      case OP_FILL:
        s1 = ins.s1(env); oC = ins.offC(env);
        n = 1;
        accLog[0] = ins.bufC; accOff[0] = oC; accLen[0] = s1; accW[0] = 1;
        break;
      case OP_SEND:
        s1 = ins.s1(env); oA = ins.offA(env);
        n = 1;
        accLog[0] = ins.bufA; accOff[0] = oA; accLen[0] = s1; accW[0] = 0;
        break;
      case OP_RECV:
        s1 = ins.s1(env); oC = ins.offC(env);
        n = 1;
        accLog[0] = ins.bufC; accOff[0] = oC; accLen[0] = s1; accW[0] = 1;
        break;
      case OP_FORWARD:
        s1 = ins.s1(env); oA = ins.offA(env);
        n = 1;
        accLog[0] = ins.bufA; accOff[0] = oA; accLen[0] = ins.combine === 0 ? 0 : s1; accW[0] = 0;
        break;
      case OP_CALL: {
        const ops = ins.call!.operands;
        n = ops.length;
        for (let a = 0; a < n; a++) {
          const o = ops[a];
          accLog[a] = o.buf; accOff[a] = o.off(env); accLen[a] = o.n; accW[a] = o.isOutput ? 1 : 0;
        }
        break;
      }
      case OP_DELAY:
        s1 = ins.s1(env);
        break;
    }
    for (let a = 0; a < n; a++) {
      const lg = accLog[a];
      if (pmask !== null && pmask[pOff + lg] === 0) throw absent(ex, c, ins, lg, op === OP_CALL ? ins.call!.operands[a].name : ['a', 'b', 'c', 'd'][a]);
      const len = bufLen[lg];
      if (!(accOff[a] >= 0 && accLen[a] >= 0 && accOff[a] + accLen[a] <= len) || (s1 < 0 && op !== OP_DELAY)) {
        throw oob(ex, c, ins, lg, accOff[a], accLen[a], len, op === OP_CALL ? ins.call!.operands[a].name : ['a', 'b', 'c', 'd'][a]);
      }
      accBuf[a] = bind !== null ? bind[local * nb + lg] : lg;
    }
    if (n > 0 && cs.inflight[c] >= 0 && raceCheck(ex, c, ins, n, t, now)) {
      cs.clock[c] = t;
      cs.pc[c] = pc;
      ex.yieldCore(c, t);
      break;
    }
    if (ins.predict !== null) ex.checkPrediction(ins, c, t, ins.predict(env));
    const start = t;
    let cost = issue;
    let isComm = false;
    switch (op) {
      case OP_MATMUL:
        cost += matmulCycles(s1, s2, s3, ins.accumulate, ins.lanes, R, Wr);
        if (mem) matmulValues(mem.mem, mem.base(local, accBuf[0]) + oA, mem.mem, mem.base(local, accBuf[1]) + oB, mem.mem, mem.base(local, accBuf[2]) + oC,
          s1, s2, s3, ins.accumulate, ins.transB, mem.round[accBuf[2]]);
        break;
      case OP_UNARY:
        cost += unaryCycles(s1, UNARY_COST[ins.fn], ins.lanes, R, Wr);
        if (mem) unaryValues(mem.mem, mem.base(local, accBuf[0]) + oA, mem.mem, mem.base(local, accBuf[1]) + oC, s1, ins.fn, ins.scalar, mem.round[accBuf[1]]);
        break;
      case OP_BINARY:
        cost += binaryCycles(s1, s2, accLen[1], ins.bcast !== BCAST_NONE, ins.lanes, R, Wr);
        if (mem) binaryValues(mem.mem, mem.base(local, accBuf[0]) + oA, mem.mem, mem.base(local, accBuf[1]) + oB, mem.mem, mem.base(local, accBuf[2]) + oC,
          s1, s2, ins.fn, ins.bcast, mem.round[accBuf[2]]);
        break;
      case OP_REDUCE:
        cost += reduceCycles(s1, s2, accLen[1], ins.lanes, R, Wr);
        if (mem) reduceValues(mem.mem, mem.base(local, accBuf[0]) + oA, mem.mem, mem.base(local, accBuf[1]) + oC, s1, s2, ins.fn === 1, ins.axisCols === 1,
          ins.accumulate, mem.round[accBuf[1]]);
        break;
      case OP_FILL:
        cost += fillCycles(s1, Wr);
        if (mem) {
          const b = mem.base(local, accBuf[0]) + oC, v = roundTo(mem.round[accBuf[0]], ins.scalar);
          mem.mem.fill(v, b, b + s1);
        }
        break;
      case OP_SEND: {
        isComm = true;
        cost += m.comm;
        const colour = ins.colour(env);
        const ci = ex.colourIndex(colour, c, ins, 'W5009');
        const post = t + cost;
        const xf = cs.addXfer(c, accBuf[0], oA, s1, false, XF_SEND, ins.ix, colour);
        ex.fabric.postSend(c, ci, s1, wordsFor(ins.memType, s1), MEM_TYPES.indexOf(ins.memType), post, ins.ix, xf,
          mem ? mem.base(local, accBuf[0]) + oA : -1);
        break;
      }
      case OP_RECV: {
        isComm = true;
        cost += m.comm;
        const colour = ins.colour(env);
        const ci = ex.colourIndex(colour, c, ins, 'W5010');
        const post = t + cost;
        const xf = cs.addXfer(c, accBuf[0], oC, s1, true, XF_RECV, ins.ix, colour);
        ex.fabric.postRecv(c, ci, s1, wordsFor(ins.memType, s1), MEM_TYPES.indexOf(ins.memType), post, ins.combine,
          mem ? mem.base(local, accBuf[0]) + oC : -1, mem ? mem.round[accBuf[0]] : 0, ins.ix, xf, -1, now);
        break;
      }
      case OP_FORWARD: {
        isComm = true;
        cost += m.comm;
        const cin = ins.colour(env), cout = ins.colour2(env);
        const ci = ex.colourIndex(cin, c, ins, 'W5010');
        const co = ex.colourIndex(cout, c, ins, 'W5009');
        const post = t + cost;
        const xf = cs.addXfer(c, accBuf[0], oA, accLen[0], false, XF_FORWARD, ins.ix, cin);
        ex.fabric.postRecv(c, ci, s1, wordsFor(ins.memType, s1), MEM_TYPES.indexOf(ins.memType), post, ins.combine,
          mem ? mem.base(local, accBuf[0]) + oA : -1, mem ? mem.round[accBuf[0]] : 0, ins.ix, xf, co, now);
        break;
      }
      case OP_WAIT: {
        isComm = true;
        if (cs.unknown[c] > 0) {
          // Blocks until the fabric knows every completion (executor wakes it then).
          if (sampled) ex.waitBegin(c, t);
          stats.instrCount[ins.ix]++;
          cs.waitStart[c] = t;
          cs.clock[c] = t + issue;
          cs.pc[c] = pc + 1;
          cs.state[c] = CORE_WAITING;
          ex.addRegion(ri, compute, comm);
          ex.instructions += executed;
          return;
        }
        const end = t + issue > cs.maxKnown[c] ? t + issue : cs.maxKnown[c];
        cost = end - t;
        cs.clearXfers(c);
        break;
      }
      case OP_LOOP: {
        const cnt = ins.count(env);
        const d = ins.depth;
        if (cnt > 0) {
          cs.count[c * 4 + d] = cnt;
          cs.iter[c * 4 + d] = 0;
          env[4 + d] = 0;
          cost += m.loop;
          if (sampled) ex.loopBegin(c, ins, t);
          stats.instrCount[ins.ix]++;
          stats.instrCycles[ins.ix] += cost;
          compute += cost;
          t += cost;
          pc++;
          continue;
        }
        pc = ins.skipTo;
        stats.instrCount[ins.ix]++;
        stats.instrCycles[ins.ix] += cost;
        compute += cost;
        t += cost;
        continue;
      }
      case OP_CALL: {
        const cc = ins.call!;
        cost += cc.cycles;
        if (mem) {
          for (let a = 0; a < n; a++) { callBase[a] = mem.base(local, accBuf[a]) + accOff[a]; callRound[a] = mem.round[accBuf[a]]; }
          executeCall(cc, mem.mem, callBase, callRound, {
            location: `core (${c % W},${Math.floor(c / W)}), ${ex.describeInstr(ins.ix)}`, loc: ins.loc, opset: ex.lp.program.opset ?? DEFAULT_OPSET,
          });
        }
        break;
      }
      case OP_DELAY:
        // Padding: no issue cycle, and idle time in the statistics (neither compute nor communication).
        cost = s1 > 0 ? s1 : 0;
        break;
      case OP_SWAP:
        if (pmask !== null && pmask[pOff + ins.bufA] !== pmask[pOff + ins.bufB]) throw swapAbsent(ex, c, ins);
        if (bind !== null) {
          const ia = local * nb + ins.bufA, ib = local * nb + ins.bufB;
          const tmp = bind[ia]; bind[ia] = bind[ib]; bind[ib] = tmp;
        }
        break;
    }
    t += cost;
    stats.instrCount[ins.ix]++;
    stats.instrCycles[ins.ix] += cost;
    if (isComm) comm += cost; else if (op !== OP_DELAY) compute += cost;
    if (sampled) ex.span(c, ins, start, t);
    pc++;
  }
  ex.addRegion(ri, compute, comm);
  ex.instructions += executed;
}

