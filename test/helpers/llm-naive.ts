/**
 * A plain-loop decoder forward pass written straight from the Hugging Face modelling code (LLaMA /
 * Mistral / Qwen2 and GPT-2), in float64, independent of wafer's graph builder and op semantics:
 * the tests hold the graphs of compiler/frontend/llm against it. Logits of every position.
 */
import type { LlmConfig } from '../../compiler/frontend/llm/config.js';
import { ropeInverseFrequencies } from '../../compiler/frontend/llm/config.js';
import type { Tensor } from '../../ir/tensor.js';

type Vec = Float64Array;

export function naiveLogits(cfg: LlmConfig, w: Map<string, Tensor>, ids: number[]): Vec[] {
  const { hidden: D, heads, kvHeads, headDim: hd, intermediate: I, vocab: V } = cfg;
  const L = ids.length, rep = heads / kvHeads;
  const get = (n: string) => w.get(n)!.data as Float32Array;
  // y = x · Wᵀ (Linear, W [out, in]) or x · W (Conv1D, W [in, out]), plus bias
  const linear = (x: Vec, name: string, out: number, inp: number, bias?: string, conv1d = false): Vec => {
    const W = get(name), y = new Float64Array(out), b = bias ? get(bias) : undefined;
    for (let o = 0; o < out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < inp; i++) s += x[i] * (conv1d ? W[i * out + o] : W[o * inp + i]);
      y[o] = s;
    }
    return y;
  };
  const norm = (x: Vec, weight: string, bias?: string): Vec => {
    const g = get(weight), y = new Float64Array(D);
    if (cfg.norm === 'rms') {
      let ss = 0;
      for (let i = 0; i < D; i++) ss += x[i] * x[i];
      const inv = 1 / Math.sqrt(ss / D + cfg.normEps);
      for (let i = 0; i < D; i++) y[i] = g[i] * x[i] * inv;
    } else {
      let mean = 0, v = 0;
      for (let i = 0; i < D; i++) mean += x[i] / D;
      for (let i = 0; i < D; i++) v += (x[i] - mean) ** 2 / D;
      const b = get(bias!);
      for (let i = 0; i < D; i++) y[i] = ((x[i] - mean) / Math.sqrt(v + cfg.normEps)) * g[i] + b[i];
    }
    return y;
  };
  const inv = cfg.positions === 'rope' ? ropeInverseFrequencies(cfg) : undefined;
  const rope = (v: Vec, pos: number, nHeads: number) => {
    if (!inv) return;
    for (let h = 0; h < nHeads; h++) {
      for (let j = 0; j < hd / 2; j++) {
        const a = v[h * hd + j], b = v[h * hd + j + hd / 2], c = Math.cos(pos * inv[j]), s = Math.sin(pos * inv[j]);
        v[h * hd + j] = a * c - b * s;
        v[h * hd + j + hd / 2] = b * c + a * s;
      }
    }
  };
  const gpt = cfg.family === 'gpt2';
  let xs: Vec[] = ids.map((t, p) => {
    const x = new Float64Array(D);
    const E = get(gpt ? 'wte.weight' : 'model.embed_tokens.weight');
    for (let i = 0; i < D; i++) x[i] = E[t * D + i] + (gpt ? get('wpe.weight')[p * D + i] : 0);
    return x;
  });
  for (let l = 0; l < cfg.layers; l++) {
    const p = gpt ? `h.${l}.` : `model.layers.${l}.`;
    const qs: Vec[] = [], ks: Vec[] = [], vs: Vec[] = [];
    for (let t = 0; t < L; t++) {
      const h = gpt ? norm(xs[t], `${p}ln_1.weight`, `${p}ln_1.bias`) : norm(xs[t], `${p}input_layernorm.weight`);
      if (gpt) {
        const qkv = linear(h, `${p}attn.c_attn.weight`, 3 * D, D, `${p}attn.c_attn.bias`, true);
        qs.push(qkv.slice(0, D)); ks.push(qkv.slice(D, 2 * D)); vs.push(qkv.slice(2 * D));
      } else {
        const a = `${p}self_attn.`, bias = (n: string) => (cfg.qkvBias ? `${a}${n}.bias` : undefined);
        const q = linear(h, `${a}q_proj.weight`, heads * hd, D, bias('q_proj'));
        const k = linear(h, `${a}k_proj.weight`, kvHeads * hd, D, bias('k_proj'));
        rope(q, t, heads); rope(k, t, kvHeads);
        qs.push(q); ks.push(k); vs.push(linear(h, `${a}v_proj.weight`, kvHeads * hd, D, bias('v_proj')));
      }
    }
    const next: Vec[] = [];
    for (let t = 0; t < L; t++) {
      const o = new Float64Array(heads * hd);
      for (let hh = 0; hh < heads; hh++) {
        const g = Math.floor(hh / rep);
        const seen = (k: number) => k <= t && (cfg.slidingWindow === undefined || t - k < cfg.slidingWindow);
        const sc: number[] = [];
        for (let k = 0; k < L; k++) {
          if (!seen(k)) { sc.push(-Infinity); continue; }
          let s = 0;
          for (let j = 0; j < hd; j++) s += qs[t][hh * hd + j] * ks[k][g * hd + j];
          sc.push(s / Math.sqrt(hd));
        }
        const m = Math.max(...sc), e = sc.map((s) => Math.exp(s - m)), z = e.reduce((a, b) => a + b, 0);
        for (let k = 0; k < L; k++) for (let j = 0; j < hd; j++) o[hh * hd + j] += (e[k] / z) * vs[k][g * hd + j];
      }
      const attn = gpt ? linear(o, `${p}attn.c_proj.weight`, D, D, `${p}attn.c_proj.bias`, true)
        : linear(o, `${p}self_attn.o_proj.weight`, D, heads * hd, cfg.outBias ? `${p}self_attn.o_proj.bias` : undefined);
      const x = xs[t].map((v, i) => v + attn[i]);
      const h2 = gpt ? norm(x, `${p}ln_2.weight`, `${p}ln_2.bias`) : norm(x, `${p}post_attention_layernorm.weight`);
      let mlp: Vec;
      if (gpt) {
        const f = linear(h2, `${p}mlp.c_fc.weight`, I, D, `${p}mlp.c_fc.bias`, true).map((u) => 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3))));
        mlp = linear(f, `${p}mlp.c_proj.weight`, D, I, `${p}mlp.c_proj.bias`, true);
      } else {
        const mb = (n: string) => (cfg.mlpBias ? `${p}mlp.${n}.bias` : undefined);
        const gate = linear(h2, `${p}mlp.gate_proj.weight`, I, D, mb('gate_proj')), up = linear(h2, `${p}mlp.up_proj.weight`, I, D, mb('up_proj'));
        mlp = linear(gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]), `${p}mlp.down_proj.weight`, D, I, mb('down_proj'));
      }
      next.push(x.map((v, i) => v + mlp[i]));
    }
    xs = next;
  }
  const head = cfg.tiedEmbeddings ? (gpt ? 'wte.weight' : 'model.embed_tokens.weight') : 'lm_head.weight';
  return xs.map((x) => linear(gpt ? norm(x, 'ln_f.weight', 'ln_f.bias') : norm(x, 'model.norm.weight'), head, V, D));
}
