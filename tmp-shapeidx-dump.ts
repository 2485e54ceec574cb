import onnxPkg from 'onnx-proto';
import { readFileSync, readdirSync } from 'node:fs';
const { onnx } = onnxPkg;
for (const dir of process.argv.slice(2)) {
  const m = onnx.ModelProto.decode(readFileSync(dir + '/model.onnx'));
  const g = m.graph!;
  const ops = (m.opsetImport ?? []).map((o) => `${o.domain || ''}:${o.version}`).join(',');
  console.log('==', dir.split('/').slice(-2).join('/'), 'opset', ops);
  for (const n of g.node ?? []) {
    const attrs = (n.attribute ?? []).map((a) => {
      const v = a.t ? `tensor(dt=${a.t.dataType},dims=${a.t.dims})` : a.ints?.length ? `[${a.ints}]` : a.floats?.length ? `[${a.floats}]` : a.s?.length ? Buffer.from(a.s).toString() : a.type === 2 ? String(a.i) : a.type === 1 ? String(a.f) : `type${a.type}`;
      return `${a.name}=${v}`;
    });
    console.log('  ', n.opType, 'in', n.input, 'out', n.output, attrs.join(' '));
  }
  const ty = (v: any) => `${v.name}:${v.type?.tensorType?.elemType}[${(v.type?.tensorType?.shape?.dim ?? []).map((d: any) => d.dimValue ?? d.dimParam)}]`;
  console.log('   inputs', (g.input ?? []).map(ty).join(' '), 'outputs', (g.output ?? []).map(ty).join(' '), 'inits', (g.initializer ?? []).map((t) => t.name));
}
