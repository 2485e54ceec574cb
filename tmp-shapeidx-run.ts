// throwaway: run ONNX node tests for given regex through importOnnx + evaluateGraph
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { importOnnx, readTensorProto } from './compiler/frontend/onnx/index.js';
import { shapeOps } from './ir/ops/shape.js';
import { indexingOps } from './ir/ops/indexing.js';
import { getOp } from './ir/ops/index.js';
const MINE = new Set(Object.keys({ ...shapeOps, ...indexingOps }));
const onlyMine = process.argv[4] === 'mine';
import type { Tensor } from './ir/tensor.js';
const [root, re] = process.argv.slice(2);
let pass = 0, fail = 0;
for (const name of readdirSync(root).sort()) {
  if (!new RegExp(re).test(name)) continue;
  const dir = join(root, name);
  if (onlyMine) {
    const onnxPkg = (await import('onnx-proto')).default;
    const m = onnxPkg.onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
    if (!(m.graph?.node ?? []).some((n) => MINE.has(String(n.opType)))) continue;
  }
  try {
    const g = importOnnx(readFileSync(join(dir, 'model.onnx')));
    const ds = join(dir, 'test_data_set_0');
    const files = (p: string) => readdirSync(ds).filter((f) => f.startsWith(p)).sort((a, b) => parseInt(a.slice(p.length)) - parseInt(b.slice(p.length)));
    const ins = new Map<string, Tensor>();
    const realInputs = g.inputs.filter((n) => !g.constants.has(n));
    files('input_').forEach((f, i) => { const t = readTensorProto(readFileSync(join(ds, f))); ins.set(realInputs[i], t.tensor); });
    // infer check too: all inputs as constants
    const out = new Map<string, Tensor>([...g.constants, ...ins]);
    for (const n of g.nodes) {
      const def = getOp(n.op, n.domain);
      if (!def) throw new Error('unsupported ' + n.op);
      const args = n.inputs.map((v) => (v ? out.get(v) : undefined));
      const info = { name: n.name, opset: g.opset, numOutputs: n.outputs.length };
      const ty = def.infer(args.map((t) => t && { type: { dtype: t.dtype, shape: [...t.shape] }, value: t }), n.attrs, info);
      const res = def.evaluate(args, n.attrs, info);
      n.outputs.forEach((o, k) => { out.set(o, res[k]); if (ty[k].dtype !== res[k].dtype || ty[k].shape.join() !== res[k].shape.join()) throw new Error(`infer/eval mismatch ${o}`); });
    }
    const exp = files('output_').map((f) => readTensorProto(readFileSync(join(ds, f))).tensor);
    const msgs: string[] = [];
    g.outputs.forEach((o, i) => {
      const a = out.get(o)!; const b = exp[i];
      if (a.dtype !== b.dtype) msgs.push(`${o}: dtype ${a.dtype} vs ${b.dtype}`);
      if (a.shape.join() !== b.shape.join()) { msgs.push(`${o}: shape [${a.shape}] vs [${b.shape}]`); return; }
      let worst = 0;
      for (let k = 0; k < a.size; k++) { const x = a.data[k], y = b.data[k]; if (Number.isNaN(x) && Number.isNaN(y)) continue; const e = Math.abs(x - y) / Math.max(1e-6, Math.abs(y)); if (!(e <= worst)) worst = e; }
      if (!(worst < 1e-5)) msgs.push(`${o}: rel err ${worst} got ${Array.from(a.data).slice(0, 8)} want ${Array.from(b.data).slice(0, 8)}`);
    });
    if (msgs.length) { fail++; console.log('FAIL', name, msgs.join('; ')); } else pass++;
  } catch (e) { fail++; console.log('ERR ', name, String((e as Error).message).split('\n').slice(0, 2).join(' | ')); }
}
console.log(`pass ${pass} fail ${fail}`);
