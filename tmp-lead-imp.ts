import { readFileSync, readdirSync } from 'node:fs';
import { importOnnx } from './compiler/frontend/onnx/index.js';
import { nodeHost } from './compiler/host.js';
const base = '/work/shared/corpus/models';
for (const d of readdirSync(base)) {
  if (d.startsWith('LICENSE')) continue;
  const p = `${base}/${d}/model.onnx`;
  try { const g = importOnnx(readFileSync(p), { modelPath: p, host: nodeHost }); console.log(d, g.nodes.length, 'nodes', g.constants.size, 'consts', g.opset, g.inputs.map(i => i + ':' + JSON.stringify(g.types.get(i))).join(' ')); }
  catch (e: any) { console.log(d, 'ERR', e.message.slice(0, 300)); }
}
