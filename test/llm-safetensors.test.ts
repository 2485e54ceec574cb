/**
 * Safetensors reading and writing (compiler/frontend/llm/safetensors.ts): exact round trips of
 * F32/F16/BF16 tensors through an in-memory host, sharded sets with an index, one W1103 per kind of
 * malformation, and a seeded byte-mutation fuzz whose only outcomes may be Tensors or DiagnosticErrors.
 */
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, openSafetensors, type SafetensorsOptions } from '../compiler/frontend/llm/safetensors.js';
import type { ImportHost } from '../compiler/host.js';
import { DiagnosticError } from '../ir/diagnostics.js';
import type { DType } from '../ir/dtype.js';
import { mulberry32 } from '../ir/random.js';
import { Tensor, tensorsIdentical } from '../ir/tensor.js';

const P = '/w/model.safetensors';

interface MemHost extends ImportHost {
  calls: string[];
}

/** Files from memory; `ranged` adds readRange. Records every call. */
function memHost(files: Record<string, Uint8Array>, ranged = true): MemHost {
  const calls: string[] = [];
  const get = (p: string) => {
    const f = files[p];
    if (!f) throw new Error(`ENOENT: ${p}`);
    return f;
  };
  const host: MemHost = {
    calls,
    readFile: (p) => (calls.push(`readFile ${p}`), get(p)),
    fileSize: (p) => get(p).length,
  };
  if (ranged) {
    host.readRange = (p, offset, length) => {
      calls.push(`readRange ${p} ${offset} ${length}`);
      const f = get(p);
      if (offset + length > f.length) throw new Error('range beyond end of file');
      return f.slice(offset, offset + length);
    };
  }
  return host;
}

/** A file from a raw header (object or text) and data bytes. */
function rawFile(header: unknown, data: Uint8Array | number = 0, headerLen?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + d.length);
  new DataView(out.buffer).setUint32(0, headerLen ?? json.length, true);
  out.set(json, 8);
  out.set(d, 8 + json.length);
  return out;
}

function open(files: Record<string, Uint8Array>, path = '/w/model.safetensors', options?: SafetensorsOptions) {
  return openSafetensors(memHost(files), path, options);
}

/** Runs fn, expecting a W1103 whose text contains every fragment. */
function expectW1103(fn: () => unknown, ...fragments: string[]): DiagnosticError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a DiagnosticError').toBeInstanceOf(DiagnosticError);
  const d = err as DiagnosticError;
  expect(d.diagnostics[0].code).toBe('W1103');
  expect(d.diagnostics[0].hint).toBeTruthy();
  for (const f of fragments) expect(d.message).toContain(f);
  return d;
}

const SPECIAL = [0, -0, 1, -1.5, 65504, 1e-7, 6e-8, 1e38, -Infinity, Infinity, NaN, Math.PI, 1 / 3, -2.5e-5];

function sample(dtype: DType, shape: number[], seed: number): Tensor {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => (i < SPECIAL.length ? SPECIAL[i] : (r() * 2 - 1) * 10 ** Math.floor(r() * 8 - 4)));
  return Tensor.from(dtype, shape, v);
}

function sameTensor(a: Tensor, b: Tensor): void {
  expect(b.dtype).toBe(a.dtype);
  expect(b.shape).toEqual(a.shape);
  expect(tensorsIdentical(a, b)).toBe(true);
  for (let i = 0; i < a.size; i++) expect(Object.is(a.data[i], b.data[i]) || (Number.isNaN(a.data[i]) && Number.isNaN(b.data[i]))).toBe(true);
}

const TENSORS = {
  'model.embed.weight': sample('bfloat16', [7, 5], 1),
  'layers.0.attn.q': sample('float16', [4, 6], 2),
  'layers.0.norm': sample('float32', [17], 3),
  'scalar.f32': sample('float32', [], 4),
  'empty.f16': sample('float16', [0, 3], 5),
};

describe('round trip', () => {
  for (const ranged of [true, false]) {
    it(`encodes and reads f32/f16/bf16 exactly (${ranged ? 'readRange' : 'readFile'} host)`, () => {
      const bytes = encodeSafetensors(TENSORS, { format: 'pt', note: 'wafer' });
      const host = memHost({ '/w/model.safetensors': bytes }, ranged);
      const set = openSafetensors(host, '/w/model.safetensors');
      expect([...set.entries.keys()].sort()).toEqual(Object.keys(TENSORS).sort());
      expect(set.metadata).toEqual({ format: 'pt', note: 'wafer' });
      for (const [name, t] of Object.entries(TENSORS)) {
        const e = set.entries.get(name)!;
        expect(e.shape).toEqual(t.shape);
        expect(e.dtype).toBe({ float32: 'F32', float16: 'F16', bfloat16: 'BF16' }[t.dtype as string]);
        expect(e.length).toBe(t.size * (t.dtype === 'float32' ? 4 : 2));
        sameTensor(t, set.read(name));
      }
      if (ranged) {
        expect(host.calls.some((c) => c.startsWith('readFile'))).toBe(false);
        expect(host.calls[0]).toBe('readRange /w/model.safetensors 0 8');
      } else {
        expect(host.calls.filter((c) => c.startsWith('readFile'))).toHaveLength(1); // whole file read once, cached
      }
    });
  }

  it('values are the narrow types\' own (f16 max, bf16 range, subnormals, signed zero)', () => {
    const set = open({ '/w/model.safetensors': encodeSafetensors(TENSORS) });
    const q = set.read('layers.0.attn.q');
    expect(Object.is(q.data[1], -0)).toBe(true);
    expect(q.data[4]).toBe(65504);
    expect(q.data[6]).toBe(2 ** -24); // 6e-8 rounds to the smallest f16 subnormal
    expect(q.data[7]).toBe(Infinity); // 1e38 overflows f16
    expect(set.read('model.embed.weight').data[7]).not.toBe(Infinity); // but not bf16
    expect(set.metadata).toEqual({});
  });

  it('is deterministic: same bytes for a Map or a record in any order, header padded to 8', () => {
    const a = encodeSafetensors(TENSORS, { b: '2', a: '1' });
    const b = encodeSafetensors(new Map(Object.entries(TENSORS).reverse()), { a: '1', b: '2' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const n = new DataView(a.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(a.subarray(8, 8 + n));
    expect(header.indexOf('"empty.f16"')).toBeLessThan(header.indexOf('"layers.0.attn.q"'));
    expect(header.startsWith('{"__metadata__":{"a":"1","b":"2"}')).toBe(true);
  });

  it('refuses to encode other dtypes or a tensor named __metadata__', () => {
    expectW1103(() => encodeSafetensors({ x: Tensor.from('int32', [2], [1, 2]) }), 'int32');
    expectW1103(() => encodeSafetensors({ __metadata__: Tensor.from('float32', [1], [1]) }), '__metadata__');
  });

  it('reading an unknown name is W1103', () => {
    expectW1103(() => open({ '/w/model.safetensors': encodeSafetensors(TENSORS) }).read('nope'), "'nope'");
  });
});

describe('sharded sets', () => {
  const shard1 = encodeSafetensors({ a: TENSORS['layers.0.norm'], b: TENSORS['layers.0.attn.q'] }, { format: 'pt' });
  const shard2 = encodeSafetensors({ c: TENSORS['model.embed.weight'] }, { format: 'pt' });
  const index = (wm: Record<string, string>, extra: Record<string, unknown> = {}) =>
    new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 1234 }, weight_map: wm, ...extra }));
  const WM = { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' };
  const files = {
    '/m/model.safetensors.index.json': index(WM),
    '/m/model-00001-of-00002.safetensors': shard1,
    '/m/model-00002-of-00002.safetensors': shard2,
  };

  for (const path of ['/m', '/m/', '/m/model.safetensors.index.json']) {
    it(`reads two shards through the index (path ${path})`, () => {
      const set = openSafetensors(memHost(files), path);
      expect([...set.entries.keys()].sort()).toEqual(['a', 'b', 'c']);
      expect(set.entries.get('c')!.file).toBe('/m/model-00002-of-00002.safetensors');
      expect(set.entries.get('a')!.file).toBe('/m/model-00001-of-00002.safetensors');
      expect(set.metadata).toEqual({ format: 'pt', total_size: '1234' });
      sameTensor(TENSORS['layers.0.norm'], set.read('a'));
      sameTensor(TENSORS['layers.0.attn.q'], set.read('b'));
      sameTensor(TENSORS['model.embed.weight'], set.read('c'));
    });
  }

  it('a folder prefers the index over model.safetensors, and falls back to it', () => {
    const single = encodeSafetensors({ only: TENSORS['scalar.f32'] });
    expect([...openSafetensors(memHost({ ...files, '/m/model.safetensors': single }), '/m').entries.keys()]).toEqual(['a', 'b', 'c']);
    expect([...openSafetensors(memHost({ '/m/model.safetensors': single }), '/m').entries.keys()]).toEqual(['only']);
    expectW1103(() => openSafetensors(memHost({}), '/nothing'), '/nothing', 'model.safetensors.index.json');
  });

  it('index malformations are W1103', () => {
    const idx = '/m/model.safetensors.index.json';
    const withIndex = (bytes: Uint8Array) => () => openSafetensors(memHost({ ...files, [idx]: bytes }), '/m');
    expectW1103(withIndex(index({ ...WM, c: 'model-00003-of-00002.safetensors' })), 'model-00003-of-00002.safetensors', 'missing');
    expectW1103(withIndex(index({ ...WM, c: '../other/model.safetensors' })), '../other/model.safetensors', 'outside');
    expectW1103(withIndex(index({ ...WM, c: 'sub/../../x.safetensors' })), 'outside');
    expectW1103(withIndex(index({ ...WM, c: '/etc/model.safetensors' })), 'outside');
    expectW1103(withIndex(index({ ...WM, c: 'C:\\w\\x.safetensors' })), 'outside');
    expectW1103(withIndex(index({ ...WM, d: 'model-00002-of-00002.safetensors' })), "tensor 'd'", 'does not hold it');
    expectW1103(withIndex(index({ ...WM, c: 7 } as never)), "'c'", 'not a file name');
    expectW1103(withIndex(index({})), 'names no tensors');
    expectW1103(withIndex(new TextEncoder().encode('{"weight_map": {"a": ')), 'not valid UTF-8 JSON');
    expectW1103(withIndex(new TextEncoder().encode('{"metadata": {}}')), 'weight_map');
    expectW1103(withIndex(new TextEncoder().encode('[1, 2]')), 'not a JSON object');
    expectW1103(withIndex(index(WM, { metadata: [1] })), 'metadata');
  });

  it('a shard\'s own malformation is reported against the shard', () => {
    const broken = shard2.slice(0, 20);
    const d = expectW1103(() => openSafetensors(memHost({ ...files, '/m/model-00002-of-00002.safetensors': broken }), '/m'), 'larger than the file');
    expect(d.diagnostics[0].location).toBe('/m/model-00002-of-00002.safetensors');
  });
});

describe('malformed files are W1103', () => {
  const good = { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] };
  const one = (header: unknown, data: Uint8Array | number = 24, opts?: SafetensorsOptions) => () => open({ [P]: rawFile(header, data) }, P, opts);

  it('the valid baseline opens', () => {
    expect(one({ t: good })().read('t').shape).toEqual([2, 3]);
  });

  it('header length: truncated, longer than the file, above 2^53, above the cap', () => {
    expectW1103(() => open({ [P]: new Uint8Array(5) }), 'too short', '8-byte');
    expectW1103(() => open({ [P]: new Uint8Array(0) }), 'too short');
    const f = rawFile({ t: good }, 24);
    const dv = new DataView(f.buffer);
    dv.setUint32(0, f.length - 7, true);
    expectW1103(() => open({ [P]: f }), 'larger than the file');
    dv.setUint32(0, 0, true);
    dv.setUint32(4, 1, true); // 2^32: fits in 2^53 but not in the file
    expectW1103(() => open({ [P]: f }), `header length ${2 ** 32}`, 'larger than the file');
    dv.setUint32(4, 0x200000, true); // exactly 2^53
    expectW1103(() => open({ [P]: f }), `header length ${2n ** 53n}`, '2^53');
    dv.setUint32(0, 0xffffffff, true);
    dv.setUint32(4, 0xffffffff, true);
    expectW1103(() => open({ [P]: f }), '18446744073709551615');
    expectW1103(one({ t: good }, 24, { maxHeaderBytes: 16 }), 'limit');
    // a huge claimed file: the cap refuses before anything is read past the length
    const host: ImportHost = {
      fileSize: () => 2 ** 40,
      readFile: () => { throw new Error('must not read the whole file'); },
      readRange: (_p, off, len) => {
        if (off !== 0 || len !== 8) throw new Error('must not read past the length');
        const b = new Uint8Array(8);
        new DataView(b.buffer).setUint32(0, 200 * 1024 * 1024, true);
        return b;
      },
    };
    expectW1103(() => openSafetensors(host, P), '104857600-byte limit');
  });

  it('header JSON: invalid, invalid UTF-8, not an object, too short', () => {
    expectW1103(one('{"t": {"dtype": "F32",'), 'not valid UTF-8 JSON');
    const f = rawFile('{"\u00e9":1}');
    f[10] = 0xff;
    expectW1103(() => open({ [P]: f }), 'UTF-8');
    expectW1103(one('[1,2,3]'), 'not a JSON object');
    expectW1103(one('null'), 'not a JSON object');
    expectW1103(() => open({ [P]: rawFile('{', 0) }), 'too small');
    expectW1103(one({ t: 5 }), "tensor 't'", 'not an object');
    expectW1103(one({ __metadata__: { a: 1 } }), '__metadata__', "'a'");
    expectW1103(one({ __metadata__: 'x' }), '__metadata__');
  });

  it('dtype: unknown names the tensor and the dtype, and says what is supported', () => {
    const d = expectW1103(one({ 'lm_head.weight': { ...good, dtype: 'I64', data_offsets: [0, 48] } }, 48), "'lm_head.weight'", 'I64');
    expect(d.diagnostics[0].hint).toContain('F32, F16, BF16');
    expect(d.diagnostics[0].location).toBe(`${P}: tensor 'lm_head.weight'`);
    expectW1103(one({ t: { ...good, dtype: 'F8_E4M3' } }), 'F8_E4M3');
    expectW1103(one({ t: { ...good, dtype: 'toString' } }), 'toString');
    expectW1103(one({ t: { ...good, dtype: 4 } }), 'dtype');
  });

  it('shape and offsets', () => {
    expectW1103(one({ t: { ...good, shape: [2, 4] } }), 'hold 24 bytes', 'needs 32');
    expectW1103(one({ t: { ...good, dtype: 'BF16' } }), 'needs 12');
    expectW1103(one({ t: { ...good, shape: [-2, -3] } }), 'invalid dim -2');
    expectW1103(one({ t: { ...good, shape: [2.5, 3] } }), 'invalid dim 2.5');
    expectW1103(one({ t: { ...good, shape: ['2', 3] } }), 'invalid dim');
    expectW1103(one({ t: { ...good, shape: 6 } }), 'shape');
    expectW1103(one({ t: { ...good, shape: [2 ** 20, 2 ** 20] } }), 'more than the limit');
    expectW1103(one({ t: good }, 24, { maxElements: 5 }), 'more than the limit 5');
    expectW1103(one({ t: { ...good, data_offsets: [8, 32] } }), 'past the end');
    expectW1103(one({ t: { ...good, data_offsets: [2 ** 60, 2 ** 60 + 24] } }), 'invalid data_offsets');
    expectW1103(one({ t: { ...good, data_offsets: [24, 0] } }), 'invalid data_offsets');
    expectW1103(one({ t: { ...good, data_offsets: [0, 24, 48] } }), 'data_offsets');
    expectW1103(one({ t: { ...good, data_offsets: [-1, 23] } }), 'invalid data_offsets');
    expectW1103(one({ t: { dtype: 'F32', shape: [6] } }), 'data_offsets');
  });

  it('overlapping entries (also when listed out of order)', () => {
    const b = { dtype: 'F16', shape: [4], data_offsets: [16, 24] };
    expectW1103(one({ z: good, a: b }), "'z'", "'a'", 'overlap');
    // gaps and zero-size tensors are fine
    const set = one({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'F16', shape: [0], data_offsets: [4, 4] }, c: { dtype: 'F16', shape: [2], data_offsets: [8, 12] } })();
    expect(set.read('b').shape).toEqual([0]);
    expectW1103(one({ a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, b: { dtype: 'F16', shape: [0], data_offsets: [4, 4] } }), 'overlap');
  });

  it('a host that returns short reads is W1103, not a RangeError', () => {
    const f = encodeSafetensors(TENSORS);
    const host: ImportHost = { fileSize: () => f.length, readFile: () => f, readRange: (_p, o, l) => f.slice(o, o + Math.max(0, l - 1)) };
    expectW1103(() => openSafetensors(host, P), 'ended early');
  });
});

describe('fuzz', () => {
  it('mutated files give Tensors or W1103 only (seeded)', () => {
    const base = encodeSafetensors(TENSORS, { format: 'pt' });
    const r = mulberry32(0x5afe);
    const int = (n: number) => Math.floor(r() * n);
    let ok = 0;
    let refused = 0;
    for (let c = 0; c < 3000; c++) {
      let b = base.slice();
      const kind = int(4);
      if (kind === 0) for (let k = 1 + int(4); k > 0; k--) b[int(b.length)] ^= 1 << int(8);
      else if (kind === 1) for (let k = 1 + int(6); k > 0; k--) b[int(b.length)] = [0, 0xff, 0x20, 0x22, 0x30 + int(10), int(256)][int(6)];
      else if (kind === 2) b = b.slice(0, int(b.length));
      else for (let k = 1 + int(3); k > 0; k--) b[int(Math.min(b.length, 400))] = int(256); // header region
      try {
        const set = open({ [P]: b }, P);
        for (const name of set.entries.keys()) expect(set.read(name)).toBeInstanceOf(Tensor);
        ok++;
      } catch (e) {
        if (!(e instanceof DiagnosticError) || e.diagnostics[0].code !== 'W1103') throw new Error(`case ${c}: ${String(e)}`);
        refused++;
      }
    }
    expect(ok).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });
});
