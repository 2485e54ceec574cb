/**
 * sink-expand: Expands pushed through elementwise ops into broadcasting — the LLaMA attention-mask
 * pattern in miniature (bit-identical reference evaluation before/after), Expands that must stay
 * (graph outputs, non-elementwise readers) or be re-materialised, and the LLaMA layer itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateGraph } from '../ir/evaluate.js';
import { cloneGraph, emptyGraph, type Attrs, type Graph } from '../ir/graph.js';
import { mulberry32 } from '../ir/random.js';
import { Tensor, tensorsIdentical } from '../ir/tensor.js';
import { verifyGraph } from '../ir/verify.js';
import { runPasses } from '../compiler/pass-manager.js';
import { GRAPH_PASSES } from '../compiler/pipeline.js';
import { inferGraphShapes } from '../compiler/passes/infer-shapes.js';
import { eliminateDeadCode } from '../compiler/passes/simplify.js';
import { sinkExpand } from '../compiler/passes/sink-expand.js';
import { importOnnx } from '../compiler/frontend/onnx/index.js';
import { nodeHost } from '../compiler/host.js';

function graph(build: (b: {
  input: (name: string, shape: number[]) => void;
  constant: (name: string, t: Tensor) => void;
  node: (op: string, inputs: string[], outputs: string[], attrs?: Attrs) => void;
  output: (...names: string[]) => void;
}) => void): Graph {
  const g = emptyGraph('test', 18);
  build({
    input: (name, shape) => {
      g.inputs.push(name);
      g.types.set(name, { dtype: 'float32', shape });
    },
    constant: (name, t) => {
      g.constants.set(name, t);
      g.types.set(name, { dtype: t.dtype, shape: [...t.shape] });
    },
    node: (op, inputs, outputs, attrs = {}) => {
      g.nodes.push({ op, domain: '', name: outputs[0], inputs, outputs, attrs });
      for (const o of outputs) g.types.set(o, undefined);
    },
    output: (...names) => g.outputs.push(...names),
  });
  return inferGraphShapes(g);
}

const i64 = (values: number[]) => Tensor.from('int64', [values.length], values);
const f32 = (shape: number[], values: number[]) => Tensor.from('float32', shape, values);
const toBool = { to: { kind: 'int', value: 9 } } as const;
const shapeOf = (g: Graph, v: string) => g.types.get(v)?.shape;
const ops = (g: Graph) => g.nodes.map((n) => n.op);

/** Random inputs: values in {0, 1} for inputs named mask* (and the LLaMA layer's mask input14), else uniform in [-2, 2). */
function randomInputs(g: Graph, seed: number): Map<string, Tensor> {
  const r = mulberry32(seed);
  return new Map(g.inputs.map((name) => {
    const shape = g.types.get(name)!.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () => (name.startsWith('mask') || name === 'input14' ? (r() < 0.3 ? 0 : 1) : r() * 4 - 2));
    return [name, f32(shape, values)];
  }));
}

/** Every graph output bit-identical before and after, on a few random inputs. */
function expectSameOutputs(before: Graph, after: Graph): void {
  expect(after.outputs).toEqual(before.outputs);
  for (const name of before.outputs) expect(after.types.get(name)).toEqual(before.types.get(name));
  for (const seed of [1, 2, 3]) {
    const inputs = randomInputs(before, seed);
    const a = evaluateGraph(before, inputs);
    const b = evaluateGraph(after, inputs);
    for (const name of before.outputs) expect(tensorsIdentical(a.get(name)!, b.get(name)!), `output ${name}, seed ${seed}`).toBe(true);
  }
}

/** The LLaMA attention mask: Expand(Unsqueeze(Unsqueeze(mask))) → Sub(1, ·) → Cast → Where → Cast → Where(causal) → Add(scores). */
function llamaMask(): Graph {
  return graph((b) => {
    b.input('mask', [2, 8]);
    b.input('scores', [2, 2, 8, 8]);
    b.constant('ax1', i64([1]));
    b.constant('ax2', i64([2]));
    b.constant('full', i64([2, 1, 8, 8]));
    b.constant('one', f32([], [1]));
    b.constant('big', f32([1], [-3.4028234663852886e38]));
    // causal mask already expanded to [2,1,8,8] (a folded constant in the real model)
    b.constant('causal', f32([2, 1, 8, 8], Array.from({ length: 128 }, (_, i) => ((i % 8) > ((i >> 3) % 8) ? -3.4028234663852886e38 : 0))));
    b.node('Unsqueeze', ['mask', 'ax1'], ['u1']);
    b.node('Unsqueeze', ['u1', 'ax2'], ['u2']);
    b.node('Expand', ['u2', 'full'], ['e']);
    b.node('Sub', ['one', 'e'], ['rsub']);
    b.node('Cast', ['rsub'], ['c1'], toBool);
    b.node('Where', ['c1', 'big', 'rsub'], ['w1']);
    b.node('Cast', ['w1'], ['c2'], toBool);
    b.node('Where', ['c2', 'big', 'causal'], ['w2']);
    b.node('Add', ['scores', 'w2'], ['y']);
    b.output('y');
  });
}

describe('sink-expand', () => {
  it('is registered right after simplify', () => {
    const ids = GRAPH_PASSES.map((p) => p.id);
    expect(ids.indexOf('sink-expand')).toBe(ids.indexOf('simplify') + 1);
  });

  it('sinks the LLaMA mask Expand into broadcasting: no expanded tensor is materialised, outputs bit-identical', () => {
    const before = llamaMask();
    const after = sinkExpand(before);
    expect(verifyGraph(after)).toEqual([]);
    expect(ops(after)).toEqual(['Unsqueeze', 'Unsqueeze', 'Sub', 'Cast', 'Where', 'Cast', 'Where', 'Add']);
    const sub = after.nodes.find((n) => n.op === 'Sub')!;
    expect(sub.inputs).toEqual(['one', 'u2']);
    expect(shapeOf(after, sub.outputs[0])).toEqual([2, 1, 1, 8]);
    const [w1, w2] = after.nodes.filter((n) => n.op === 'Where');
    expect(shapeOf(after, w1.outputs[0])).toEqual([2, 1, 1, 8]);
    expect(w2.outputs).toEqual(['w2']); // absorbed by the causal operand: the old name and shape
    expect(shapeOf(after, 'w2')).toEqual([2, 1, 8, 8]);
    expect(after.constants.has('full')).toBe(false); // the dead Expand's shape is gone too
    expectSameOutputs(before, after);
    expect(sinkExpand(after)).toEqual(after); // a fixed point
  });

  it('keeps an Expand that is a graph output, and one read by a non-elementwise op', () => {
    const before = graph((b) => {
      b.input('x', [3, 1]);
      b.constant('s', i64([3, 4]));
      b.node('Expand', ['x', 's'], ['e']);
      b.node('Relu', ['e'], ['r']);
      b.node('Expand', ['x', 's'], ['f']);
      b.node('Softmax', ['f'], ['m']);
      b.output('e', 'r', 'm');
    });
    const after = sinkExpand(before);
    expect(after).toEqual(before);
    expectSameOutputs(before, after);
  });

  it('re-materialises the Expand where the shape is needed, keeping output names, shapes and values', () => {
    const before = graph((b) => {
      b.input('x', [3, 1]);
      b.input('y', [2, 1, 1]);
      b.input('w', [4, 2]);
      b.constant('s', i64([1, 1, 4])); // Expand's output is broadcast([3,1], [1,1,4]) = [1,3,4], larger than s
      b.node('Expand', ['x', 's'], ['e']);
      b.node('Neg', ['e'], ['n']); // a graph output: re-materialised under its name, not sunk further
      b.node('Exp', ['n'], ['nx']);
      b.node('Add', ['e', 'y'], ['a']); // [2,3,1] after the sink, expanded to [2,3,4]
      b.node('Tanh', ['a'], ['t']);
      b.node('MatMul', ['t', 'w'], ['z']); // not elementwise: reads the re-materialised [2,3,4]
      b.output('n', 'nx', 'z');
    });
    const after = sinkExpand(before);
    expect(verifyGraph(after)).toEqual([]);
    expect(ops(after)).toEqual(['Neg', 'Expand', 'Exp', 'Add', 'Tanh', 'Expand', 'MatMul']);
    expect(after.nodes[0].inputs).toEqual(['x']);
    expect(shapeOf(after, after.nodes[0].outputs[0])).toEqual([3, 1]);
    expect(after.nodes[1].outputs).toEqual(['n']);
    expect(shapeOf(after, 'n')).toEqual([1, 3, 4]);
    expect(after.nodes[2].inputs).toEqual(['n']); // reads a graph output: left alone
    expect(after.nodes[3].inputs).toEqual(['x', 'y']);
    expect(shapeOf(after, after.nodes[4].outputs[0])).toEqual([2, 3, 1]);
    expect(after.nodes[5].outputs).toEqual(['t']);
    expect(shapeOf(after, 't')).toEqual([2, 3, 4]);
    expectSameOutputs(before, after);
  });

  it('sinks through every operand of a variadic op and a double Expand', () => {
    const before = graph((b) => {
      b.input('x', [4]);
      b.input('mask', [2, 1]);
      b.constant('s1', i64([2, 4]));
      b.constant('s2', i64([3, 2, 4]));
      b.node('Expand', ['x', 's1'], ['e1']);
      b.node('Expand', ['e1', 's2'], ['e2']);
      b.node('Expand', ['mask', 's1'], ['m']);
      b.node('Max', ['e2', 'm', 'e1'], ['y']);
      b.output('y');
    });
    const after = sinkExpand(before);
    expect(verifyGraph(after)).toEqual([]);
    expect(ops(after)).toEqual(['Max', 'Expand']);
    expect(after.nodes[0].inputs).toEqual(['x', 'mask', 'x']);
    expect(shapeOf(after, after.nodes[0].outputs[0])).toEqual([2, 4]);
    expectSameOutputs(before, after);
  });
});

const LLAMA = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../shared/corpus/models/ut_xoptim__noopt-llama-custom__0/model.onnx');

describe.skipIf(!existsSync(LLAMA))('sink-expand on the LLaMA layer', () => {
  it('leaves the attention-mask chain at [2,1,1,1024] until the causal mask absorbs it', () => {
    const imported = importOnnx(readFileSync(LLAMA), { modelPath: LLAMA, host: nodeHost });
    const simplified = runPasses(imported, GRAPH_PASSES.filter((p) => p.id !== 'sink-expand'));
    const after = sinkExpand(simplified);
    expect(verifyGraph(after)).toEqual([]);
    expect(simplified.nodes.filter((n) => n.op === 'Expand')).toHaveLength(1);
    expect(after.nodes.filter((n) => n.op === 'Expand')).toHaveLength(0);
    for (const op of ['rsub_Scalar', '_to_copy', 'masked_fill_Scalar2', '_to_copy2']) {
      const n = after.nodes.find((m) => m.name === op)!;
      expect(shapeOf(after, n.outputs[0]), op).toEqual([2, 1, 1, 1024]);
    }
    // the last Where meets the (folded, already expanded) causal mask; the scores Add is unchanged
    const where = after.nodes.find((m) => m.name === 'masked_fill_Scalar3')!;
    expect(shapeOf(after, where.outputs[0])).toEqual([2, 1, 1024, 1024]);
    const add = after.nodes.find((m) => m.name === 'add_Tensor5')!;
    expect(add.inputs[1]).toBe(where.outputs[0]);
    expect(after.outputs).toEqual(simplified.outputs);
    expect(after.nodes.length).toBe(simplified.nodes.length - 1);
    // the mask chain alone (the whole layer's evaluation is the models test's) is bit-identical
    const maskOnly = (g: Graph) => {
      const c = eliminateDeadCode({ ...cloneGraph(g), outputs: ['_onx_where03'] });
      return { ...c, inputs: c.inputs.filter((v) => c.nodes.some((n) => n.inputs.includes(v))) };
    };
    const [b, a] = [maskOnly(simplified), maskOnly(after)];
    expect(b.inputs).toEqual(['input14']);
    expect(a.nodes.length).toBe(b.nodes.length - 1);
    expectSameOutputs(b, a);
  }, 120_000);
});
