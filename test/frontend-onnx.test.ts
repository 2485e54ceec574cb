/**
 * ONNX frontend: the corpus models import; small ModelProtos built with onnx-proto check each opset
 * migration, tensor decoding path, Constant form and the IR conventions. Diagnostics and external
 * data: frontend-onnx-diagnostics.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeHost } from '../compiler/host.js';
import { bindDims, bindDimsFromInputs, importOnnx, readTensorProto } from '../compiler/frontend/onnx/index.js';
import { canonicalize } from '../compiler/frontend/onnx/opset.js';
import type { Graph, Node } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { a, AT, constOf, diagsOf, f32, load, node, onnx, raw, single, values, vi, type IAttr, type IFunction, type ITensor, type ModelSpec } from './frontend-onnx-helpers.js';

// ---- the corpus ---------------------------------------------------------------------------------

/** shared/ sits beside the repository (also in CI). */
const CORPUS = new URL('../../shared/corpus/', import.meta.url).pathname;
const MODELS = join(CORPUS, 'models');
const modelDirs = existsSync(MODELS) ? readdirSync(MODELS).filter((d) => existsSync(join(MODELS, d, 'model.onnx'))) : [];

describe('corpus models', () => {
  it('finds the corpus', () => {
    expect(modelDirs.length).toBeGreaterThanOrEqual(7);
  });

  for (const d of modelDirs) {
    it(`imports ${d}`, () => {
      const path = join(MODELS, d, 'model.onnx');
      const g = importOnnx(readFileSync(path), { modelPath: path, host: nodeHost });
      expect(g.nodes.length).toBeGreaterThan(0);
      expect(g.nodes.some((n) => n.op === 'Constant')).toBe(false);
      // topological order: every read is an input, a constant or an earlier output
      const defined = new Set([...g.inputs, ...g.constants.keys()]);
      for (const n of g.nodes) {
        for (const i of n.inputs) if (i) expect(defined.has(i), `${n.name} reads ${i}`).toBe(true);
        for (const o of n.outputs) if (o) defined.add(o);
      }
      for (const o of g.outputs) expect(defined.has(o)).toBe(true);
      const names = g.nodes.map((n) => n.name);
      expect(new Set(names).size).toBe(names.length);
      for (const i of g.inputs) expect(g.types.get(i)).toBeDefined();
    });
  }

  const opCount = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;

  it('keeps op counts and opsets of real models', () => {
    const bert = importOnnx(readFileSync(join(MODELS, 'bert_toy_optimized/model.onnx')));
    expect(bert.opset).toBe(12);
    expect(opCount(bert, 'MatMul')).toBe(42);
    expect(opCount(bert, 'Gemm')).toBe(2);
    const gpt2 = importOnnx(readFileSync(join(MODELS, 'pyT_gpt2_megatron/model.onnx')));
    expect(opCount(gpt2, 'MatMul')).toBe(7);
    expect(gpt2.types.get('input_ids')).toEqual({ dtype: 'int64', shape: ['batch_size', 'seq_len'] });
  });

  it('moves ReduceMean axes of an opset-10 model into a constant input', () => {
    const g = importOnnx(readFileSync(join(MODELS, 'layernorm/model.onnx')));
    expect(g.opset).toBe(10);
    const reduces = g.nodes.filter((n) => n.op === 'ReduceMean');
    expect(reduces.length).toBe(2);
    for (const r of reduces) {
      expect(r.attrs.axes).toBeUndefined();
      expect(r.inputs[1]).toBe(`${r.name}__axes`);
      expect(constOf(g, r.inputs[1]).dtype).toBe('int64');
    }
  });

  it('binds the symbolic dims of gpt2 from its test inputs', () => {
    const dir = join(MODELS, 'pyT_gpt2_megatron');
    const g = importOnnx(readFileSync(join(dir, 'model.onnx')));
    expect(g.inputs.some((i) => g.types.get(i)!.shape.some((d) => typeof d === 'string'))).toBe(true);
    const inputs = new Map<string, Tensor>();
    const files = readdirSync(join(dir, 'test_data_set_0')).filter((f) => f.startsWith('input_'));
    for (const f of files) {
      const { name, tensor } = readTensorProto(readFileSync(join(dir, 'test_data_set_0', f)));
      inputs.set(name, tensor);
    }
    expect(inputs.size).toBe(g.inputs.length);
    const bound = bindDimsFromInputs(g, inputs);
    for (const i of bound.inputs) expect(bound.types.get(i)!.shape.every((d) => typeof d === 'number')).toBe(true);
    expect(bound.types.get('input_ids')!.shape).toEqual([...inputs.get('input_ids')!.shape]);
    // the original graph is not changed
    expect(g.types.get('input_ids')!.shape).toEqual(['batch_size', 'seq_len']);
  });

  it('names anonymous unknown dims and keeps dim_param names', () => {
    const g = importOnnx(readFileSync(join(MODELS, 'tf_fusion__attention_symbolic_batch/model.onnx')));
    const symbolic = g.inputs.flatMap((i) => g.types.get(i)!.shape.filter((d) => typeof d === 'string'));
    expect(symbolic.length).toBeGreaterThan(0);
    const anon = load({ nodes: [node('Relu', ['x'], ['y'])], inputs: [vi('x', ['', 'b', ''])] });
    expect(anon.types.get('x')!.shape).toEqual(['unk__0', 'b', 'unk__1']);
  });
});

// ---- opset migrations ---------------------------------------------------------------------------

describe('opset canonicalization', () => {
  it('Reshape-1..4 shape attribute becomes input 1', () => {
    const { n, g } = single('Reshape', [a.ints('shape', [3, 2])], 4);
    expect(n.inputs).toEqual(['x', 'n__shape']);
    expect(n.attrs.shape).toBeUndefined();
    const t = constOf(g, 'n__shape');
    expect(t.dtype).toBe('int64');
    expect(t.shape).toEqual([2]);
    expect(values(t)).toEqual([3, 2]);
    expect(g.types.get('n__shape')).toEqual({ dtype: 'int64', shape: [2] });
  });

  it('Reshape-5 is left alone', () => {
    const g = load({ opset: 5, nodes: [node('Reshape', ['x', 's'], ['y'], [], 'n')], initializers: [raw('s', 7, [1], new BigInt64Array([6n]))] });
    expect(g.nodes[0].inputs).toEqual(['x', 's']);
    expect(values(constOf(g, 's'))).toEqual([6]);
  });

  it('Split < 13 split attribute becomes input 1 and axis stays', () => {
    const g = load({ opset: 11, nodes: [node('Split', ['x'], ['y', 'z'], [a.i('axis', 1), a.ints('split', [1, 2])], 'n')], outputs: [vi('y', []), vi('z', [])] });
    expect(g.nodes[0].inputs).toEqual(['x', 'n__split']);
    expect(g.nodes[0].attrs).toEqual({ axis: { kind: 'int', value: 1 } });
    expect(values(constOf(g, 'n__split'))).toEqual([1, 2]);
    const g13 = load({ opset: 13, nodes: [node('Split', ['x'], ['y', 'z'], [a.i('axis', 1)], 'n')], outputs: [vi('y', []), vi('z', [])] });
    expect(g13.nodes[0].inputs).toEqual(['x']);
  });

  it('Slice < 10 starts/ends/axes become inputs 1..3', () => {
    const { n, g } = single('Slice', [a.ints('starts', [0, 1]), a.ints('ends', [1, 3]), a.ints('axes', [0, 1])], 9);
    expect(n.inputs).toEqual(['x', 'n__starts', 'n__ends', 'n__axes']);
    expect(n.attrs).toEqual({});
    expect(values(constOf(g, 'n__ends'))).toEqual([1, 3]);
    const noAxes = single('Slice', [a.ints('starts', [1]), a.ints('ends', [2])], 1).n;
    expect(noAxes.inputs).toEqual(['x', 'n__starts', 'n__ends']);
  });

  it('Squeeze/Unsqueeze < 13 and ReduceSum < 13 axes become input 1', () => {
    for (const op of ['Squeeze', 'Unsqueeze', 'ReduceSum']) {
      const { n, g } = single(op, [a.ints('axes', [0]), ...(op === 'ReduceSum' ? [a.i('keepdims', 0)] : [])], 12);
      expect(n.inputs, op).toEqual(['x', 'n__axes']);
      expect(n.attrs.axes).toBeUndefined();
      expect(values(constOf(g, 'n__axes'))).toEqual([0]);
      if (op === 'ReduceSum') expect(n.attrs.keepdims).toEqual({ kind: 'int', value: 0 });
    }
    // at 13 ReduceSum's axes is already an input; Squeeze without axes stays without
    expect(single('Squeeze', [], 11).n.inputs).toEqual(['x']);
  });

  it('other Reduce ops move axes before 18 only', () => {
    for (const op of ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']) {
      const { n } = single(op, [a.ints('axes', [1]), a.i('keepdims', 1)], 17);
      expect(n.inputs, op).toEqual(['x', 'n__axes']);
      expect(n.attrs, op).toEqual({ keepdims: { kind: 'int', value: 1 } });
    }
    // no axes attribute: reduce over all axes, no input added
    expect(single('ReduceMax', [a.i('keepdims', 0)], 11).n.inputs).toEqual(['x']);
  });

  it('Clip < 11 min/max become inputs of the input dtype; absent bounds stay empty', () => {
    const both = single('Clip', [a.f('min', -1), a.f('max', 2.5)], 6, ['x'], vi('x', [2], 11));
    expect(both.n.inputs).toEqual(['x', 'n__min', 'n__max']);
    expect(constOf(both.g, 'n__min').dtype).toBe('float64');
    expect(constOf(both.g, 'n__max').shape).toEqual([]);
    expect(values(constOf(both.g, 'n__max'))).toEqual([2.5]);
    const maxOnly = single('Clip', [a.f('max', 6)], 10);
    expect(maxOnly.n.inputs).toEqual(['x', '', 'n__max']);
    expect(constOf(maxOnly.g, 'n__max').dtype).toBe('float32');
    const minOnly = single('Clip', [a.f('min', 0)], 10);
    expect(minOnly.n.inputs).toEqual(['x', 'n__min']);
    expect(single('Clip', [], 10).n.inputs).toEqual(['x']);
  });

  it('Pad < 11 pads/value become inputs, mode stays; Pad-1 paddings too', () => {
    const { n, g } = single('Pad', [a.ints('pads', [0, 1, 0, 1]), a.f('value', 1.5), a.s('mode', 'constant')], 2);
    expect(n.inputs).toEqual(['x', 'n__pads', 'n__value']);
    expect(n.attrs).toEqual({ mode: { kind: 'string', value: 'constant' } });
    expect(values(constOf(g, 'n__pads'))).toEqual([0, 1, 0, 1]);
    expect(values(constOf(g, 'n__value'))).toEqual([1.5]);
    const p1 = single('Pad', [a.ints('paddings', [1, 1, 1, 1])], 1);
    expect(p1.n.inputs).toEqual(['x', 'n__pads']);
    expect(values(constOf(p1.g, 'n__pads'))).toEqual([1, 1, 1, 1]);
    const zero = single('Pad', [a.ints('pads', [1, 0, 1, 0]), a.f('value', 0)], 10);
    expect(zero.n.inputs).toEqual(['x', 'n__pads']);
  });

  it('Dropout < 12 ratio becomes input 1 and is_test is dropped', () => {
    const { n, g } = single('Dropout', [a.f('ratio', 0.3), a.i('is_test', 1)], 6);
    expect(n.inputs).toEqual(['x', 'n__ratio']);
    expect(n.attrs).toEqual({});
    const r = constOf(g, 'n__ratio');
    expect(r.dtype).toBe('float32');
    expect(values(r)).toEqual([Math.fround(0.3)]);
  });

  it('TopK < 10 k becomes a 1-element int64 input', () => {
    const { n, g } = single('TopK', [a.i('k', 3), a.i('axis', -1)], 9);
    expect(n.inputs).toEqual(['x', 'n__k']);
    expect(n.attrs).toEqual({ axis: { kind: 'int', value: -1 } });
    expect(constOf(g, 'n__k').shape).toEqual([1]);
    expect(values(constOf(g, 'n__k'))).toEqual([3]);
  });

  it('drops legacy consumed_inputs, is_test and spatial=1 but keeps spatial=0', () => {
    const bnInputs = ['x', 's', 'b', 'm', 'v'];
    const inits = ['s', 'b', 'm', 'v'].map((nm) => f32(nm, [3], [1, 1, 1]));
    const x = vi('x', [1, 3, 2, 2]);
    const g = load({ opset: 6, inputs: [x], initializers: inits, nodes: [node('BatchNormalization', bnInputs, ['y'], [a.i('spatial', 1), a.i('is_test', 1), a.ints('consumed_inputs', [0, 0, 0, 1, 1]), a.f('epsilon', 1e-3)], 'bn')] });
    expect(Object.keys(g.nodes[0].attrs)).toEqual(['epsilon']);
    const g0 = load({ opset: 7, inputs: [x], initializers: inits, nodes: [node('BatchNormalization', bnInputs, ['y'], [a.i('spatial', 0)], 'bn')] });
    expect(g0.nodes[0].attrs.spatial).toEqual({ kind: 'int', value: 0 });
    const relu = single('Relu', [a.ints('consumed_inputs', [0])], 1).n;
    expect(relu.attrs).toEqual({});
  });

  it('Cast-1 string `to` becomes the type code; Concat-1 gets axis 1', () => {
    expect(single('Cast', [a.s('to', 'DOUBLE')], 5).n.attrs.to).toEqual({ kind: 'int', value: 11 });
    const c = load({ opset: 3, nodes: [node('Concat', ['x', 'x'], ['y'], [], 'c')] });
    expect(c.nodes[0].attrs.axis).toEqual({ kind: 'int', value: 1 });
  });

  it('legacy broadcast attributes before opset 7', () => {
    const add = load({ opset: 6, inputs: [vi('x'), vi('b', [3])], nodes: [node('Add', ['x', 'b'], ['y'], [a.i('broadcast', 1)], 'n')] });
    expect(add.nodes[0].attrs).toEqual({});
    const withAxis = diagsOf(() => load({ opset: 6, inputs: [vi('x'), vi('b', [2])], nodes: [node('Mul', ['x', 'b'], ['y'], [a.i('broadcast', 1), a.i('axis', 0)], 'n')] }));
    expect(withAxis[0].code).toBe('W1010');
    expect(withAxis[0].message).toContain('Mul(opset<7 broadcast with axis)');
    // with a constant B and A's rank known, B's shape is padded so numpy broadcasting aligns it at axis
    const aligned = load({ opset: 6, inputs: [vi('x', [2, 3, 4, 5])], initializers: [f32('b', [3, 4], new Array(12).fill(1))], nodes: [node('Add', ['x', 'b'], ['y'], [a.i('broadcast', 1), a.i('axis', 1)], 'n')] });
    expect(aligned.nodes[0].attrs).toEqual({});
    expect(aligned.nodes[0].inputs).toEqual(['x', 'n__aligned1']);
    expect(constOf(aligned, 'n__aligned1').shape).toEqual([3, 4, 1]);
    const gemm = load({ opset: 6, inputs: [vi('x'), vi('w', [3, 3]), vi('c', [3])], nodes: [node('Gemm', ['x', 'w', 'c'], ['y'], [a.i('broadcast', 1), a.f('alpha', 2)], 'n')] });
    expect(gemm.nodes[0].attrs).toEqual({ alpha: { kind: 'float', value: 2 } });
  });

  it('PRelu < 7 per-channel slopes are reshaped to broadcast along axis 1', () => {
    const spec = (opset: number): ModelSpec => ({ opset, inputs: [vi('x', [2, 3, 4, 5]), vi('s', [3])], initializers: [f32('s', [3], [0.1, 0.2, 0.3])], nodes: [node('PRelu', ['x', 's'], ['y'], [], 'p')] });
    const g = load(spec(6));
    expect(g.nodes[0].inputs).toEqual(['x', 'p__aligned1']);
    const s = constOf(g, 'p__aligned1');
    expect(s.shape).toEqual([3, 1, 1]);
    expect(values(s)).toEqual(values(constOf(g, 's')));
    expect(load(spec(7)).nodes[0].inputs).toEqual(['x', 's']);
  });

  it('Upsample and Resize-10 scales are canonicalized (rule level)', () => {
    const consts = new Map<string, Tensor>();
    const ctx = (opset: number) => ({
      opset,
      addConst: (base: string, t: Tensor) => (consts.set(base, t), base),
      dtypeOf: () => undefined,
      rankOf: () => undefined,
      constant: () => undefined,
    });
    const up8: Node = { op: 'Upsample', domain: '', name: 'u', inputs: ['x'], outputs: ['y'], attrs: { scales: { kind: 'floats', value: [1, 1, 2, 2] }, mode: { kind: 'string', value: 'nearest' } } };
    canonicalize(up8, ctx(8));
    expect(up8.inputs).toEqual(['x', 'u__scales']);
    expect(up8.attrs).toEqual({ mode: { kind: 'string', value: 'nearest' } });
    expect(values(consts.get('u__scales')!)).toEqual([1, 1, 2, 2]);
    const up1: Node = { op: 'Upsample', domain: '', name: 'v', inputs: ['x'], outputs: ['y'], attrs: { height_scale: { kind: 'float', value: 2 }, width_scale: { kind: 'float', value: 3 }, mode: { kind: 'string', value: 'bilinear' } } };
    canonicalize(up1, ctx(1));
    expect(values(consts.get('v__scales')!)).toEqual([1, 1, 2, 3]);
    expect(up1.attrs.mode).toEqual({ kind: 'string', value: 'linear' });
    const rs: Node = { op: 'Resize', domain: '', name: 'r', inputs: ['x', 's'], outputs: ['y'], attrs: {} };
    canonicalize(rs, ctx(10));
    expect(rs.inputs).toEqual(['x', '', 's']);
    expect(rs.attrs.coordinate_transformation_mode).toEqual({ kind: 'string', value: 'asymmetric' });
    const tile: Node = { op: 'Tile', domain: '', name: 't', inputs: ['x', 'a', 'b'], outputs: ['y'], attrs: {} };
    expect(canonicalize(tile, ctx(5))).toBe('Tile(opset<6)');
  });

  it('generated constant names never collide with names in the file', () => {
    const g = load({ opset: 4, inputs: [vi('x'), vi('n__shape', [2], 7)], nodes: [node('Reshape', ['x'], ['y'], [a.ints('shape', [6])], 'n'), node('Add', ['n__shape', 'n__shape'], ['z'])], outputs: [vi('y', []), vi('z', [])] });
    expect(g.nodes[0].inputs[1]).toBe('n__shape_1');
    expect(values(constOf(g, 'n__shape_1'))).toEqual([6]);
    expect(g.inputs).toEqual(['x', 'n__shape']);
  });

  it('refuses a migrated attribute of the wrong kind (W1011)', () => {
    const d = diagsOf(() => single('Reshape', [a.f('shape', 2)], 4));
    expect(d[0].code).toBe('W1011');
    expect(d[0].location).toBe('n');
  });
});

// ---- IR conventions -----------------------------------------------------------------------------

describe('graph structure', () => {
  it('initializers listed as inputs become constants, not inputs', () => {
    const g = load({ inputs: [vi('x'), vi('w')], initializers: [f32('w', [2, 3], [1, 2, 3, 4, 5, 6])], nodes: [node('Add', ['x', 'w'], ['y'])] });
    expect(g.inputs).toEqual(['x']);
    expect(values(constOf(g, 'w'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(g.types.get('w')).toEqual({ dtype: 'float32', shape: [2, 3] });
    expect(g.types.get('x')).toEqual({ dtype: 'float32', shape: [2, 3] });
  });

  it('reads every Constant node form and removes the nodes', () => {
    const forms: [IAttr, string, number[], number[]][] = [
      [a.t('value', f32('', [2], [1.5, -2])), 'float32', [2], [1.5, -2]],
      [a.f('value_float', 0.25), 'float32', [], [0.25]],
      [a.floats('value_floats', [1, 2, 3]), 'float32', [3], [1, 2, 3]],
      [a.i('value_int', -7), 'int64', [], [-7]],
      [a.ints('value_ints', [4, 5]), 'int64', [2], [4, 5]],
    ];
    for (const [attr, dtype, shape, vals] of forms) {
      const g = load({ nodes: [node('Constant', [], ['c'], [attr]), node('Add', ['x', 'c'], ['y'])] });
      expect(g.nodes.map((n) => n.op)).toEqual(['Add']);
      const c = constOf(g, 'c');
      expect(c.dtype, attr.name!).toBe(dtype);
      expect(c.shape).toEqual(shape);
      expect(values(c)).toEqual(vals);
    }
  });

  it('names nodes: file name, or <Op>_<index> when empty or duplicate', () => {
    const g = load({
      nodes: [node('Relu', ['x'], ['a'], [], ''), node('Relu', ['a'], ['b'], [], 'r'), node('Relu', ['b'], ['c'], [], 'r'), node('Neg', ['c'], ['y'], [], 'Relu_0')],
    });
    expect(g.nodes.map((n) => n.name)).toEqual(['Relu_0_1', 'r', 'Relu_2', 'Relu_0']);
  });

  it('records opset, value_info types and leaves other types undefined; keeps omitted inputs', () => {
    const g = load({
      opset: 13,
      nodes: [node('Relu', ['x'], ['a']), node('Neg', ['a'], ['b']), node('Clip', ['b', '', 'hi'], ['y'])],
      initializers: [f32('hi', [], [6])],
      valueInfo: [vi('a', ['n', 3])],
    });
    expect(g.opset).toBe(13);
    expect(g.types.get('a')).toEqual({ dtype: 'float32', shape: ['n', 3] });
    expect(g.types.has('b')).toBe(true);
    expect(g.types.get('b')).toBeUndefined();
    expect(g.nodes[2].inputs).toEqual(['b', '', 'hi']);
    expect(g.types.get('y')).toEqual({ dtype: 'float32', shape: [] });
  });

  it('sorts nodes given out of order, keeping file order among ready nodes', () => {
    const g = load({
      nodes: [node('Neg', ['b'], ['y'], [], 'last'), node('Relu', ['x'], ['a'], [], 'first'), node('Abs', ['a'], ['b'], [], 'second'), node('Exp', ['x'], ['e'], [], 'other')],
      outputs: [vi('y', []), vi('e', [])],
    });
    expect(g.nodes.map((n) => n.name)).toEqual(['first', 'second', 'last', 'other']);
  });

  it('binds dims by name through the import option and bindDims', () => {
    const spec: ModelSpec = { nodes: [node('Relu', ['x'], ['y'])], inputs: [vi('x', ['batch', 'seq', 4])], outputs: [vi('y', ['batch', 'seq', 4])] };
    const g = load(spec, { dims: { batch: 2, seq: 8 } });
    expect(g.types.get('x')!.shape).toEqual([2, 8, 4]);
    expect(g.types.get('y')!.shape).toEqual([2, 8, 4]);
    const partial = bindDims(load(spec), { batch: 1 });
    expect(partial.types.get('x')!.shape).toEqual([1, 'seq', 4]);
  });

  it('inlines model-local functions, binding ref attributes', () => {
    const fn: IFunction = {
      name: 'AddAct',
      domain: 'local',
      input: ['p', 'q'],
      output: ['r'],
      attribute: ['alpha'],
      opsetImport: [{ domain: '', version: 17 }],
      node: [node('Add', ['p', 'q'], ['s'], [], 'add'), node('LeakyRelu', ['s'], ['r'], [{ name: 'alpha', type: AT.FLOAT, refAttrName: 'alpha' }], 'act')],
    };
    const g = load({
      nodes: [node('AddAct', ['x', 'x'], ['y'], [a.f('alpha', 0.5)], 'call', 'local'), node('AddAct', ['y', 'x'], ['z'], [], 'call2', 'local')],
      functions: [fn],
      extraOpsets: [{ domain: 'local', version: 1 }],
      outputs: [vi('z', [])],
    });
    expect(g.nodes.map((n) => n.op)).toEqual(['Add', 'LeakyRelu', 'Add', 'LeakyRelu']);
    expect(g.nodes[0].inputs).toEqual(['x', 'x']);
    expect(g.nodes[1].outputs).toEqual(['y']);
    expect(g.nodes[1].attrs.alpha).toEqual({ kind: 'float', value: 0.5 });
    expect(g.nodes[3].attrs.alpha).toBeUndefined(); // not set by the call: the op default applies
    expect(g.nodes[0].outputs[0]).not.toBe(g.nodes[2].outputs[0]); // internal values renamed per call
  });

  it('refuses recursive local functions (W1010) instead of expanding forever', () => {
    const rec: IFunction = { name: 'R', domain: 'local', input: ['a'], output: ['b'], node: [node('R', ['a'], ['b'], [], 'again', 'local')] };
    const d = diagsOf(() => load({ nodes: [node('R', ['x'], ['y'], [], 'call', 'local')], functions: [rec], extraOpsets: [{ domain: 'local', version: 1 }] }));
    expect(d[0].code).toBe('W1010');
    expect(d[0].message).toContain('nested more than 32 deep');
  });
});

// ---- tensor decoding ----------------------------------------------------------------------------

describe('tensor decoding', () => {
  const withInit = (t: ITensor) => constOf(load({ initializers: [t], nodes: [node('Identity', [t.name!], ['y'])], inputs: [] }), t.name!);

  it('int64 from int64_data and from raw_data, including values past 2^32', () => {
    const vals = [-5, 2 ** 40 + 3, 0, -(2 ** 33)];
    const a1 = withInit({ name: 'w', dims: [4], dataType: 7, int64Data: vals });
    expect(a1.dtype).toBe('int64');
    expect(values(a1)).toEqual(vals);
    const a2 = withInit(raw('w', 7, [2, 2], new BigInt64Array(vals.map(BigInt))));
    expect(a2.shape).toEqual([2, 2]);
    expect(values(a2)).toEqual(vals);
  });

  it('float16 from raw_data bits and bfloat16 from int32_data bits', () => {
    const h = withInit(raw('h', 10, [4], new Uint16Array([0x3c00, 0xc100, 0x7bff, 0x0001])));
    expect(h.dtype).toBe('float16');
    expect(values(h)).toEqual([1, -2.5, 65504, 2 ** -24]);
    const b = withInit({ name: 'b', dims: [2], dataType: 16, int32Data: [0x3f80, 0xc040] });
    expect(values(b)).toEqual([1, -3]);
    const h2 = withInit({ name: 'h2', dims: [1], dataType: 10, int32Data: [0x3555] });
    expect(values(h2)[0]).toBeCloseTo(0.333251953125, 12);
  });

  it('other dtypes from raw bytes and typed fields', () => {
    expect(values(withInit(raw('b', 9, [3], new Uint8Array([1, 0, 2]))))).toEqual([1, 0, 1]);
    expect(values(withInit({ name: 'i8', dims: [2], dataType: 3, int32Data: [-128, 127] }))).toEqual([-128, 127]);
    expect(values(withInit(raw('u16', 4, [2], new Uint16Array([65535, 7]))))).toEqual([65535, 7]);
    expect(values(withInit({ name: 'u64', dims: [1], dataType: 13, uint64Data: [2 ** 50] }))).toEqual([2 ** 50]);
    expect(values(withInit({ name: 'u32', dims: [1], dataType: 12, uint64Data: [4294967295] }))).toEqual([4294967295]);
    expect(values(withInit({ name: 'd', dims: [2], dataType: 11, doubleData: [0.1, -1e300] }))).toEqual([0.1, -1e300]);
    expect(values(withInit(raw('f', 1, [2], new Float32Array([0.1, 3]))))).toEqual([Math.fround(0.1), 3]);
    expect(values(withInit(raw('i32', 6, [1], new Int32Array([-2147483648]))))).toEqual([-2147483648]);
    expect(withInit({ name: 'e', dims: [0, 3], dataType: 1 }).shape).toEqual([0, 3]);
  });

  it('reads test-data TensorProto files', () => {
    const bytes = onnx.TensorProto.encode(raw('input_ids', 7, [1, 2], new BigInt64Array([5n, 9n]))).finish();
    const { name, tensor } = readTensorProto(bytes);
    expect(name).toBe('input_ids');
    expect(tensor.shape).toEqual([1, 2]);
    expect(values(tensor)).toEqual([5, 9]);
  });
});
