import { readFileSync } from 'fs';
import { compile } from './compiler/compile.js';
import { resolveTarget } from './ir/target-presets.js';
import { DiagnosticError } from './ir/diagnostics.js';
const t = resolveTarget(process.argv[2]); t.sram.bytesPerCore = Number(process.argv[3]);
try { compile(readFileSync('examples/tiny-attention/model.onnx'), { target: t }); console.log('ok'); } catch (e) { console.log(JSON.stringify((e as DiagnosticError).diagnostics, null, 1)); }
