import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { importOnnx, readTensorProto } from './compiler/frontend/onnx/index.js';
import { nodeHost } from './compiler/host.js';
import { DiagnosticError } from './ir/diagnostics.js';
const roots = process.argv.slice(2);
const codes = new Map<string, number>();
const other: string[] = [];
let pb = 0; const pbErr = new Map<string, number>();
const t0 = Date.now();
for (const root of roots) for (const d of readdirSync(root)) {
  const p = `${root}/${d}/model.onnx`;
  if (!existsSync(p)) continue;
  try {
    importOnnx(readFileSync(p), { modelPath: p, host: nodeHost });
    codes.set('ok', (codes.get('ok') ?? 0) + 1);
  } catch (e) {
    if (e instanceof DiagnosticError) {
      const c = [...new Set(e.diagnostics.map((x) => x.code))].join('+');
      codes.set(c, (codes.get(c) ?? 0) + 1);
      if (c !== 'W1010') other.push(`${d}: ${e.diagnostics[0].code} ${e.diagnostics[0].message} @${e.diagnostics[0].location}`);
    } else other.push(`${d}: CRASH ${e}`);
  }
  for (const s of readdirSync(`${root}/${d}`)) {
    if (!s.startsWith('test_data_set')) continue;
    for (const f of readdirSync(`${root}/${d}/${s}`)) {
      if (!f.endsWith('.pb')) continue;
      pb++;
      try { readTensorProto(readFileSync(`${root}/${d}/${s}/${f}`)); } catch (e) {
        const k = e instanceof DiagnosticError ? e.diagnostics[0].code + ' ' + e.diagnostics[0].message.slice(0, 50) : 'CRASH ' + e;
        pbErr.set(k, (pbErr.get(k) ?? 0) + 1);
      }
    }
  }
}
console.log(codes, Date.now() - t0, 'ms');
console.log(other.join('\n'));
console.log(pb, pbErr);
