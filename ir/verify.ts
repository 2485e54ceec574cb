/**
 * The graph IR verifier: checks the invariants every pass may rely on and every pass must keep
 * (the pass manager runs it after each pass). Reads a graph, changes nothing.
 *
 * Checks, all reported at once as W2005 diagnostics located at `node 'X'` or `value '%y'`:
 * - SSA: each value is defined once, by a graph input, a constant or a node output (an input that
 *   is also a constant is an input with a default value, as ONNX initializers allow); names are
 *   non-empty and node names unique;
 * - every value a node reads is defined, and defined before the node (nodes in topological order);
 *   graph outputs are defined; the node graph is acyclic (a cycle is named by its nodes);
 * - `types`: every defined value has an entry and no entry names an undefined value; dims are
 *   non-negative integers or non-empty symbols; constants' declared types equal their tensors';
 * - ops: each node's op is registered, int attributes hold integers, and when all its present inputs have static types, the op's
 *   `infer` (given constant inputs' values) accepts them and agrees with the recorded output types.
 */
import * as graphlib from '@dagrejs/graphlib';
import { DTYPES, allocData } from './dtype.js';
import { DiagnosticError, type Diagnostic } from './diagnostics.js';
import { isStatic, typeToString, type Graph, type Node, type StaticType, type TensorType } from './graph.js';
import { getOp, OpError, type InferInput } from './ops/index.js';

const KNOWN_DTYPES = new Set<string>(DTYPES);

/** Where a value is defined, for messages. */
type Def = { by: 'input' } | { by: 'constant' } | { by: 'node'; node: Node; index: number };

const valueAt = (v: string): string => `value '%${v}'`;
const nodeAt = (n: Node): string => `node '${n.name}'`;
const defText = (d: Def): string => (d.by === 'node' ? `node '${d.node.name}'` : d.by === 'input' ? 'a graph input' : 'a constant');

/** All problems of `g`; empty when it is well-formed. */
export function verifyGraph(g: Graph): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (message: string, location: string, hint?: string): void => {
    out.push({ code: 'W2005', message, location, hint });
  };
  const defs = collectDefinitions(g, report);
  checkUses(g, defs, report);
  checkCycles(g, defs, report);
  checkTypes(g, defs, report);
  checkOps(g, report);
  return out;
}

/** Throws DiagnosticError with every problem of `g`, if it has any. */
export function assertVerified(g: Graph): void {
  const problems = verifyGraph(g);
  if (problems.length) throw new DiagnosticError(problems);
}

type Report = (message: string, location: string, hint?: string) => void;

function collectDefinitions(g: Graph, report: Report): Map<string, Def[]> {
  const defs = new Map<string, Def[]>();
  const add = (v: string, d: Def): void => {
    const list = defs.get(v);
    if (list) list.push(d);
    else defs.set(v, [d]);
  };
  for (const v of g.inputs) {
    if (v === '') report('a graph input has an empty name', 'graph inputs', "'' marks an omitted node input; give the input a name");
    add(v, { by: 'input' });
  }
  for (const v of g.constants.keys()) add(v, { by: 'constant' });
  const nodeNames = new Set<string>();
  g.nodes.forEach((node, index) => {
    if (node.name === '') report(`a ${node.op} node has no name`, `node ${index}`, 'node names locate diagnostics; give every node a unique name');
    else if (nodeNames.has(node.name)) report(`node name '${node.name}' is used by more than one node`, nodeAt(node), 'node names must be unique within a graph');
    nodeNames.add(node.name);
    for (const o of node.outputs) if (o) add(o, { by: 'node', node, index });
  });
  for (const [v, list] of defs) {
    // an input with a default value (ONNX initializer) is the one allowed double definition
    const isDefaulted = list.length === 2 && list[0].by === 'input' && list[1].by === 'constant';
    if (list.length > 1 && !isDefaulted) {
      const last = list[list.length - 1];
      report(
        `value '%${v}' is defined ${list.length} times (by ${list.map(defText).join(', ')})`,
        last.by === 'node' ? nodeAt(last.node) : valueAt(v),
        'each value is defined exactly once (SSA); rename one of the definitions',
      );
    }
  }
  return defs;
}

function checkUses(g: Graph, defs: Map<string, Def[]>, report: Report): void {
  const available = new Set<string>([...g.inputs, ...g.constants.keys()]);
  g.nodes.forEach((node) => {
    for (const v of node.inputs) {
      if (!v || available.has(v)) continue;
      const later = defs.get(v)?.find((d) => d.by === 'node');
      if (later && later.by === 'node') {
        report(`node reads '%${v}' before node '${later.node.name}' defines it`, nodeAt(node), 'nodes must be in topological order');
      } else {
        report(`node reads '%${v}', which nothing defines`, nodeAt(node), 'define the value, or use _ for an omitted optional input');
      }
    }
    for (const o of node.outputs) if (o) available.add(o);
  });
  for (const v of g.outputs) {
    if (!defs.has(v)) report(`graph output '%${v}' is not defined`, valueAt(v), 'an output must name an input, a constant or a node result');
  }
}

/**
 * Finds cycles among nodes (edge: producer → consumer). Kahn-style peeling first drops every node
 * that cannot be on a cycle, because graphlib's cycle search recurses once per node in a path and
 * would overflow the stack on deep models; graphlib then names the cycles in what remains.
 */
function checkCycles(g: Graph, defs: Map<string, Def[]>, report: Report): void {
  const n = g.nodes.length;
  const succ: number[][] = g.nodes.map(() => []);
  const indeg = new Array<number>(n).fill(0);
  g.nodes.forEach((node, j) => {
    for (const v of new Set(node.inputs)) {
      const list = (v && defs.get(v)) || [];
      if (list.some((d) => d.by !== 'node')) continue; // an input or constant already provides it
      for (const d of list) {
        if (d.by !== 'node') continue;
        succ[d.index].push(j);
        indeg[j]++;
      }
    }
  });
  const pred: number[][] = g.nodes.map(() => []);
  succ.forEach((list, i) => list.forEach((j) => pred[j].push(i)));
  const removed = new Array<boolean>(n).fill(false);
  const peel = (deg: number[], next: number[][]): void => {
    const queue: number[] = [];
    for (let i = 0; i < n; i++) if (!removed[i] && deg[i] === 0) queue.push(i);
    while (queue.length) {
      const i = queue.pop() as number;
      if (removed[i]) continue;
      removed[i] = true;
      for (const j of next[i]) if (!removed[j] && --deg[j] === 0) queue.push(j);
    }
  };
  peel(indeg, succ); // sources first ...
  const outLeft = succ.map((list, i) => (removed[i] ? 0 : list.filter((j) => !removed[j]).length));
  peel(outLeft, pred); // ... then sinks: what is left lies on or between cycles
  const core = new graphlib.Graph();
  for (let i = 0; i < n; i++) if (!removed[i]) core.setNode(String(i));
  for (let i = 0; i < n; i++) if (!removed[i]) for (const j of succ[i]) if (!removed[j]) core.setEdge(String(i), String(j));
  if (core.nodeCount() === 0) return;
  let cycles: string[][];
  try {
    cycles = graphlib.alg.findCycles(core);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    cycles = [walkToCycle(succ, removed)]; // a cycle too long for graphlib's recursion
  }
  for (const cycle of cycles) {
    const members = cycle.map(Number).sort((a, b) => a - b).map((i) => g.nodes[i]);
    const names = members.slice(0, 8).map((m) => `'${m.name}'`).join(', ') + (members.length > 8 ? ', ...' : '');
    report(`nodes ${names} form a cycle`, nodeAt(members[0]), 'a graph is a DAG; break the cycle');
  }
}

/** One cycle found by walking successors from a node left after peeling (each has one left). */
function walkToCycle(succ: number[][], removed: boolean[]): string[] {
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  let i = removed.indexOf(false);
  while (!seenAt.has(i)) {
    seenAt.set(i, path.length);
    path.push(i);
    i = succ[i].find((j) => !removed[j]) as number;
  }
  return path.slice(seenAt.get(i)).map(String);
}

function checkTypes(g: Graph, defs: Map<string, Def[]>, report: Report): void {
  for (const v of defs.keys()) {
    if (!g.types.has(v)) report(`value '%${v}' has no entry in the graph's types`, valueAt(v), 'set g.types (undefined when not inferred yet)');
  }
  for (const [v, t] of g.types) {
    if (!defs.has(v)) {
      report(`value '%${v}' has a type but nothing defines it`, valueAt(v), 'delete the types entry together with its definition');
    }
    if (t) checkType(t, `value '%${v}'`, report);
  }
  for (const [v, c] of g.constants) {
    const storage = allocData(c.dtype, 0).constructor;
    if (c.data.constructor !== storage || !c.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      report(`constant '%${v}' (${c.dtype}[${c.shape.join(',')}]) breaks the storage rule of dtype.ts`, valueAt(v), 'create tensor data with allocData(dtype, n) and a non-negative integer shape');
    }
    const declared = g.types.get(v);
    const own: TensorType = { dtype: c.dtype, shape: [...c.shape] };
    if (declared && !sameType(declared, own, false)) {
      report(`constant '%${v}' is declared ${typeToString(declared)} but holds ${typeToString(own)}`, valueAt(v), "a constant's type is its tensor's type");
    }
  }
}

function checkType(t: TensorType, where: string, report: Report): void {
  if (!KNOWN_DTYPES.has(t.dtype)) report(`unknown element type '${String(t.dtype)}'`, where);
  for (const d of t.shape) {
    const ok = typeof d === 'number' ? Number.isSafeInteger(d) && d >= 0 : typeof d === 'string' && d !== '';
    if (!ok) report(`invalid dim ${JSON.stringify(d)} in type ${typeToString(t)}`, where, 'dims are non-negative integers or non-empty symbols');
  }
}

/** Same dtype and rank, and equal dims; with `symbolsMatch`, a symbolic dim in `a` matches any dim. */
function sameType(a: TensorType, b: TensorType, symbolsMatch: boolean): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length) return false;
  return a.shape.every((d, i) => d === b.shape[i] || (symbolsMatch && typeof d === 'string'));
}

function checkOps(g: Graph, report: Report): void {
  const unregistered = new Map<string, Node[]>();
  for (const node of g.nodes) {
    const def = getOp(node.op, node.domain);
    if (!def) {
      const key = node.domain ? `${node.domain}:${node.op}` : node.op;
      const list = unregistered.get(key);
      if (list) list.push(node);
      else unregistered.set(key, [node]);
      continue;
    }
    for (const [name, a] of Object.entries(node.attrs)) {
      const ints = a.kind === 'int' ? [a.value] : a.kind === 'ints' ? a.value : [];
      if (!ints.every((x) => Number.isInteger(x))) {
        report(`attribute '${name}' of kind ${a.kind} holds a non-integer`, nodeAt(node), 'use kind float(s) for fractional values');
      }
    }
    const inputs: (InferInput | undefined)[] = [];
    let allStatic = true;
    for (const v of node.inputs) {
      const t = v ? g.types.get(v) : undefined;
      if (!v) inputs.push(undefined);
      else if (isStatic(t)) inputs.push({ type: t, value: g.constants.get(v) });
      else allStatic = false;
    }
    if (!allStatic) continue;
    let inferred: StaticType[];
    try {
      inferred = def.infer(inputs, node.attrs, { name: node.name, opset: g.opset, numOutputs: node.outputs.length });
    } catch (e) {
      // W2003 (shape depends on a value that is not constant here) means "cannot check", not "wrong"
      if (e instanceof OpError && e.code !== 'W2003') {
        report(`${node.op}: ${e.message} [${e.code}]`, nodeAt(node), e.hint ?? "the inputs' types or the attributes break the op's rule");
      }
      else if (e instanceof RangeError) report(`${node.op}: ${e.message}`, nodeAt(node), 'a tensor is too large');
      else if (!(e instanceof OpError)) throw e;
      continue;
    }
    node.outputs.forEach((o, k) => {
      const recorded = o ? g.types.get(o) : undefined;
      if (!recorded) return;
      const want = inferred[k];
      if (!want) {
        report(`${node.op} infers no type for output ${k} ('%${o}')`, nodeAt(node));
      } else if (!sameType(recorded, want, true)) {
        report(
          `${node.op}: output '%${o}' is recorded as ${typeToString(recorded)} but its inputs give ${typeToString(want)}`,
          nodeAt(node),
          'run infer-shapes again, or fix the pass that recorded this type',
        );
      }
    });
  }
  for (const [op, nodes] of unregistered) {
    const names = nodes.slice(0, 5).map((n) => `'${n.name}'`).join(', ') + (nodes.length > 5 ? ', ...' : '');
    report(`op ${op} is not registered (used by ${nodes.length} node${nodes.length > 1 ? 's' : ''}: ${names})`, nodeAt(nodes[0]), 'supported ops are listed by supportedOps() in ir/ops/index.ts');
  }
}
