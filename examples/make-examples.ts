/**
 * Generates the bundled example models in examples/ (committed, so users need not run this):
 *
 *   examples/tiny-attention/  a one-layer pre-norm transformer block (LayerNorm, Q/K/V projections,
 *                             scaled-dot-product attention with Softmax, output projection, residual,
 *                             a SiLU MLP) over x:[1,8,16], seeded weights, opset 18, with a
 *                             Shape→Gather→Concat→Reshape chain for the head split.
 *
 * Expected outputs come from onnxruntime-node (a dev dependency), an implementation independent of
 * wafer's. Run: npx tsx examples/make-examples.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxPkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { mulberry32, uniformFloats } from '../ir/random.js';

const { onnx } = onnxPkg;
const here = dirname(fileURLToPath(import.meta.url));

function floatTensor(name: string, dims: number[], values: Float32Array): onnxPkg.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer.slice(0)) };
}
function int64Tensor(name: string, dims: number[], values: number[]): onnxPkg.onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: values };
}
function node(opType: string, inputs: string[], outputs: string[], attrs: onnxPkg.onnx.IAttributeProto[] = []): onnxPkg.onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute: attrs };
}
const ints = (name: string, v: number[]): onnxPkg.onnx.IAttributeProto => ({ name, ints: v, type: onnx.AttributeProto.AttributeType.INTS });
const int = (name: string, v: number): onnxPkg.onnx.IAttributeProto => ({ name, i: v, type: onnx.AttributeProto.AttributeType.INT });
const float = (name: string, v: number): onnxPkg.onnx.IAttributeProto => ({ name, f: v, type: onnx.AttributeProto.AttributeType.FLOAT });
function valueInfo(name: string, dims: number[]): onnxPkg.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function tinyAttention(): { model: Uint8Array; input: Float32Array; dims: number[] } {
  const r = mulberry32(2026);
  const S = 8;
  const D = 16;
  const H = 2;
  const F = 32;
  const init = [
    floatTensor('ln_scale', [D], uniformFloats(r, D, 1).map((x) => 1 + 0.1 * x)),
    floatTensor('ln_bias', [D], uniformFloats(r, D, 0.1)),
    floatTensor('wq', [D, D], uniformFloats(r, D * D, 0.25)),
    floatTensor('wk', [D, D], uniformFloats(r, D * D, 0.25)),
    floatTensor('wv', [D, D], uniformFloats(r, D * D, 0.25)),
    floatTensor('wo', [D, D], uniformFloats(r, D * D, 0.25)),
    floatTensor('w_up', [D, F], uniformFloats(r, D * F, 0.25)),
    floatTensor('w_down', [F, D], uniformFloats(r, F * D, 0.18)),
    floatTensor('scale', [], new Float32Array([1 / Math.sqrt(D / H)])),
    int64Tensor('zero', [1], [0]),
    int64Tensor('one', [1], [1]),
    int64Tensor('heads', [1], [H]),
    int64Tensor('minus1', [1], [-1]),
  ];
  const nodes = [
    node('LayerNormalization', ['x', 'ln_scale', 'ln_bias'], ['h'], [int('axis', -1), float('epsilon', 1e-5)]),
    node('MatMul', ['h', 'wq'], ['q']),
    node('MatMul', ['h', 'wk'], ['k']),
    node('MatMul', ['h', 'wv'], ['v']),
    // head split: [1,S,D] -> [1,S,H,D/H] -> [1,H,S,D/H], the new shape computed from Shape(x)
    node('Shape', ['x'], ['x_shape']),
    node('Gather', ['x_shape', 'zero'], ['batch'], [int('axis', 0)]),
    node('Gather', ['x_shape', 'one'], ['seq'], [int('axis', 0)]),
    node('Concat', ['batch', 'seq', 'heads', 'minus1'], ['split_shape'], [int('axis', 0)]),
    node('Reshape', ['q', 'split_shape'], ['q4']),
    node('Reshape', ['k', 'split_shape'], ['k4']),
    node('Reshape', ['v', 'split_shape'], ['v4']),
    node('Transpose', ['q4'], ['qh'], [ints('perm', [0, 2, 1, 3])]),
    node('Transpose', ['k4'], ['kt'], [ints('perm', [0, 2, 3, 1])]),
    node('Transpose', ['v4'], ['vh'], [ints('perm', [0, 2, 1, 3])]),
    node('MatMul', ['qh', 'kt'], ['scores_raw']),
    node('Mul', ['scores_raw', 'scale'], ['scores']),
    node('Softmax', ['scores'], ['probs'], [int('axis', -1)]),
    node('MatMul', ['probs', 'vh'], ['ctx_h']),
    node('Transpose', ['ctx_h'], ['ctx_t'], [ints('perm', [0, 2, 1, 3])]),
    node('Reshape', ['ctx_t', 'x_shape'], ['ctx']),
    node('MatMul', ['ctx', 'wo'], ['attn']),
    node('Add', ['x', 'attn'], ['res1']),
    node('MatMul', ['res1', 'w_up'], ['up']),
    node('Sigmoid', ['up'], ['gate']),
    node('Mul', ['up', 'gate'], ['act']),
    node('MatMul', ['act', 'w_down'], ['down']),
    node('Add', ['res1', 'down'], ['y']),
  ];
  const model = onnx.ModelProto.encode({
    irVersion: 8,
    producerName: 'wafer examples/make-examples.ts',
    opsetImport: [{ domain: '', version: 18 }],
    graph: {
      name: 'tiny_attention',
      node: nodes,
      initializer: init,
      input: [valueInfo('x', [1, S, D])],
      output: [valueInfo('y', [1, S, D])],
    },
  }).finish();
  return { model, input: uniformFloats(r, S * D, 1), dims: [1, S, D] };
}

async function main(): Promise<void> {
  const { model, input, dims } = tinyAttention();
  const dir = join(here, 'tiny-attention');
  mkdirSync(join(dir, 'test_data_set_0'), { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), model);
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ x: new ort.Tensor('float32', input, dims) });
  const y = out.y.data as Float32Array;
  const enc = (t: onnxPkg.onnx.ITensorProto) => onnx.TensorProto.encode(t).finish();
  writeFileSync(join(dir, 'test_data_set_0', 'input_0.pb'), enc(floatTensor('x', dims, input)));
  writeFileSync(join(dir, 'test_data_set_0', 'output_0.pb'), enc(floatTensor('y', [...out.y.dims], y)));
  process.stdout.write(`wrote ${dir} (${model.length} bytes)\n`);
}

await main();
