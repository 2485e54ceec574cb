import { readFileSync, readdirSync } from 'node:fs';
import { importOnnx, readTensorProto } from './compiler/frontend/onnx/index.js';
import { DiagnosticError } from './ir/diagnostics.js';
import { supportedOps } from './ir/ops/index.js';
console.log(supportedOps().length);
for (const d of readdirSync('/work/shared/corpus/models')) {
  try {
    const p = `/work/shared/corpus/models/${d}/model.onnx`;
    const g = importOnnx(readFileSync(p));
    const ops = new Map<string, number>();
    for (const n of g.nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
    console.log(d, g.opset, g.inputs.map((i) => `${i}:${JSON.stringify(g.types.get(i))}`).join(' '), g.nodes.length, g.constants.size, [...ops].map(([k, v]) => `${k}=${v}`).join(' '));
  } catch (e) {
    if (e instanceof DiagnosticError) console.log(d, e.message.split('\n').slice(0, 6).join(' | '));
    else console.log(d, e);
  }
}
