import { parseGraph } from './ir/text.js';
import { compile } from './compiler/compile.js';
import { resolveTarget } from './ir/target-presets.js';
import { emulate } from './runtime/emulate.js';
import { disassemble } from './ir/program-text.js';
import { Tensor } from './ir/tensor.js';
const w = (name: string) => { const t = Tensor.from('float32', [8, 64], Array.from({ length: 512 }, (_, i) => ((i * 7) % 13) / 13 - 0.5)); return t; };
const g = parseGraph(`graph @fan opset 18 {
  input %x : f32[1,8]
  %a : f32[1,8] = Relu(%x) @r
  %p1 : f32[1,64] = MatMul(%a, %w1) @m1
  %p2 : f32[1,64] = MatMul(%a, %w2) @m2
  %p3 : f32[1,64] = MatMul(%a, %w3) @m3
  %s : f32[1,64] = Add(%p1, %p2) @s1
  %y : f32[1,64] = Add(%s, %p3) @s2
  output %y
}`);
for (const n of ['w1', 'w2', 'w3']) { g.constants.set(n, w(n)); g.types.set(n, { dtype: 'float32', shape: [8, 64] }); }
const t = resolveTarget('mesh:4x4');
t.sram.bytesPerCore = Number(process.argv[2] ?? 3000);
t.router.colours = Number(process.argv[3] ?? 18);
const res = compile(g, { target: t });
console.log(res.notes, res.state.routes!.map((r) => `${r.op} c${r.colour} (${r.src.x},${r.src.y})->(${r.dests[0].x},${r.dests[0].y})`));
if (process.env.DIS) console.log(disassemble(res.program));
const x = Float32Array.from({ length: 8 }, (_, i) => i - 4);
const r = emulate(res.program, { mode: 'functional', inputs: new Map([['x', x]]) });
console.log(r.totalCycles, JSON.stringify(r.prediction), Array.from(r.outputs![0].data).slice(0, 4));
