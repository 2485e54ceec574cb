/**
 * Graph passes: infer-shapes, fold-constants, simplify, and the pass manager — input and expected
 * output side by side.
 */
import { describe, expect, it } from 'vitest';
import { DiagnosticError } from '../ir/diagnostics.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { emptyGraph, type Attrs, type Graph } from '../ir/graph.js';
import { Tensor } from '../ir/tensor.js';
import { verifyGraph } from '../ir/verify.js';
import { runPasses } from '../compiler/pass-manager.js';
import { GRAPH_PASSES } from '../compiler/pipeline.js';
import { inferGraphShapes } from '../compiler/passes/infer-shapes.js';
import { foldConstants } from '../compiler/passes/fold-constants.js';
import { simplify } from '../compiler/passes/simplify.js';

/** A small builder: inputs, constants and nodes in order. */
function graph(build: (b: {
  input: (name: string, shape: (number | string)[], dtype?: 'float32' | 'int64') => void;
  constant: (name: string, t: Tensor) => void;
  node: (op: string, inputs: string[], outputs: string[], attrs?: Attrs) => void;
  output: (...names: string[]) => void;
}) => void): Graph {
  const g = emptyGraph('test', 18);
  let k = 0;
  build({
    input: (name, shape, dtype = 'float32') => {
      g.inputs.push(name);
      g.types.set(name, { dtype, shape });
    },
    constant: (name, t) => {
      g.constants.set(name, t);
      g.types.set(name, { dtype: t.dtype, shape: [...t.shape] });
    },
    node: (op, inputs, outputs, attrs = {}) => {
      g.nodes.push({ op, domain: '', name: `${op}_${k++}`, inputs, outputs, attrs });
      for (const o of outputs) g.types.set(o, undefined);
    },
    output: (...names) => g.outputs.push(...names),
  });
  return g;
}

const ctx = { maxFoldElements: 1 << 24 };
const i64 = (values: number[], shape = [values.length]) => Tensor.from('int64', shape, values);
const seq = (shape: number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.from('float32', shape, Array.from({ length: n }, (_, i) => (i % 7) - 3));
};

function shapeChain(): Graph {
  return graph((b) => {
    b.input('x', ['batch', 3, 4]);
    b.constant('zero', i64([0], []));
    b.constant('axes0', i64([0]));
    b.constant('minus1', i64([-1]));
    b.node('Shape', ['x'], ['s']);
    b.node('Gather', ['s', 'zero'], ['d0'], { axis: { kind: 'int', value: 0 } });
    b.node('Unsqueeze', ['d0', 'axes0'], ['u']);
    b.node('Concat', ['u', 'minus1'], ['c'], { axis: { kind: 'int', value: 0 } });
    b.node('Reshape', ['x', 'c'], ['y']);
    b.output('y');
  });
}

describe('infer-shapes', () => {
  it('infers through a data-dependent Reshape once dims are bound', () => {
    const g = shapeChain();
    g.types.set('x', { dtype: 'float32', shape: [2, 3, 4] });
    const out = inferGraphShapes(g);
    expect(out.types.get('s')).toEqual({ dtype: 'int64', shape: [3] });
    expect(out.types.get('c')).toEqual({ dtype: 'int64', shape: [2] });
    expect(out.types.get('y')).toEqual({ dtype: 'float32', shape: [2, 12] });
    expect(g.types.get('y')).toBeUndefined(); // the input graph is not mutated
  });

  it('refuses symbolic input dims with W2006 naming the dim and the flag', () => {
    try {
      inferGraphShapes(shapeChain());
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DiagnosticError);
      const d = (e as DiagnosticError).diagnostics[0];
      expect(d.code).toBe('W2006');
      expect(d.message).toContain('batch');
      expect(d.hint).toContain('--dim batch=N');
    }
  });

  it('reports an op rule violation at the node', () => {
    const g = graph((b) => {
      b.input('a', [2, 3]);
      b.input('b', [4, 5]);
      b.node('MatMul', ['a', 'b'], ['c']);
      b.output('c');
    });
    expect(() => inferGraphShapes(g)).toThrowError(/MatMul_0/);
  });
});

describe('fold-constants', () => {
  it('collapses Shape→Gather→Unsqueeze→Concat→Reshape to a constant shape', () => {
    const g = shapeChain();
    g.types.set('x', { dtype: 'float32', shape: [2, 3, 4] });
    const out = foldConstants(inferGraphShapes(g), ctx);
    expect(out.nodes.map((n) => n.op)).toEqual(['Reshape']);
    expect(out.constants.get('c')?.toArray()).toEqual([2, -1]);
    expect(out.types.get('y')).toEqual({ dtype: 'float32', shape: [2, 12] });
  });

  it('does not fold past the size limit', () => {
    const g = graph((b) => {
      b.constant('shape', i64([64, 64]));
      b.node('ConstantOfShape', ['shape'], ['big']);
      b.output('big');
    });
    const typed = inferGraphShapes(g);
    expect(foldConstants(typed, { maxFoldElements: 100 }).nodes).toHaveLength(1);
    expect(foldConstants(typed, { maxFoldElements: 4096 }).nodes).toHaveLength(0);
  });
});

describe('simplify', () => {
  it('removes Identity, inference Dropout, no-op Cast and Reshape, keeping output names', () => {
    const g = graph((b) => {
      b.input('x', [2, 3]);
      b.constant('same', i64([2, 3]));
      b.node('Relu', ['x'], ['r']);
      b.node('Identity', ['r'], ['i']);
      b.node('Dropout', ['i'], ['d']);
      b.node('Cast', ['d'], ['c'], { to: { kind: 'int', value: 1 } });
      b.node('Reshape', ['c', 'same'], ['y']);
      b.output('y');
    });
    const out = simplify(inferGraphShapes(g));
    expect(out.nodes.map((n) => `${n.op}(${n.inputs.join(',')})->${n.outputs.join(',')}`)).toEqual(['Relu(x)->y']);
    expect(out.constants.has('same')).toBe(false); // dead constant removed
    const x = seq([2, 3]);
    expect(evaluateGraph(out, new Map([['x', x]])).get('y')?.toArray()).toEqual([0, 0, 0, 0, 1, 2]);
  });

  it('removes a Slice of the whole tensor, keeps a reversing one, and turns an arange Gather into a Reshape', () => {
    const g = graph((b) => {
      b.input('x', [4, 3]);
      b.constant('s0', i64([0]));
      b.constant('big', i64([9223372036854775807]));
      b.constant('ax0', i64([0]));
      b.constant('neg', i64([-1]));
      b.constant('top', i64([-1]));
      b.constant('bottom', i64([-9223372036854775807]));
      b.constant('ar', Tensor.from('int64', [1, 4], [0, 1, 2, 3]));
      b.constant('perm', Tensor.from('int64', [4], [1, 0, 2, 3]));
      b.node('Slice', ['x', 's0', 'big', 'ax0'], ['full']);
      b.node('Slice', ['full', 'top', 'bottom', 'ax0', 'neg'], ['rev']);
      b.node('Gather', ['rev', 'ar'], ['g'], { axis: { kind: 'int', value: 0 } });
      b.node('Gather', ['g', 'perm'], ['y'], { axis: { kind: 'int', value: 1 } });
      b.output('y');
    });
    const before = inferGraphShapes(g);
    const out = simplify(before);
    expect(out.nodes.map((n) => n.op)).toEqual(['Slice', 'Reshape', 'Gather']);
    expect(out.nodes[0].inputs[0]).toBe('x');
    const x = seq([4, 3]);
    expect(evaluateGraph(out, new Map([['x', x]])).get('y')?.toArray()).toEqual(evaluateGraph(before, new Map([['x', x]])).get('y')?.toArray());
    expect(verifyGraph(out)).toEqual([]);
  });

  it('removes a Dropout with an unused mask (even in training mode) and its mask type', () => {
    const g = graph((b) => {
      b.input('x', [2, 3]);
      b.constant('ratio', Tensor.scalar('float32', 0.1));
      b.constant('training', Tensor.scalar('bool', 1));
      b.node('Relu', ['x'], ['r']);
      b.node('Dropout', ['r', 'ratio', 'training'], ['y', 'mask']);
      b.output('y');
    });
    const out = simplify(inferGraphShapes(g));
    expect(out.nodes.map((n) => n.op)).toEqual(['Relu']);
    expect(out.types.has('mask')).toBe(false);
    expect(verifyGraph(out)).toEqual([]);
  });

  it('keeps a copy when a graph output would alias a graph input', () => {
    const g = graph((b) => {
      b.input('x', [2]);
      b.node('Identity', ['x'], ['y']);
      b.output('y');
    });
    expect(simplify(inferGraphShapes(g)).nodes.map((n) => n.op)).toEqual(['Identity']);
  });

  it('keeps Cast that changes dtype and removes unused branches', () => {
    const g = graph((b) => {
      b.input('x', [3]);
      b.node('Cast', ['x'], ['y'], { to: { kind: 'int', value: 7 } });
      b.node('Neg', ['x'], ['unused']);
      b.output('y');
    });
    expect(simplify(inferGraphShapes(g)).nodes.map((n) => n.op)).toEqual(['Cast']);
  });
});

describe('pass manager', () => {
  it('runs the pipeline, verifies, and prints IR after the requested passes', () => {
    const g = shapeChain();
    g.types.set('x', { dtype: 'float32', shape: [2, 3, 4] });
    const printed: string[] = [];
    const out = runPasses(g, [...GRAPH_PASSES], { printAfter: ['fold-constants'], onIr: (id, when) => printed.push(`${when} ${id}`) });
    expect(printed).toEqual(['after fold-constants']);
    expect(out.nodes.map((n) => n.op)).toEqual(['Reshape']);
    const x = seq([2, 3, 4]);
    const before = evaluateGraph(inferGraphShapes(g), new Map([['x', x]])).get('y')!;
    const after = evaluateGraph(out, new Map([['x', x]])).get('y')!;
    expect(after.shape).toEqual([2, 12]);
    expect(after.toArray()).toEqual(before.toArray());
  });

  it('rejects an unknown pass name with W2008', () => {
    expect(() => runPasses(shapeChain(), [...GRAPH_PASSES], { printAfter: ['no-such-pass'] })).toThrowError(/W2008/);
  });
});
