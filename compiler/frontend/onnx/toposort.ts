/**
 * Stable topological order of nodes: ONNX requires nodes in topological order, but files written
 * out of order are accepted and sorted; among ready nodes the one earlier in the file goes first, so
 * an already ordered graph keeps its order. A real cycle is W1008 naming the nodes on it.
 */
import { diag } from '../../../ir/diagnostics.js';
import type { Node } from '../../../ir/graph.js';

/** `available`: values defined outside the nodes (graph inputs, constants). */
export function topoSort(nodes: readonly Node[], available: ReadonlySet<string>): Node[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const deps: number[][] = nodes.map((n) => {
    const set = new Set<number>();
    for (const v of n.inputs) {
      if (!v || available.has(v)) continue;
      const p = producer.get(v);
      if (p !== undefined) set.add(p);
    }
    return [...set];
  });
  const users: number[][] = nodes.map(() => []);
  const indeg = deps.map((d, i) => {
    for (const p of d) users[p].push(i);
    return d.length;
  });
  const heap = new MinHeap();
  indeg.forEach((d, i) => d === 0 && heap.push(i));
  const out: Node[] = [];
  while (heap.size > 0) {
    const i = heap.pop();
    out.push(nodes[i]);
    for (const u of users[i]) if (--indeg[u] === 0) heap.push(u);
  }
  if (out.length === nodes.length) return out;
  throw cycleError(nodes, deps, indeg);
}

function cycleError(nodes: readonly Node[], deps: number[][], indeg: number[]): Error {
  // Walk unresolved dependencies from the first stuck node until a node repeats: that is a cycle.
  let i = indeg.findIndex((d) => d > 0);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  while (!seenAt.has(i)) {
    seenAt.set(i, path.length);
    path.push(i);
    i = deps[i].find((p) => indeg[p] > 0) ?? i;
  }
  const cycle = path.slice(seenAt.get(i)).reverse();
  const names = [...cycle, cycle[0]].map((k) => nodes[k].name);
  return diag('W1008', `the graph has a cycle: ${names.join(' -> ')}`, nodes[cycle[0]].name, 'a node depends on its own output; the file is malformed');
}

/** Binary min-heap of node indices. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  push(x: number): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= x) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop() as number;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l;
        if (a[c] >= last) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}
