/**
 * ONNX frontend diagnostics: every W1xxx code from a small bad model (or file), with its location and
 * the words a user needs; external data read through a host, and refused outside the model folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHost, type ImportHost } from '../compiler/host.js';
import { bindDims, bindDimsFromInputs, importOnnx, readTensorProto } from '../compiler/frontend/onnx/index.js';
import { Tensor } from '../ir/tensor.js';
import { a, AT, codeOf, constOf, diagsOf, encode, f32, load, node, onnx, raw, values, vi, type ITensor, type ModelSpec } from './frontend-onnx-helpers.js';

// ---- external data ------------------------------------------------------------------------------

describe('external data', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wafer-onnx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modelPath = join(dir, 'model.onnx');
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(new Float32Array([9, 1, 2, 3, 4]).buffer));
  const ext = (location: string, offset?: number, length?: number): ITensor => ({
    name: 'w',
    dims: [2, 2],
    dataType: 1,
    dataLocation: 1,
    externalData: [
      { key: 'location', value: location },
      ...(offset !== undefined ? [{ key: 'offset', value: String(offset) }] : []),
      ...(length !== undefined ? [{ key: 'length', value: String(length) }] : []),
    ],
  });
  const spec = (t: ITensor): ModelSpec => ({ initializers: [t], inputs: [], nodes: [node('Identity', ['w'], ['y'])] });

  it('reads a range of a file next to the model, with and without readRange', () => {
    const g = load(spec(ext('weights.bin', 4, 16)), { modelPath, host: nodeHost });
    expect(values(constOf(g, 'w'))).toEqual([1, 2, 3, 4]);
    const reads: string[] = [];
    const plain: ImportHost = { readFile: (p) => (reads.push(p), nodeHost.readFile(p)), fileSize: (p) => nodeHost.fileSize(p) };
    const g2 = load(spec(ext('./sub/../weights.bin', 4)), { modelPath, host: plain });
    expect(values(constOf(g2, 'w'))).toEqual([1, 2, 3, 4]);
    expect(reads).toEqual([join(dir, 'weights.bin')]);
  });

  it('refuses paths outside the model folder, missing files, bad ranges and a missing host (W1005)', () => {
    const opts = { modelPath, host: nodeHost };
    for (const loc of ['../weights.bin', '/etc/passwd', 'sub/../../x.bin', 'C:\\x.bin']) {
      const d = diagsOf(() => load(spec(ext(loc)), opts));
      expect(d[0].code, loc).toBe('W1005');
      expect(d[0].message).toContain('outside the model folder');
    }
    expect(diagsOf(() => load(spec(ext('nope.bin')), opts))[0].message).toContain('missing');
    expect(codeOf(() => load(spec(ext('weights.bin', 8, 16)), opts))).toBe('W1005');
    expect(codeOf(() => load(spec(ext('weights.bin', 0, 12)), opts))).toBe('W1004');
    const noHost = diagsOf(() => load(spec(ext('weights.bin', 4))));
    expect(noHost[0].code).toBe('W1005');
    expect(noHost[0].hint).toContain('host');
    expect(noHost[0].location).toBe("initializer 'w'");
  });
});

// ---- diagnostics --------------------------------------------------------------------------------

describe('diagnostics', () => {
  const ok: ModelSpec = { nodes: [node('Relu', ['x'], ['y'])] };

  it('W1001 for truncated, garbage and empty bytes', () => {
    const good = encode(ok);
    expect(codeOf(() => importOnnx(good.subarray(0, good.length - 5)))).toBe('W1001');
    expect(codeOf(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])))).toBe('W1001');
    expect(diagsOf(() => importOnnx(new Uint8Array(0)))[0].message).toContain('no graph');
  });

  it('W1002 names unsupported dtypes', () => {
    const s = diagsOf(() => load({ ...ok, initializers: [{ name: 's', dims: [1], dataType: 8, stringData: [new Uint8Array([65])] }] }));
    expect(s[0].code).toBe('W1002');
    expect(s[0].message).toContain('STRING');
    expect(s[0].location).toBe("initializer 's'");
    expect(diagsOf(() => load({ ...ok, inputs: [vi('x', [2], 14)] }))[0].message).toContain('COMPLEX64');
    expect(diagsOf(() => load({ ...ok, inputs: [vi('x', [2], 17)] }))[0].message).toContain('FLOAT8E4M3FN');
    const t = diagsOf(() => readTensorProto(onnx.TensorProto.encode({ name: 'x', dims: [1], dataType: 8, stringData: [new Uint8Array([65])] }).finish()));
    expect(t[0].code).toBe('W1002');
  });

  it('W1003 for negative dims and too many elements, before allocating', () => {
    expect(codeOf(() => load({ ...ok, initializers: [f32('w', [-1, 2], [])] }))).toBe('W1003');
    expect(codeOf(() => load({ ...ok, inputs: [vi('x', [-3])] }))).toBe('W1003');
    const huge = diagsOf(() => load({ ...ok, initializers: [f32('w', [2 ** 20, 2 ** 20, 2 ** 10], [])] }));
    expect(huge[0].code).toBe('W1003');
    expect(huge[0].message).toContain('more than the limit');
    expect(codeOf(() => load({ ...ok, initializers: [f32('w', [10, 10], new Array(100).fill(0))] }, { maxElements: 50 }))).toBe('W1003');
  });

  it('W1004 for payloads that disagree with the dims', () => {
    const d = diagsOf(() => load({ ...ok, initializers: [raw('w', 1, [3], new Float32Array([1, 2]))] }));
    expect(d[0].code).toBe('W1004');
    expect(d[0].message).toContain('8 bytes, expected 12');
    expect(codeOf(() => load({ ...ok, initializers: [f32('w', [3], [1, 2])] }))).toBe('W1004');
    expect(codeOf(() => load({ ...ok, initializers: [{ name: 'w', dims: [2], dataType: 7 }] }))).toBe('W1004');
  });

  it('W1006 for a value defined twice', () => {
    const two = diagsOf(() => load({ nodes: [node('Relu', ['x'], ['y'], [], 'a'), node('Neg', ['x'], ['y'], [], 'b')] }));
    expect(two[0].code).toBe('W1006');
    expect(two[0].location).toBe('b');
    expect(codeOf(() => load({ nodes: [node('Relu', ['x'], ['x'], [], 'a'), node('Neg', ['x'], ['y'])] }))).toBe('W1006');
    expect(codeOf(() => load({ ...ok, initializers: [f32('w', [1], [1]), f32('w', [1], [2])] }))).toBe('W1006');
    expect(codeOf(() => load({ nodes: [node('Constant', [], ['x'], [a.f('value_float', 1)]), node('Relu', ['x'], ['y'])] }))).toBe('W1006');
  });

  it('W1007 lists every value read but never produced', () => {
    const d = diagsOf(() => load({ nodes: [node('Add', ['x', 'ghost'], ['a'], [], 'n1'), node('Add', ['a', 'phantom'], ['y'], [], 'n2')] }));
    expect(d.map((x) => [x.code, x.location])).toEqual([['W1007', 'n1'], ['W1007', 'n2']]);
    expect(d[0].message).toContain("'ghost'");
    const out = diagsOf(() => load({ ...ok, outputs: [vi('nowhere', [])] }));
    expect(out[0].code).toBe('W1007');
    expect(out[0].location).toBe('nowhere');
  });

  it('W1008 for a real cycle, naming its nodes', () => {
    const d = diagsOf(() => load({ nodes: [node('Relu', ['x'], ['p'], [], 'head'), node('Add', ['p', 'r'], ['q'], [], 'a'), node('Neg', ['q'], ['r'], [], 'b'), node('Abs', ['r'], ['y'], [], 'tail')] }));
    expect(d[0].code).toBe('W1008');
    expect(d[0].message).toMatch(/a -> b -> a|b -> a -> b/);
    expect(codeOf(() => load({ nodes: [node('Add', ['x', 'y'], ['y'], [], 'self')] }))).toBe('W1008');
  });

  it('W1009 for an opset newer than supported', () => {
    const d = diagsOf(() => load({ ...ok, opset: 99 }));
    expect(d[0].code).toBe('W1009');
    expect(d[0].message).toContain('99');
    expect(load({ ...ok, opset: 28 }).opset).toBe(28);
  });

  it('W1010 lists every unsupported op at once with its first node and count', () => {
    const d = diagsOf(() =>
      load({
        nodes: [
          node('FooOp', ['x'], ['a'], [], 'f1'),
          node('BarOp', ['a'], ['b'], [], 'b1'),
          node('FooOp', ['b'], ['c'], [], 'f2'),
          node('FusedMatMul', ['c', 'c'], ['d'], [], 'm1', 'com.microsoft'),
          node('If', ['x'], ['y'], [{ name: 'then_branch', type: AT.GRAPH, g: { name: 't' } }], 'if1'),
          node('Constant', [], ['k'], [a.s('value_string', 'hi')], 'k1'),
        ],
        extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
      }),
    );
    expect(d.map((x) => x.code)).toEqual(['W1010', 'W1010', 'W1010', 'W1010', 'W1010']);
    expect(d.map((x) => x.message)).toEqual([
      'unsupported operator FooOp',
      'unsupported operator BarOp',
      'unsupported operator com.microsoft:FusedMatMul',
      'unsupported operator If',
      'unsupported operator Constant(value_string)',
    ]);
    expect(d[0].location).toBe('f1');
    expect(d[0].hint).toContain('used by 2 nodes');
    expect(d[1].hint).toContain('used by 1 node;');
  });

  it('W1011 for malformed attributes and Constant nodes', () => {
    expect(codeOf(() => load({ nodes: [node('Constant', [], ['c'], [a.f('value_float', 1), a.i('value_int', 1)]), node('Add', ['x', 'c'], ['y'])] }))).toBe('W1011');
    expect(codeOf(() => load({ nodes: [node('Relu', ['x'], ['y'], [{ name: 'weird', type: 99 as never, i: 1 }])] }))).toBe('W1011');
    expect(codeOf(() => load({ nodes: [node('LeakyRelu', ['x'], ['y'], [a.f('alpha', 1), a.f('alpha', 2)])] }))).toBe('W1011');
    // an attribute written without a type (IR v1 files) gets it from the field that is set
    const g = load({ nodes: [node('LeakyRelu', ['x'], ['y'], [{ name: 'alpha', f: 0.5 }])] });
    expect(g.nodes[0].attrs.alpha).toEqual({ kind: 'float', value: 0.5 });
  });

  it('W1012 for invalid or inconsistent dim bindings', () => {
    const g = load({ nodes: [node('Add', ['x', 'z'], ['y'])], inputs: [vi('x', ['n', 3]), vi('z', ['n', 3])] });
    expect(codeOf(() => bindDims(g, { n: -1 }))).toBe('W1012');
    expect(codeOf(() => bindDims(g, { n: 1.5 }))).toBe('W1012');
    const t = (shape: number[]) => Tensor.zeros('float32', shape);
    const clash = diagsOf(() => bindDimsFromInputs(g, new Map([['x', t([2, 3])], ['z', t([4, 3])]])));
    expect(clash[0].code).toBe('W1012');
    expect(clash[0].message).toContain("'n' is 2 in input 'x' but 4 in input 'z'");
    expect(codeOf(() => bindDimsFromInputs(g, new Map([['x', t([2, 4])]])))).toBe('W1012');
    expect(codeOf(() => bindDimsFromInputs(g, new Map([['x', t([2, 3, 1])]])))).toBe('W1012');
    expect(codeOf(() => bindDimsFromInputs(g, new Map([['x', Tensor.zeros('int64', [2, 3])]])))).toBe('W1012');
    const bound = bindDimsFromInputs(g, new Map([['x', t([5, 3])], ['z', t([5, 3])]]));
    expect(bound.types.get('z')!.shape).toEqual([5, 3]);
  });

  it('W1013 for malformed graph inputs', () => {
    expect(codeOf(() => load({ ...ok, inputs: [{ name: 'x' }] }))).toBe('W1013');
    // a sequence is an unsupported type rather than a malformed input
    const seq = diagsOf(() => load({ ...ok, inputs: [{ name: 'x', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } }] }));
    expect(seq[0].code).toBe('W1002');
    expect(seq[0].message).toContain('sequence');
    expect(codeOf(() => load({ ...ok, inputs: [{ name: 'x', type: { tensorType: { elemType: 1 } } }] }))).toBe('W1013');
  });

  it('W1014 for files that are not TensorProtos', () => {
    expect(codeOf(() => readTensorProto(new Uint8Array([0x0a, 0xff, 0xff])))).toBe('W1014');
    expect(codeOf(() => readTensorProto(onnx.TensorProto.encode({ name: 'x', dims: [1] }).finish()))).toBe('W1014');
    expect(codeOf(() => readTensorProto(onnx.TensorProto.encode({ name: 'x', dims: [4], dataType: 1, floatData: [1] }).finish()))).toBe('W1014');
  });
});
