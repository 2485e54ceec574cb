/**
 * The deadlock report (W6001): built when no event is left but some core has not finished. Names
 * the first waiting cores (with the transfer each waits on: its kind, colour and instruction), how
 * many others wait, and the streams that never started (with the core whose channel they wait on).
 */
import { DiagnosticError } from '../ir/diagnostics.js';
import { CORE_DONE, CORE_FINISHING, CORE_IDLE, CORE_WAITING } from './executor-state.js';
import type { Executor } from './executor.js';
import { S_FREE } from './streams-pool.js';

const SHOWN = 10;
const KINDS = ['send', 'recv', 'forward'];

export function deadlockError(ex: Executor): DiagnosticError {
  const cs = ex.cs, W = ex.m.width, f = ex.fabric;
  const at = (c: number) => `(${c % W},${Math.floor(c / W)})`;
  const lines: string[] = [];
  let waiting = 0;
  let first = -1;
  for (let c = 0; c < ex.m.cores; c++) {
    const st = cs.state[c];
    if (st === CORE_DONE || st === CORE_IDLE) continue;
    if (waiting++ >= SHOWN) continue;
    if (first < 0) first = c;
    // The oldest transfer with no known completion (the list is newest first).
    let pending = -1;
    for (let x = cs.inflight[c]; x >= 0; x = cs.xNext[x]) if (cs.xDone[x] < 0) pending = x;
    const where = st === CORE_WAITING ? `waits in ${ex.describeInstr(codeAt(ex, c).ix)}` : st === CORE_FINISHING ? 'ended its kernel' : 'is stalled';
    const on = pending >= 0
      ? `for its ${KINDS[cs.xKind[pending]]} on colour ${cs.xColour[pending]} (${ex.describeInstr(cs.xInstr[pending])})`
      : '';
    lines.push(`core ${at(c)} ${where} ${on}`.trim());
  }
  if (waiting > SHOWN) lines.push(`... and ${waiting - SHOWN} more waiting cores`);
  const S = f.S, C = f.C;
  const stuck: string[] = [];
  let stuckCount = 0;
  for (let s = 0; s < S.size; s++) {
    if (S.state[s] === S_FREE) continue;
    stuckCount++;
    if (stuck.length >= SHOWN) continue;
    const ch = S.waitChan[s];
    const colour = ex.lp.routes.colours[S.ci[s]];
    const why = ch >= 0
      ? S.waitSend[s]
        ? `, waiting for an earlier send of the forwarding core ${at(C.core[ch])} on colour ${ex.lp.routes.colours[C.ci[ch]]}`
        : `, waiting for a receive (or buffer space) at core ${at(C.core[ch])} on colour ${ex.lp.routes.colours[C.ci[ch]]}`
      : S.kind[s] === 1 ? ' (a forward whose input never arrived)' : ' (behind an earlier send of its core on that colour)';
    stuck.push(`stream of ${S.elems[s]} elements from core ${at(S.sender[s])} on colour ${colour} (${ex.describeInstr(S.instr[s])}) never started${why}`);
  }
  if (stuckCount > SHOWN) stuck.push(`... and ${stuckCount - SHOWN} more streams that never started`);
  const msg = [`deadlock: no event is left but ${waiting} core${waiting === 1 ? '' : 's'} did not finish`, ...lines.map((l) => `  ${l}`)];
  if (stuck.length) msg.push('streams that found no receiver:', ...stuck.map((l) => `  ${l}`));
  return new DiagnosticError({
    code: 'W6001',
    message: msg.join('\n'),
    location: first >= 0 ? `core ${at(first)}` : undefined,
    hint: 'A stream and a receive do not match up: check colours, routes and the order of sends and receives.',
  });
}

function codeAt(ex: Executor, c: number) {
  const code = ex.lp.regions[ex.lp.coreRegion[c]].kernel.code;
  return code[Math.max(0, ex.cs.pc[c] - 1)];
}
