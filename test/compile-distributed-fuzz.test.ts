/**
 * Distributed mode on seeded random models: chains of GEMMs (plain, A·Wᵀ, Gemm with bias), elementwise
 * ops with vec / col / scalar broadcasts, reductions over either axis, Softmax and the
 * normalizations, on random square meshes with random GEMM and allreduce choices. Every case must
 * compile, match the reference evaluation, and run in exactly the predicted cycles.
 */
import { describe, expect, it } from 'vitest';
import { compareTensors } from '../cli/compare.js';
import { compile } from '../compiler/compile.js';
import { evaluateGraph } from '../ir/evaluate.js';
import { mulberry32, seededFloats } from '../ir/random.js';
import { resolveTarget } from '../ir/target-presets.js';
import { Tensor } from '../ir/tensor.js';
import { parseGraph } from '../ir/text.js';
import { emulate } from '../runtime/emulate.js';

interface Case { text: string; feeds: Map<string, Tensor>; spec: string; gemm: 'meshgemm' | 'cannon' | 'summa' | 'auto'; allreduce: 'ktree' | 'chain' | 'ring' | 'auto' }

function makeCase(seed: number): Case {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const P = pick([2, 3, 4]);
  const rows = P * pick([2, 4]);
  let cols = P * pick([2, 3]);
  const lines: string[] = [];
  const inputs: string[] = [];
  const feeds = new Map<string, Tensor>();
  const input = (name: string, shape: number[], scale = 1) => {
    inputs.push(`  input %${name} : f32[${shape.join(',')}]`);
    feeds.set(name, new Tensor('float32', shape, seededFloats(seed * 31 + feeds.size, shape.reduce((a, b) => a * b, 1), scale)));
  };
  input('x', [rows, cols]);
  let cur = 'x';
  let k = 0;
  const next = () => `v${k++}`;
  const steps = 3 + Math.floor(rnd() * 4);
  for (let s = 0; s < steps; s++) {
    const v = next();
    const kind = pick(['matmul', 'matmul_t', 'gemm', 'unary', 'bvec', 'bcol', 'reduce', 'softmax', 'norm', 'colreduce'] as const);
    const shape = `f32[${rows},${cols}]`;
    if (kind === 'matmul' || kind === 'matmul_t' || kind === 'gemm') {
      const n = P * pick([1, 2, 3]);
      const w = `w${s}`;
      if (kind === 'matmul') {
        input(w, [cols, n], 0.3);
        lines.push(`  %${v} : f32[${rows},${n}] = MatMul(%${cur}, %${w}) @n${s}`);
      } else if (kind === 'matmul_t') {
        input(w, [n, cols], 0.3);
        lines.push(`  %${v}t : f32[${cols},${n}] = Transpose(%${w}) {perm = [1, 0] : ints} @t${s}`);
        lines.push(`  %${v} : f32[${rows},${n}] = MatMul(%${cur}, %${v}t) @n${s}`);
      } else {
        input(w, [n, cols], 0.3);
        input(`c${s}`, [n]);
        lines.push(`  %${v} : f32[${rows},${n}] = Gemm(%${cur}, %${w}, %c${s}) {transB = 1 : int, alpha = 0.5 : float} @n${s}`);
      }
      cols = n;
    } else if (kind === 'unary') {
      lines.push(`  %${v} : ${shape} = ${pick(['Sigmoid', 'Tanh', 'Relu', 'Neg', 'Gelu'])}(%${cur}) @n${s}`);
    } else if (kind === 'bvec') {
      input(`g${s}`, [cols]);
      lines.push(`  %${v} : ${shape} = ${pick(['Add', 'Mul', 'Sub'])}(%${cur}, %g${s}) @n${s}`);
    } else if (kind === 'bcol') {
      input(`r${s}`, [rows, 1]);
      lines.push(`  %${v} : ${shape} = ${pick(['Add', 'Mul', 'Max'])}(%r${s}, %${cur}) @n${s}`);
    } else if (kind === 'reduce') {
      lines.push(`  %${v}r : f32[${rows},1] = ${pick(['ReduceMean', 'ReduceMax', 'ReduceSum'])}(%${cur}, %last) {keepdims = 1 : int} @r${s}`);
      lines.push(`  %${v} : ${shape} = Sub(%${cur}, %${v}r) @n${s}`);
    } else if (kind === 'colreduce') {
      lines.push(`  %${v}r : f32[1,${cols}] = ${pick(['ReduceMean', 'ReduceMax', 'ReduceSum'])}(%${cur}, %first) {keepdims = 1 : int} @r${s}`);
      lines.push(`  %${v} : ${shape} = Add(%${cur}, %${v}r) @n${s}`);
    } else if (kind === 'softmax') {
      lines.push(`  %${v} : ${shape} = Softmax(%${cur}) {axis = -1 : int} @n${s}`);
    } else {
      input(`s${s}`, [cols]);
      lines.push(pick([true, false])
        ? `  %${v} : ${shape} = LayerNormalization(%${cur}, %s${s}) {epsilon = 0.001 : float} @n${s}`
        : `  %${v} : ${shape} = RMSNormalization(%${cur}, %s${s}) {epsilon = 0.001 : float} @n${s}`);
    }
    cur = v;
  }
  const text = `graph @fuzz${seed} opset 23 {\n${inputs.join('\n')}\n  const %last : i64[1] = dense<[-1]>\n  const %first : i64[1] = dense<[0]>\n${lines.join('\n')}\n  output %${cur}\n}`;
  return { text, feeds, spec: `mesh:${P}x${P}`, gemm: pick(['meshgemm', 'cannon', 'summa', 'auto'] as const), allreduce: pick(['ktree', 'chain', 'ring', 'auto'] as const) };
}

describe('distributed mode on seeded random models', () => {
  it.each(Array.from({ length: 24 }, (_, i) => i + 1))('case %i compiles, matches the reference and the prediction', (seed) => {
    const c = makeCase(seed);
    const res = compile(parseGraph(c.text), { target: resolveTarget(c.spec), layout: 'distributed', gemm: c.gemm, allreduce: c.allreduce });
    const run = emulate(res.program, { mode: 'functional', inputs: new Map([...c.feeds].map(([k, v]) => [k, Float32Array.from(v.data as ArrayLike<number>)])) });
    const ref = evaluateGraph(res.graph, c.feeds);
    const o = run.outputs![0];
    const cmp = compareTensors(new Tensor('float32', o.shape, o.data), ref.get(o.name)!, { rtol: 1e-3, atol: 1e-4 });
    expect(cmp.ok, `${c.text}\n${JSON.stringify(cmp)}`).toBe(true);
    expect(run.prediction.matched, c.text).toBe(true);
    expect(run.totalCycles).toBe(res.program.predicted!.totalCycles);
  });
});
