/**
 * Seeded fuzzing of the ONNX frontend: corpus models and test-data files with bytes flipped, cut,
 * inserted, deleted and varints corrupted. Every outcome must be a Graph (or tensor) or a
 * DiagnosticError — never another exception, a hang or a huge allocation. Deterministic: a failure
 * names the case so it can be replayed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImportHost } from '../compiler/host.js';
import onnxPkg from 'onnx-proto';
import { importOnnx, readTensorProto } from '../compiler/frontend/onnx/index.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import type { Graph } from '../ir/graph.js';
import { mulberry32 } from '../ir/random.js';

const { onnx } = onnxPkg;

type Mutation = (b: Uint8Array, r: () => number) => Uint8Array;
const int = (r: () => number, n: number) => Math.floor(r() * n);

const MUTATIONS: Record<string, Mutation> = {
  flipBit: (b, r) => {
    const c = b.slice();
    for (let k = 1 + int(r, 4); k > 0; k--) c[int(r, c.length)] ^= 1 << int(r, 8);
    return c;
  },
  setByte: (b, r) => {
    const c = b.slice();
    for (let k = 1 + int(r, 8); k > 0; k--) c[int(r, c.length)] = [0, 0xff, 0x7f, 0x80, int(r, 256)][int(r, 5)];
    return c;
  },
  truncate: (b, r) => b.slice(0, int(r, b.length)),
  insert: (b, r) => {
    const at = int(r, b.length + 1);
    const ins = Uint8Array.from({ length: 1 + int(r, 16) }, () => int(r, 256));
    return concat(b.subarray(0, at), ins, b.subarray(at));
  },
  remove: (b, r) => {
    const at = int(r, b.length);
    return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 16))));
  },
  /** Rewrites a varint (a run of bytes with the high bit set) to a huge or negative value. */
  varint: (b, r) => {
    const c = b.slice();
    for (let tries = 0; tries < 64; tries++) {
      const at = int(r, c.length);
      if (c[at] & 0x80) {
        const big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        const choice = int(r, 3);
        if (choice === 0) return concat(c.subarray(0, at), Uint8Array.from(big), c.subarray(at + 1));
        if (choice === 1) c[at] = 0xff;
        else c[at] &= 0x7f;
        return c;
      }
    }
    c[int(r, c.length)] = 0x80 | int(r, 128);
    return c;
  },
  /** Copies a slice of the file over another place: keeps structure, breaks lengths and names. */
  splice: (b, r) => {
    const c = b.slice();
    const len = 1 + int(r, 32);
    const from = int(r, Math.max(1, c.length - len));
    const to = int(r, Math.max(1, c.length - len));
    c.set(b.subarray(from, from + len), to);
    return c;
  },
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A host serving one in-memory file, so mutated external-data entries exercise the range checks. */
const DATA = new Uint8Array(4096).map((_, i) => i & 0xff);
const host: ImportHost = {
  fileSize: (p) => {
    if (!p.endsWith('data.bin')) throw new Error('no such file');
    return DATA.length;
  },
  readFile: (p) => {
    if (!p.endsWith('data.bin')) throw new Error('no such file');
    return DATA;
  },
};

/** shared/ sits beside the repository (also in CI). */
const CORPUS = new URL('../../shared/corpus/', import.meta.url).pathname;
const MODELS = join(CORPUS, 'models');
const NODE = join(CORPUS, 'onnx-backend-1.23/node');

/** A plain Uint8Array copy: Buffer#slice would share memory, and mutations must not accumulate. */
const load = (p: string): Uint8Array => new Uint8Array(readFileSync(p));

/**
 * Synthetic seeds that reach what the corpus files rarely do: external data, every payload field,
 * old-opset attribute moves, Constant forms and a local function.
 */
function synthetic(): [string, Uint8Array][] {
  const AT = onnx.AttributeProto.AttributeType;
  const ext = (name: string, dims: number[], dataType: number, offset: number, length: number) => ({
    name,
    dims,
    dataType,
    dataLocation: 1,
    externalData: [
      { key: 'location', value: 'data.bin' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ],
  });
  const vi = (name: string, dims: (number | string)[], elemType = 1) => ({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  });
  const old = onnx.ModelProto.encode({
    irVersion: 4,
    opsetImport: [{ domain: '', version: 9 }],
    graph: {
      name: 'old',
      input: [vi('x', ['n', 4])],
      output: [vi('y', []), vi('k', [])],
      initializer: [
        ext('w', [2, 4], 1, 16, 32),
        ext('h', [4], 10, 0, 8),
        { name: 'i', dims: [2], dataType: 7, int64Data: [3, -1] },
        { name: 'r', dims: [2], dataType: 7, rawData: new Uint8Array(16) },
        { name: 'b', dims: [3], dataType: 9, int32Data: [1, 0, 1] },
      ],
      node: [
        { opType: 'Slice', input: ['x'], output: ['s'], name: 'sl', attribute: [{ name: 'starts', type: AT.INTS, ints: [0] }, { name: 'ends', type: AT.INTS, ints: [2] }, { name: 'axes', type: AT.INTS, ints: [1] }] },
        { opType: 'Pad', input: ['s'], output: ['p'], name: 'pd', attribute: [{ name: 'pads', type: AT.INTS, ints: [0, 1, 0, 1] }, { name: 'value', type: AT.FLOAT, f: 2 }, { name: 'mode', type: AT.STRING, s: new Uint8Array([99]) }] },
        { opType: 'Clip', input: ['p'], output: ['c'], name: 'cl', attribute: [{ name: 'min', type: AT.FLOAT, f: 0 }, { name: 'max', type: AT.FLOAT, f: 6 }] },
        { opType: 'ReduceMean', input: ['c'], output: ['m'], name: 'rm', attribute: [{ name: 'axes', type: AT.INTS, ints: [1] }, { name: 'keepdims', type: AT.INT, i: 1 }] },
        { opType: 'Unsqueeze', input: ['m'], output: ['u'], name: 'us', attribute: [{ name: 'axes', type: AT.INTS, ints: [0] }] },
        { opType: 'TopK', input: ['x'], output: ['k', 'ki'], name: 'tk', attribute: [{ name: 'k', type: AT.INT, i: 2 }] },
        { opType: 'Add', input: ['u', 'u'], output: ['y'], name: 'add' },
      ],
    },
  }).finish();
  const fresh = onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }, { domain: 'local', version: 1 }],
    functions: [{ name: 'F', domain: 'local', input: ['a'], output: ['b'], attribute: ['alpha'], node: [{ opType: 'LeakyRelu', input: ['a'], output: ['b'], attribute: [{ name: 'alpha', type: AT.FLOAT, refAttrName: 'alpha' }] }] }],
    graph: {
      name: 'new',
      input: [vi('x', [2, 3])],
      output: [vi('y', [2, 3])],
      valueInfo: [vi('c3', [3])],
      node: [
        { opType: 'Constant', output: ['c1'], attribute: [{ name: 'value_ints', type: AT.INTS, ints: [2, 3] }] },
        { opType: 'Constant', output: ['c2'], attribute: [{ name: 'value_float', type: AT.FLOAT, f: 0.5 }] },
        { opType: 'Constant', output: ['c3'], attribute: [{ name: 'value', type: AT.TENSOR, t: { dims: [3], dataType: 16, int32Data: [0x3f80, 0x4000, 0x4040] } }] },
        { opType: 'Reshape', input: ['x', 'c1'], output: ['r'] },
        { opType: 'F', domain: 'local', input: ['r'], output: ['f'], attribute: [{ name: 'alpha', type: AT.FLOAT, f: 0.1 }] },
        { opType: 'Mul', input: ['f', 'c2'], output: ['y'] },
      ],
    },
  }).finish();
  return [
    ['synthetic-old-opset', old],
    ['synthetic-new-opset', fresh],
  ];
}

function corpus(): { models: [string, Uint8Array][]; tensors: [string, Uint8Array][] } {
  const models: [string, Uint8Array][] = synthetic();
  const tensors: [string, Uint8Array][] = [];
  if (existsSync(MODELS)) {
    for (const d of readdirSync(MODELS).sort()) {
      const p = join(MODELS, d, 'model.onnx');
      if (existsSync(p) && statSync(p).size < 4_000_000) models.push([d, load(p)]);
    }
  }
  if (existsSync(NODE)) {
    const picks = ['test_add_bcast', 'test_reshape_reordered_all_dims', 'test_slice', 'test_split_equal_parts_1d_opset13', 'test_constant', 'test_cast_FLOAT_to_FLOAT16', 'test_layer_normalization_4d_axis1_expanded', 'test_attention_3d', 'test_reduce_sum_keepdims_example', 'test_if', 'test_dropout_random_old', 'test_clip_example'];
    for (const d of picks) {
      const p = join(NODE, d, 'model.onnx');
      if (!existsSync(p)) continue;
      models.push([d, load(p)]);
      const t = join(NODE, d, 'test_data_set_0', 'input_0.pb');
      if (existsSync(t)) tensors.push([d, load(t)]);
    }
  }
  return { models, tensors };
}

type Outcome = 'ok' | string;

/** What an imported graph must satisfy however odd its file was. */
function checkGraph(g: Graph): void {
  const defined = new Set([...g.inputs, ...g.constants.keys()]);
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i && !defined.has(i)) throw new Error(`internal: ${n.name} reads undefined ${i}`);
    for (const o of n.outputs) if (o) defined.add(o);
  }
  for (const o of g.outputs) if (!defined.has(o)) throw new Error(`internal: output ${o} undefined`);
  for (const t of g.constants.values()) if (t.size > 1 << 24) throw new Error('internal: tensor above maxElements');
  for (const i of g.inputs) if (!g.types.get(i)) throw new Error(`internal: input ${i} has no type`);
}

/** Runs fn; returns 'ok', the diagnostic code, or throws a description of any other failure. */
function outcome(fn: () => unknown, what: string): Outcome {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof DiagnosticError) {
      if (e.diagnostics.length === 0 || !/^W1\d{3}$/.test(e.diagnostics[0].code)) throw new Error(`${what}: diagnostic without a W1xxx code`);
      return e.diagnostics[0].code;
    }
    throw new Error(`${what}: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}` : String(e)}`);
  }
}

describe('ONNX frontend fuzzing', () => {
  const { models, tensors } = corpus();
  const names = Object.keys(MUTATIONS);

  it('has a corpus to mutate', () => {
    expect(models.length).toBeGreaterThanOrEqual(10);
    expect(tensors.length).toBeGreaterThanOrEqual(5);
    // unmutated seeds import (test_if is the one meant to be refused: control flow)
    for (const [name, bytes] of models) {
      expect(outcome(() => checkGraph(importOnnx(bytes, { modelPath: '/models/m/model.onnx', host })), name), name).toBe(name === 'test_if' ? 'W1010' : 'ok');
    }
  });

  it('mutated models import or fail with a diagnostic', () => {
    const failures: string[] = [];
    const seen = new Map<Outcome, number>();
    let cases = 0;
    for (const [mi, [name, bytes]] of models.entries()) {
      const perModel = bytes.length > 100_000 ? 150 : 400;
      for (let k = 0; k < perModel; k++) {
        const seed = mi * 100_003 + k;
        const r = mulberry32(seed);
        const mut = names[int(r, names.length)];
        let b = MUTATIONS[mut](bytes, r);
        if (r() < 0.2) b = MUTATIONS[names[int(r, names.length)]](b, r); // sometimes two mutations
        const opts = { modelPath: '/models/m/model.onnx', host, maxElements: 1 << 24 };
        try {
          const o = outcome(() => checkGraph(importOnnx(b, opts)), `${name} seed ${seed} (${mut})`);
          seen.set(o, (seen.get(o) ?? 0) + 1);
        } catch (e) {
          failures.push((e as Error).message);
        }
        cases++;
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    if (process.env.FUZZ_STATS) console.log(cases, [...seen]);
    expect(cases).toBeGreaterThan(3000);
    // the mutations reach past the decoder: several distinct diagnostics and some still-valid models
    expect(seen.get('ok') ?? 0).toBeGreaterThan(50);
    expect([...seen.keys()].filter((k) => k !== 'ok').length).toBeGreaterThanOrEqual(5);
  });

  it('mutated test-data files read or fail with a diagnostic', () => {
    const failures: string[] = [];
    let cases = 0;
    for (const [ti, [name, bytes]] of tensors.entries()) {
      for (let k = 0; k < 200; k++) {
        const seed = 7_000_001 + ti * 1_009 + k;
        const r = mulberry32(seed);
        const mut = names[int(r, names.length)];
        const b = MUTATIONS[mut](bytes, r);
        try {
          outcome(() => readTensorProto(b, { maxElements: 1 << 24 }), `${name}/input_0.pb seed ${seed} (${mut})`);
        } catch (e) {
          failures.push((e as Error).message);
        }
        cases++;
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    expect(cases).toBeGreaterThan(1000);
  });

  it('the PRNG is deterministic', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(xs).toEqual(Array.from({ length: 5 }, () => b()));
    expect(new Set(xs).size).toBe(5);
  });
});
