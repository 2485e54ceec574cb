/**
 * The batch split: an op whose inputs and outputs do not fit one core, but which is separable along
 * dim 0 (kernels/batch-split-rules.ts), runs as k pieces, piece b a `call` on rows
 * [b·D/k, (b+1)·D/k) of dim 0, pinned to its own core — k the smallest divisor of D (at most the
 * cores left) for which every piece fits a core (a larger k when no placement holds the pieces).
 * Pieces follow tiled.ts's conventions: piece b of value v is the value `%v#tile<b>` of shape
 * [D/k, ...], piece b of op o is `o#tile<b>` with `params.pin` = base + b and `params.tiles` = k.
 * base is past the highest pin of the tiling before it (tiled.ts pins tile b to core b) and past
 * every core the ops before the first piece open (withCores), checked by a trial `place`. Every
 * later pass sees ordinary single-core values and calls; consecutive pieces with no transfer
 * between them share a schedule step.
 *
 * Where the pieces of an input come from:
 * - the output of a split op: its pieces as they are;
 * - a constant: k constants, its dim-0 slices;
 * - a graph input: moved in by pieces (a tiled input, piece b on the core of its pinned reader);
 *   when some op also reads it whole, it comes in whole and is cut like a computed value;
 * - a value computed whole, when it and its pieces fit one core together: a `Split` call (axis 0,
 *   equal parts) on its core, just before the first piece op; else the producer is split too (when
 *   separable), and so on backwards.
 * Propagation: a reader of a split op's output that is itself separable (with the value in a split
 * role) is split too, with the same k; any other reader gets the pieces gathered by a `Concat` call
 * (axis 0, on one core, which must hold the pieces and the whole), and runs whole as before. A split
 * graph output leaves by pieces (a tiled output). When something does not fit — a piece, a Split, a
 * Concat, more pieces than cores — the mesh is returned unchanged and `place` refuses the op (W3002).
 *
 *   before:  %bmm : f32[64,10,10] = call MatMul(%view_9, %view_10) @bmm               (66560 B)
 *   after:   %"view_9#tile0", %"view_9#tile1" = call Split(%view_9) {axis = 0 : int} @"view_9#split"
 *            %"view_10#tile0", %"view_10#tile1" = call Split(%view_10) {axis = 0 : int} @"view_10#split"
 *            %"bmm#tile0" : f32[32,10,10] = call MatMul(%"view_9#tile0", %"view_10#tile0") {pin = 6, tiles = 2} @"bmm#tile0"
 *            %"bmm#tile1" : f32[32,10,10] = call MatMul(%"view_9#tile1", %"view_10#tile1") {pin = 7, tiles = 2} @"bmm#tile1"
 *
 * Cost: each piece is a `call` with the piece's shapes (callCost, exact); Split and Concat are calls.
 */
import { DiagnosticError } from '../../ir/diagnostics.js';
import type { MeshGraph, MeshOp, MeshValue } from '../../ir/mesh.js';
import { singleCoreLayout } from '../../ir/mesh.js';
import { MEM_TYPE_BYTES } from '../../ir/program.js';
import type { Target } from '../../ir/target.js';
import { Tensor } from '../../ir/tensor.js';
import { place, placeGreedy } from '../passes/place.js';
import { pieceRule, type PieceRule } from './batch-split-rules.js';
import { parseTileName, tileName } from './tiled.js';

/** How the pieces of a value are made. */
type Source = 'split' | 'const' | 'input' | 'op';

interface Plan {
  opK: Map<number, number>;
  valK: Map<string, number>;
  how: Map<string, Source>;
}

const elems = (v: MeshValue) => v.type.shape.reduce((a, b) => a * b, 1);

/** Splits oversized dim-0-separable ops into pinned pieces (see the top of the file); the mesh unchanged when it cannot. */
export function batchSplit(mesh: MeshGraph, target: Target): MeshGraph {
  const capacity = target.sram.bytesPerCore;
  const pins = mesh.ops.map((op) => op.params.pin).filter((p): p is number => typeof p === 'number');
  const first = pins.length ? Math.max(...pins) + 1 : 0;
  const cores = target.width * target.height;
  const maxK = cores - first;
  const bytes = (v: string) => { const mv = mesh.values.get(v)!; return elems(mv) * MEM_TYPE_BYTES[mv.mem]; };
  const distinct = (list: string[]) => list.filter((v, i) => v && list.indexOf(v) === i);
  const oversized = (op: MeshOp) => op.kernel === 'call' && op.params.pin === undefined &&
    distinct([...op.inputs, ...op.outputs]).reduce((s, v) => s + bytes(v), 0) > capacity;
  const seeds = mesh.ops.map((op, i) => (oversized(op) ? i : -1)).filter((i) => i >= 0);
  if (seeds.length === 0 || maxK < 2) return mesh;
  // Graph inputs some op reads whole are cut by a Split call, the others come in by pieces. When
  // place refuses every base (the pieces' cores hold graph I/O and other values too), more, smaller
  // pieces are tried.
  const readWhole = new Set<string>();
  const budget = { placements: PLACE_TRIES };
  for (let kMin = 2; kMin <= maxK && budget.placements > 0;) {
    const plan = planSplit(mesh, seeds, kMin, maxK, capacity, bytes, readWhole);
    if (plan === 'fail') return mesh;
    if (plan === 'conflict') kMin++;
    else if (plan !== 'replan') {
      const out = withCores(mesh, plan, first, target, budget);
      if (out) return out;
      kMin = Math.max(...plan.opK.values()) + 1;
    }
  }
  return mesh;
}

/** Trial placements per model; per plan, the bases tried from the first. */
const PLACE_TRIES = 32;
const BASE_TRIES = 8;

/**
 * The pieces' cores: base + b, with base past every core the ops before the first piece op open
 * (a trial greedy placement of them), so that pieces land on cores of their own; checked by a trial
 * placement of the whole (allocation included), moving base on a few times when a core overflows.
 */
function withCores(mesh: MeshGraph, plan: Plan, first: number, target: Target, budget: { placements: number }): MeshGraph | undefined {
  const cores = target.width * target.height;
  const maxK = Math.max(...plan.opK.values());
  const trial = rewrite(mesh, plan, first);
  const at = trial.ops.findIndex((op) => typeof op.params.pin === 'number' && op.params.pin >= first && op.params.tiles !== undefined);
  let base = first;
  try {
    if (at > 0) base = Math.max(first, placeGreedy({ ...trial, ops: trial.ops.slice(0, at) }, target, target.sram.bytesPerCore).cores);
  } catch {
    // The ops before the pieces do not fit: place will say so.
  }
  for (let t = 0; t < BASE_TRIES && base + maxK <= cores && budget.placements > 0; t++, base++) {
    const out = rewrite(mesh, plan, base);
    budget.placements--;
    try {
      place(out, target);
      return out;
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
    }
  }
  return undefined;
}

/** Bytes one piece of op `i` holds (split inputs and the output by k, whole inputs whole). */
function pieceBytes(mesh: MeshGraph, op: MeshOp, rule: PieceRule, k: number, bytes: (v: string) => number): number {
  const seen = new Set<string>();
  let total = bytes(op.outputs[0]) / k;
  op.inputs.forEach((v, i) => {
    if (!v || seen.has(v) || rule.roles[i] === 'none') return;
    seen.add(v);
    total += rule.roles[i] === 'split' ? bytes(v) / k : bytes(v);
  });
  return total;
}

function planSplit(mesh: MeshGraph, seeds: number[], kMin: number, maxK: number, capacity: number,
  bytes: (v: string) => number, readWhole: Set<string>): Plan | 'fail' | 'conflict' | 'replan' {
  const ops = mesh.ops;
  const producer = new Map<string, number>();
  ops.forEach((op, i) => op.outputs.forEach((o) => o && producer.set(o, i)));
  const opK = new Map<number, number>();
  for (const i of seeds) {
    const d0 = mesh.values.get(ops[i].outputs[0] ?? '')?.type.shape[0] ?? 0;
    let chosen: number | undefined;
    for (let k = kMin; k <= Math.min(maxK, d0); k++) {
      const rule = d0 % k === 0 ? pieceRule(mesh, ops[i], k) : undefined;
      if (rule && pieceBytes(mesh, ops[i], rule, k, bytes) <= capacity) { chosen = k; break; }
    }
    if (chosen === undefined) return 'fail';
    opK.set(i, chosen);
  }
  const valK = new Map<string, number>();
  const how = new Map<string, Source>();
  const inputs = new Set(mesh.inputs);
  const give = (v: string, k: number, source: Source): boolean => {
    if (valK.has(v) && valK.get(v) !== k) return false;
    valK.set(v, k);
    how.set(v, source);
    return true;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const [i, k] of [...opK].sort((a, b) => a[0] - b[0])) {
      const op = ops[i];
      const rule = pieceRule(mesh, op, k);
      if (!rule) return 'conflict';
      for (const [j, v] of op.inputs.entries()) {
        if (rule.roles[j] !== 'split' || valK.get(v) === k) continue;
        if (valK.has(v)) return 'conflict';
        changed = true;
        if (mesh.constants.has(v)) give(v, k, 'const');
        else if (inputs.has(v) && !parseTileName(v) && !readWhole.has(v)) give(v, k, 'input');
        else if (2 * bytes(v) <= capacity) give(v, k, 'split');
        else {
          const p = producer.get(v);
          if (p === undefined || opK.has(p) || !pieceRule(mesh, ops[p], k)) return 'fail';
          opK.set(p, k);
        }
      }
      const o = op.outputs[0];
      if (how.get(o) !== 'op') {
        if (!give(o, k, 'op')) return 'conflict';
        changed = true;
      }
    }
    // Readers of pieces that exist only as pieces join the split when they are separable.
    ops.forEach((op, j) => {
      if (opK.has(j)) return;
      for (const [idx, v] of op.inputs.entries()) {
        const src = how.get(v);
        if (src !== 'op' && src !== 'input') continue;
        const rule = pieceRule(mesh, op, valK.get(v)!);
        if (rule && rule.roles[idx] === 'split') {
          opK.set(j, valK.get(v)!);
          changed = true;
          return;
        }
      }
    });
  }
  // Validation: pieces fit; a value needed whole that exists only as pieces is gathered by a Concat.
  for (const [i, k] of opK) {
    if (k > maxK || pieceBytes(mesh, ops[i], pieceRule(mesh, ops[i], k)!, k, bytes) > capacity) return 'fail';
  }
  const whole = wholeNeeded(mesh, { opK, valK, how });
  for (const v of whole) {
    if (how.get(v) === 'input') {
      // Read whole too: the input comes in whole and a Split call cuts it (when the two fit a core).
      readWhole.add(v);
      return 'replan';
    }
    if (2 * bytes(v) > capacity) return 'fail';
  }
  return { opK, valK, how };
}

/** Values that exist only as pieces but that some op reads whole (they get a Concat). */
function wholeNeeded(mesh: MeshGraph, plan: Plan): Set<string> {
  const need = new Set<string>();
  mesh.ops.forEach((op, i) => {
    const k = plan.opK.get(i);
    const rule = k === undefined ? undefined : pieceRule(mesh, op, k);
    op.inputs.forEach((v, j) => {
      const src = plan.how.get(v);
      if ((src === 'op' || src === 'input') && (!rule || rule.roles[j] !== 'split')) need.add(v);
    });
  });
  return need;
}

function rewrite(mesh: MeshGraph, plan: Plan, base: number): MeshGraph {
  const out: MeshGraph = { ...mesh, values: new Map(mesh.values), constants: new Map(mesh.constants), ops: [] };
  const pieces = (v: string) => Array.from({ length: plan.valK.get(v)! }, (_, b) => tileName(v, b));
  const pieceShape = (v: string, k: number) => { const s = mesh.values.get(v)!.type.shape; return [s[0] / k, ...s.slice(1)]; };
  const whole = wholeNeeded(mesh, plan);
  for (const [v, k] of plan.valK) {
    const mv = mesh.values.get(v)!;
    const shape = pieceShape(v, k);
    const t = mesh.constants.get(v);
    const n = elems(mv) / k;
    for (let b = 0; b < k; b++) {
      out.values.set(tileName(v, b), { ...mv, type: { dtype: mv.type.dtype, shape }, layout: singleCoreLayout(0, 0, shape) });
      if (t) out.constants.set(tileName(v, b), new Tensor(t.dtype, shape, t.data.slice(b * n, (b + 1) * n)));
    }
    const src = plan.how.get(v);
    if ((src === 'op' || src === 'input') && !whole.has(v)) out.values.delete(v);
  }
  const done = new Set<string>();
  const zero = { axis: { kind: 'int' as const, value: 0 } };
  mesh.ops.forEach((op, i) => {
    const k = plan.opK.get(i);
    const rule = k === undefined ? undefined : pieceRule(mesh, op, k)!;
    // Pieces cut on the value's core, or the whole gathered for a whole read.
    op.inputs.forEach((v, j) => {
      const src = plan.how.get(v);
      if (done.has(v) || !src) return;
      if (src === 'split' && rule?.roles[j] === 'split') {
        out.ops.push({ name: `${v}#split`, kernel: 'call', op: 'Split', domain: '', attrs: zero, inputs: [v], outputs: pieces(v), region: op.region, params: {} });
        done.add(v);
      } else if ((src === 'op' || src === 'input') && whole.has(v) && rule?.roles[j] !== 'split') {
        out.ops.push({ name: `${v}#concat`, kernel: 'call', op: 'Concat', domain: '', attrs: zero, inputs: pieces(v), outputs: [v], region: op.region, params: {} });
        done.add(v);
      }
    });
    if (k === undefined || !rule) {
      out.ops.push(op);
      return;
    }
    const o = op.outputs[0];
    let shapeConst: string | undefined;
    if (rule.reshape) {
      shapeConst = `${o}#shape`;
      const shape = pieceShape(o, k);
      out.constants.set(shapeConst, Tensor.from('int64', [shape.length], shape));
      out.values.set(shapeConst, { type: { dtype: 'int64', shape: [shape.length] }, mem: 'i32', layout: singleCoreLayout(0, 0, [shape.length]) });
    }
    for (let b = 0; b < k; b++) {
      const ins = rule.reshape ? [tileName(op.inputs[0], b), shapeConst!]
        : op.inputs.map((v, j) => (rule.roles[j] === 'split' ? tileName(v, b) : v));
      out.ops.push({
        ...op, name: tileName(op.name, b), ...(rule.reshape ? { op: 'Reshape', attrs: {} } : {}), inputs: ins, outputs: [tileName(o, b)],
        params: { ...op.params, pin: base + b, tiles: k },
      });
    }
  });
  const expand = (list: string[], src: Source) => list.flatMap((v) => (plan.how.get(v) === src && !whole.has(v) ? pieces(v) : [v]));
  out.inputs = expand(mesh.inputs, 'input');
  out.outputs = expand(mesh.outputs, 'op');
  return out;
}
