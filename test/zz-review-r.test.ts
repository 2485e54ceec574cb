import { describe, it } from 'vitest';
import { compile } from '../compiler/compile.js';
import { seededFloats } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { expectRun } from './helpers/expect-run.js';
import { readFileSync, readdirSync } from 'node:fs';

const dir = '/tmp/zzr';
const only = process.env.ZZ;
const files = readdirSync(dir).filter((f) => f.endsWith('.g') && (!only || only.split(',').includes(f.replace('.g', '')))).sort();
const dt: Record<string, string> = { f32: 'float32', f16: 'float16', i64: 'int64', i32: 'int32', bool: 'bool' };
describe('review', () => {
  for (const f of files) it(f, () => {
    const text = readFileSync(`${dir}/${f}`, 'utf8');
    const mesh = /#mesh (\S+)/.exec(text)?.[1] ?? 'mesh:4x4';
    const g = parseGraph(text.replace(/^#.*$/gm, ''));
    const feeds = new Map<string, Tensor>();
    let k = 1;
    for (const name of g.inputs) {
      const t = g.types.get(name)! as any;
      const shape = t.shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      const d = t.dtype;
      let data: number[] = Array.from(seededFloats(k++ * 7, n, 1));
      if (d === 'int64' || d === 'int32') data = data.map((v, i) => (i * 7 + 3) % 5);
      if (d === 'bool') data = data.map((v) => (v > 0 ? 1 : 0));
      feeds.set(name, Tensor.from(d, shape, data));
    }
    const opts: any = {};
    for (const m of text.matchAll(/#opt (\w+)=(\S+)/g)) opts[m[1]] = m[2];
    const res = compile(g, { target: resolveTarget(mesh), layout: 'distributed', ...opts } as any);
    if (process.env.ZZV) console.log("P", (res as any).mesh?.ops?.[0]?.region); if (process.env.ZZV) for (const op of (res as any).mesh?.ops ?? []) console.log(op.name, op.kernel, JSON.stringify(op.params));
    expectRun(res, feeds);
  });
});
