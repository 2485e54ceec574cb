/**
 * ONNX export (compiler/frontend/onnx/export.ts): every ONNX 1.23 node test that importOnnx accepts
 * survives import → export → import unchanged (printGraph text) and, when onnxruntime-node loads the
 * original, it loads the export too; the corpus models (bound and through the graph passes) and an IR
 * text block with f32 and f16 constants run in onnxruntime-node and agree with evaluateGraph; every
 * dtype's constants, tensor attributes, symbolic dims, domains, legacy opset forms and ir_version
 * rules are written as ONNX says; the bytes are deterministic.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxPkg from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { prepareGraph, readDataSet } from '../cli/conformance.js';
import { compareTensors } from '../cli/compare.js';
import { importOnnx } from '../compiler/frontend/onnx/index.js';
import { convertAttrs } from '../compiler/frontend/onnx/attributes.js';
import { exportOnnx } from '../compiler/frontend/onnx/export.js';
import { tensorFromProto } from '../compiler/frontend/onnx/tensor.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import { float16BitsToNumber, numberToFloat16Bits, type DType } from '../ir/dtype.js';
import { evaluateGraph } from '../ir/evaluate.js';
import type { Graph } from '../ir/graph.js';
import { mulberry32 } from '../ir/random.js';
import { Tensor, tensorsIdentical } from '../ir/tensor.js';
import { parseGraph, printGraph } from '../ir/text.js';
import { MODELS } from './helpers/llama.js';

const { onnx } = onnxPkg;
const NODE = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../shared/corpus/onnx-backend-1.23/node');

// ---- onnxruntime-node glue ------------------------------------------------------------------------

function toOrt(t: Tensor): ort.Tensor {
  const dims = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(t.data), dims);
    case 'float16':
      return new ort.Tensor('float16', Uint16Array.from(t.data, numberToFloat16Bits), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(t.toArray(), (x) => BigInt(x)), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(t.data), dims);
    case 'bool':
      return new ort.Tensor('bool', Uint8Array.from(t.data), dims);
    default:
      throw new Error(`test glue: no onnxruntime tensor for ${t.dtype}`);
  }
}

function fromOrt(o: ort.Tensor): Tensor {
  const dims = [...o.dims];
  switch (o.type) {
    case 'float16':
      return Tensor.from('float16', dims, Array.from(o.data as Uint16Array, float16BitsToNumber));
    case 'int64':
      return Tensor.from('int64', dims, Array.from(o.data as BigInt64Array, Number));
    case 'bool':
      return Tensor.from('bool', dims, Array.from(o.data as Uint8Array));
    default:
      return Tensor.from(o.type as DType, dims, Array.from(o.data as ArrayLike<number>));
  }
}

/** Runs exported bytes in onnxruntime-node and compares each output with evaluateGraph's. */
async function agreeWithOrt(graph: Graph, inputs: Map<string, Tensor>, viaF16: string[] = []): Promise<number> {
  const session = await ort.InferenceSession.create(exportOnnx(graph));
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of inputs) feeds[name] = toOrt(t);
  const theirs = await session.run(feeds);
  const ours = evaluateGraph(graph, inputs);
  for (const name of graph.outputs) {
    const a = ours.get(name)!;
    const b = fromOrt(theirs[name]);
    let tol = { rtol: 1e-4, atol: 1e-5 };
    if (a.dtype === 'float16' || viaF16.includes(name)) {
      const top = Math.max(...Array.from(b.data, Math.abs));
      tol = { rtol: 0, atol: 2 ** (Math.floor(Math.log2(top)) - 10) }; // one f16 ulp of the largest value
      // (the f32 values rounded to f16 may differ in their last f32 bits and so round one ulp apart)
    }
    expect(compareTensors(a, b, tol).reason ?? '', `output ${name}`).toBe('');
  }
  return graph.outputs.length;
}

// ---- 1. round trip over the backend node tests --------------------------------------------------

/** Loading (schema and type checks) without optimizing: fast enough for every node test. */
const LOAD_ONLY: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1, logSeverityLevel: 3 };

describe.skipIf(!existsSync(NODE))('ONNX 1.23 node tests', () => {
  it('import → export → import gives the same graph, bytes are a fixpoint, and onnxruntime loads what it loaded before', async () => {
    let same = 0;
    let refused = 0;
    let loaded = 0;
    const diff: string[] = [];
    const ortRefused: string[] = [];
    for (const dir of readdirSync(NODE).sort()) {
      const path = join(NODE, dir, 'model.onnx');
      if (!existsSync(path)) continue;
      const original = readFileSync(path);
      let g: Graph;
      try {
        g = importOnnx(original);
      } catch (e) {
        if (!(e instanceof DiagnosticError)) throw e;
        refused++;
        continue;
      }
      const bytes = exportOnnx(g);
      const again = importOnnx(bytes);
      if (printGraph(again) !== printGraph(g) || !Buffer.from(exportOnnx(again)).equals(bytes)) diff.push(dir);
      else same++;
      // the schema check of onnxruntime: where it accepts the original, it must accept the export
      let originalLoads = true;
      try {
        await ort.InferenceSession.create(original, LOAD_ONLY);
      } catch {
        originalLoads = false;
      }
      if (!originalLoads) continue;
      try {
        await ort.InferenceSession.create(bytes, LOAD_ONLY);
        loaded++;
      } catch (e) {
        ortRefused.push(`${dir}: ${(e as Error).message.slice(0, 200)}`);
      }
    }
    expect(diff).toEqual([]);
    expect(ortRefused).toEqual([]);
    expect(same).toBeGreaterThan(1200); // 1250 of the 1,802 tests import at the time of writing
    expect(refused).toBeGreaterThan(0);
    expect(loaded).toBeGreaterThan(1100); // 1191 at the time of writing
  }, 300_000);
});

// ---- 2. onnxruntime-node runs exported graphs like the reference evaluator ---------------------

const WITH_DATA = ['bert_toy_optimized', 'layernorm', 'pyT_gpt2_megatron', 'tf_fusion__attention_symbolic_batch', 'tf_fusion__gelu_opset20', 'ut_xoptim__bug_2of3_s'];

describe.skipIf(!existsSync(MODELS))('corpus models through the passes', () => {
  it.each(WITH_DATA)('%s: the exported prepared graph runs in onnxruntime and agrees with evaluateGraph', async (name) => {
    const path = join(MODELS, name, 'model.onnx');
    const { graph, inputs } = prepareGraph(readFileSync(path), path, readDataSet(join(MODELS, name, 'test_data_set_0'), 'input'));
    expect(graph.nodes.every((n) => n.domain === '')).toBe(true); // nothing wafer-only left to refuse
    expect(await agreeWithOrt(graph, inputs)).toBeGreaterThan(0);
  }, 60_000);
});

/** Seeded values rounded to multiples of 1/64, so they are exact in f16 and print exactly. */
function values(seed: number, n: number, scale = 1): string {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => (Math.round((r() * 2 - 1) * 64 * scale) / 64).toFixed(6)).join(', ');
}

const BLOCK = `graph @block opset 20 {
  input %x : f32[2,4,8]
  input %ids : i64[2,3]
  const %w : f32[8,8] = dense<[${values(1, 64, 0.5)}]>
  const %emb : f32[10,8] = dense<[${values(2, 80)}]>
  const %gamma : f32[8] = dense<[${values(3, 8)}]>
  const %beta : f32[8] = dense<[${values(4, 8)}]>
  const %bias16 : f16[8] = dense<[${values(5, 8)}]>
  const %starts : i64[1] = dense<[1]>
  const %ends : i64[1] = dense<[5]>
  const %axes : i64[1] = dense<[1]>
  const %shape : i64[3] = dense<[2, 4, 8]>
  %h : f32[2,4,8] = MatMul(%x, %w) @mm
  %n : f32[2,4,8] = LayerNormalization(%h, %gamma, %beta) {axis = -1 : int, epsilon = 1e-05 : float} @ln
  %g : f32[2,4,8] = Gelu(%n) {approximate = "tanh" : string} @gelu
  %e : f32[2,3,8] = Gather(%emb, %ids) {axis = 0 : int} @embed
  %c : f32[2,7,8] = Concat(%g, %e) {axis = 1 : int} @cat
  %s : f32[2,4,8] = Slice(%c, %starts, %ends, %axes) @slice
  %t : f32[2,8,4] = Transpose(%s) {perm = [0, 2, 1] : ints} @tr
  %r : f32[2,4,8] = Reshape(%t, %shape) @rs
  %a : f32[2,4,8] = Add(%r, %g) @add
  %p : f32[2,4,8] = Softmax(%a) {axis = -1 : int} @sm
  %p16 : f16[2,4,8] = Cast(%p) {to = 10 : int} @down
  %y16 : f16[2,4,8] = Add(%p16, %bias16) @add16
  %y : f32[2,4,8] = Cast(%y16) {to = 1 : int} @up
  output %p, %y16, %y
}`;

describe('IR text graphs', () => {
  it('a block of MatMul, LayerNormalization, Gelu, Gather, Concat, Slice, Transpose, Reshape, Add, Softmax with f32 and f16 constants agrees with onnxruntime', async () => {
    const g = parseGraph(BLOCK);
    const inputs = new Map([
      ['x', Tensor.from('float32', [2, 4, 8], values(6, 64).split(', ').map(Number))],
      ['ids', Tensor.from('int64', [2, 3], [0, 9, 3, 3, 7, 1])],
    ]);
    expect(await agreeWithOrt(g, inputs, ['y'])).toBe(3);
    // the f16 output is not trivially 0: the exported f16 constant reached onnxruntime
    const y16 = evaluateGraph(g, inputs).get('y16')!;
    expect(y16.toArray().some((v) => v < 0)).toBe(true);
  });

  it('a ReduceMean at opset 13 is written with its axes attribute, which onnxruntime requires there', async () => {
    const g = parseGraph(`graph @r opset 13 {
      input %x : f32[2,3]
      const %ax : i64[1] = dense<[1]>
      %m : f32[2] = ReduceMean(%x, %ax) {keepdims = 0 : int} @mean
      output %m
    }`);
    const model = onnx.ModelProto.decode(exportOnnx(g));
    const node = model.graph!.node![0];
    expect(node.input).toEqual(['x']);
    expect(node.attribute!.map((a) => a.name)).toEqual(['keepdims', 'axes']);
    expect(model.graph!.initializer).toHaveLength(0);
    expect(printGraph(importOnnx(exportOnnx(g)))).toBe(printGraph(importOnnx(exportOnnx(importOnnx(exportOnnx(g))))));
    expect(await agreeWithOrt(g, new Map([['x', Tensor.from('float32', [2, 3], [1, 2, 3, 4, 5, 9])]]))).toBe(1);
  });
});

// ---- 3. encoding details and determinism ------------------------------------------------------

const ALL_DTYPES = `graph @dtypes opset 18 {
  input %x : f32[batch,2]
  const %f32 : f32[3] = dense<[1.5, -0.0, 3.4028234663852886e+38]>
  const %f16 : f16[3] = dense<[0.333251953125, -65504.0, 5.960464477539063e-08]>
  const %bf16 : bf16[2] = dense<[0.333984375, -3.0]>
  const %f64 : f64[2] = dense<[0.1, -1e+300]>
  const %i64 : i64[4] = dense<[9223372036854775807, -9223372036854775808, -1, 9007199254740993]>
  const %u64 : u64[2] = dense<[18446744073709551615, 7]>
  const %i32 : i32[2] = dense<[-2147483648, 2147483647]>
  const %u32 : u32[1] = dense<[4294967295]>
  const %i16 : i16[2] = dense<[-32768, 32767]>
  const %u16 : u16[1] = dense<[65535]>
  const %i8 : i8[2] = dense<[-128, 127]>
  const %u8 : u8[1] = dense<[255]>
  const %b : i1[3] = dense<[true, false, true]>
  %y : f32[batch,2] = com.microsoft:Foo(%x, _, %b) {alpha = 0.5 : float, n = 9223372036854775807 : int, e = [] : floats, mode = "constant" : string, perm = [0, -2, 1] : ints, names = ["a", "b"] : strings, t = dense<[1.0, 2.0]> : f16[2] : tensor} @foo
  %z : f32[batch,2] = wafer:Bar(%y) @bar
  output %z
}`;

describe('encoding', () => {
  it('writes every dtype, attribute kind, symbolic dim and domain so that importing gives them back', () => {
    const g = parseGraph(ALL_DTYPES);
    const model = onnx.ModelProto.decode(exportOnnx(g, { producer: 'test' }));
    // read back with the importer's own tensor and attribute decoding (importOnnx refuses the made-up ops)
    const ctx = { maxElements: 1000 };
    const inits = model.graph!.initializer!;
    expect(inits.map((t) => t.name)).toEqual([...g.constants.keys()]);
    for (const t of inits) expect(tensorsIdentical(tensorFromProto(t, t.name!, ctx), g.constants.get(t.name!)!), t.name!).toBe(true);
    const nodes = model.graph!.node!;
    expect(nodes.map((n) => [n.opType, n.domain, n.name, n.input, n.output])).toEqual(g.nodes.map((n) => [n.op, n.domain, n.name, n.inputs, n.outputs]));
    expect(convertAttrs(nodes[0].attribute!, 'foo', ctx).attrs).toEqual({ ...g.nodes[0].attrs, n: { kind: 'int', value: 2 ** 63 } });
    expect(model.producerName).toBe('test');
    expect(Number(model.irVersion)).toBe(10);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 18], ['com.microsoft', 1], ['wafer', 1]]);
    expect(model.graph!.input!.map((v) => v.name)).toEqual(['x']); // IR ≥ 4: initializers are not inputs
    expect(model.graph!.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 2]);
    expect(model.graph!.valueInfo!.map((v) => v.name)).toEqual(['y']);
    const i64 = model.graph!.initializer!.find((t) => t.name === 'i64')!;
    expect(Buffer.from(i64.rawData!).toString('hex')).toBe('ffffffffffffff7f' + '0000000000000080' + 'ffffffffffffffff' + '0000000000002000');
    const f16 = model.graph!.initializer!.find((t) => t.name === 'f16')!;
    expect(Buffer.from(f16.rawData!).toString('hex')).toBe('5535' + 'fffb' + '0100');
    const n = model.graph!.node![0].attribute!.find((a) => a.name === 'n')!;
    expect(String(n.i)).toBe('9223372036854775807'); // saturated, not wrapped to INT64_MIN
  });

  it('lists initializers as inputs for ir_version 3, and onnxruntime accepts ir_version 3 to 11', async () => {
    const g = parseGraph(`graph @g opset 17 {
      input %x : f32[2]
      const %c : f32[2] = dense<[1.0, 2.0]>
      %y : f32[2] = Add(%x, %c) @add
      output %y
    }`);
    const v3 = onnx.ModelProto.decode(exportOnnx(g, { irVersion: 3 }));
    expect(v3.graph!.input!.map((v) => v.name)).toEqual(['x', 'c']);
    expect(printGraph(importOnnx(exportOnnx(g, { irVersion: 3 })))).toBe(printGraph(g));
    for (let ir = 3; ir <= 11; ir++) await ort.InferenceSession.create(exportOnnx(g, { irVersion: ir }), LOAD_ONLY);
    for (const bad of [2, 12, 1.5]) {
      expect(() => exportOnnx(g, { irVersion: bad })).toThrow(DiagnosticError);
    }
  });

  it('exports deterministic bytes', () => {
    const a = exportOnnx(parseGraph(ALL_DTYPES));
    const b = exportOnnx(parseGraph(ALL_DTYPES));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(exportOnnx(parseGraph(BLOCK))).equals(Buffer.from(exportOnnx(parseGraph(BLOCK))))).toBe(true);
    expect(Buffer.from(exportOnnx(parseGraph(BLOCK), { producer: 'other' })).equals(Buffer.from(exportOnnx(parseGraph(BLOCK))))).toBe(false);
  });
});
