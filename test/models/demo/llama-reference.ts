import { headDim, type LlamaShape, type LlamaWeights } from '../../../src/models/demo/llama-weights.js';

/**
 * A plain, loop-by-loop llama forward pass (Hugging Face semantics: RMSNorm, rotate-half RoPE, causal GQA,
 * SiLU-gated MLP) used as the oracle for the generated ONNX graph. Deliberately written without any of the
 * graph's tricks (no grouped MatMul broadcast, no rotary tables).
 */

type Vec = Float64Array;

function matVec(w: Float32Array, x: Vec, out: number, inp: number): Vec {
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < inp; i++) s += (w[o * inp + i] ?? 0) * (x[i] ?? 0);
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Vec, w: Float32Array, eps: number): Vec {
  let ms = 0;
  for (const v of x) ms += v * v;
  const inv = 1 / Math.sqrt(ms / x.length + eps);
  return x.map((v, i) => v * inv * (w[i] ?? 0));
}

function rope(x: Vec, heads: number, dim: number, pos: number, theta: number): Vec {
  const out = new Float64Array(x.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < dim / 2; i++) {
      const angle = pos * Math.pow(theta, (-2 * i) / dim);
      const a = x[h * dim + i] ?? 0;
      const b = x[h * dim + i + dim / 2] ?? 0;
      out[h * dim + i] = a * Math.cos(angle) - b * Math.sin(angle);
      out[h * dim + i + dim / 2] = b * Math.cos(angle) + a * Math.sin(angle);
    }
  }
  return out;
}

/** Logits `[seq][vocab]` for one unpadded sequence of token ids at positions 0…n-1. */
export function referenceLogits(shape: LlamaShape, w: LlamaWeights, ids: number[]): number[][] {
  const d = shape.embedding;
  const hd = headDim(shape);
  const kvDim = shape.kvHeads * hd;
  const rep = shape.heads / shape.kvHeads;
  let xs: Vec[] = ids.map((id) => Float64Array.from(w.embed.subarray(id * d, (id + 1) * d)));
  for (const b of w.blocks) {
    const hs = xs.map((x) => rmsNorm(x, b.attnNorm, shape.rmsEps));
    const qs = hs.map((h, p) => rope(matVec(b.q, h, d, d), shape.heads, hd, p, shape.ropeTheta));
    const ks = hs.map((h, p) => rope(matVec(b.k, h, kvDim, d), shape.kvHeads, hd, p, shape.ropeTheta));
    const vs = hs.map((h) => matVec(b.v, h, kvDim, d));
    xs = xs.map((x, p) => {
      const ctx = new Float64Array(d);
      for (let h = 0; h < shape.heads; h++) {
        const kv = Math.floor(h / rep);
        const scores = ks.slice(0, p + 1).map((k) => {
          let s = 0;
          for (let i = 0; i < hd; i++) s += (qs[p]?.[h * hd + i] ?? 0) * (k[kv * hd + i] ?? 0);
          return s / Math.sqrt(hd);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const sum = exps.reduce((a, c) => a + c, 0);
        exps.forEach((e, t) => {
          for (let i = 0; i < hd; i++)
            ctx[h * hd + i] = (ctx[h * hd + i] ?? 0) + (e / sum) * (vs[t]?.[kv * hd + i] ?? 0);
        });
      }
      const attn = matVec(b.o, ctx, d, d);
      const mid = x.map((v, i) => v + (attn[i] ?? 0));
      const h2 = rmsNorm(mid, b.ffnNorm, shape.rmsEps);
      const gate = matVec(b.gate, h2, shape.feedForward, d);
      const up = matVec(b.up, h2, shape.feedForward, d);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * (up[i] ?? 0));
      const down = matVec(b.down, act, d, shape.feedForward);
      return mid.map((v, i) => v + (down[i] ?? 0));
    });
  }
  return xs.map((x) => Array.from(matVec(w.lmHead, rmsNorm(x, w.finalNorm, shape.rmsEps), shape.vocab, d)));
}
