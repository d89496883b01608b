/**
 * Token sampling in JavaScript over one step's logits, for engines that hand back raw logits (ONNX): penalties,
 * logit bias and the decoder's mask first, then log-probabilities, then temperature / top-k / top-p / min-p and a
 * seeded draw. Same seed + same logits → same token on every run.
 */
import type { SamplingOptions } from './engine.js';

/** A seeded uniform generator in [0, 1) (mulberry32: tiny, fast, reproducible across platforms). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The sampled token, its log-probability and the most likely alternatives (all after bias and mask). */
export interface SampleResult {
  token: number;
  logprob: number;
  top: { token: number; logprob: number }[];
}

/** Samples one token per step; keeps the generated-token counts the penalties need. */
export class Sampler {
  private readonly counts = new Map<number, number>();
  private readonly random: () => number;

  constructor(private readonly options: SamplingOptions) {
    this.random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  /** Records a token that joined the output (for frequency/presence penalties). */
  accepted(token: number): void {
    this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
  }

  /**
   * Picks the next token from `logits` (overwritten in place). `allowed`, when given, is the decoder's bitmask.
   * @param topLogprobs alternatives to report (0 = none); negative = no log-probabilities at all: `logprob` is NaN
   *   and the step skips normalising over the whole vocabulary
   */
  sample(logits: Float32Array, allowed: Uint32Array | null, topLogprobs: number): SampleResult {
    const o = this.options;
    if (o.frequencyPenalty !== 0 || o.presencePenalty !== 0) {
      for (const [token, n] of this.counts) {
        if (token < logits.length)
          logits[token] = (logits[token] as number) - n * o.frequencyPenalty - o.presencePenalty;
      }
    }
    for (const [token, bias] of o.logitBias) {
      // −100 is a huge finite penalty so that the decoder's mask, not the bias, decides when nothing else is allowed.
      if (token < logits.length) logits[token] = bias <= -100 ? -1e9 : (logits[token] as number) + bias;
    }
    if (allowed) {
      for (let i = 0; i < logits.length; i++)
        if ((((allowed[i >>> 5] ?? 0) >>> (i & 31)) & 1) === 0) logits[i] = -Infinity;
    }
    const token = o.temperature === 0 ? argmax(logits) : this.draw(logits);
    if (topLogprobs < 0) return { token, logprob: Number.NaN, top: [] };
    const logZ = logSumExp(logits, 1);
    const top =
      topLogprobs > 0
        ? topK(logits, topLogprobs).map((t) => ({ token: t, logprob: (logits[t] as number) - logZ }))
        : [];
    return { token, logprob: (logits[token] as number) - logZ, top };
  }

  private draw(logits: Float32Array): number {
    const o = this.options;
    let max = -Infinity;
    for (const v of logits) if (v > max) max = v;
    if (max === -Infinity) throw new Error('every token is masked');
    let ids: number[] = [];
    for (let i = 0; i < logits.length; i++) if (logits[i] !== -Infinity) ids.push(i);
    // Sorting (O(V log V) per step) is only needed for top-k / top-p; plain and min-p sampling draw in id order.
    const sorted = o.topK > 0 || o.topP < 1;
    if (sorted) ids.sort((a, b) => (logits[b] as number) - (logits[a] as number));
    if (o.topK > 0) ids = ids.slice(0, o.topK);
    let probs = ids.map((i) => Math.exp(((logits[i] as number) - max) / o.temperature));
    if (o.minP > 0) {
      // The most likely token has weight exp(0) = 1, so min-p keeps weights ≥ minP.
      const keep = probs.map((p) => p >= o.minP);
      [ids, probs] = [ids.filter((_, k) => keep[k]), probs.filter((_, k) => keep[k])];
    }
    let total = probs.reduce((sum, p) => sum + p, 0);
    if (sorted && o.topP < 1) {
      let mass = 0;
      let keep = 0;
      while (keep < probs.length && mass < o.topP * total) mass += probs[keep++] as number;
      [ids, probs, total] = [ids.slice(0, Math.max(1, keep)), probs.slice(0, Math.max(1, keep)), mass];
    }
    let r = this.random() * total;
    for (let k = 0; k < ids.length; k++) {
      r -= probs[k] as number;
      if (r <= 0) return ids[k] as number;
    }
    return ids[ids.length - 1] as number;
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

function logSumExp(values: Float32Array, temperature: number): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  let sum = 0;
  for (const v of values) if (v !== -Infinity) sum += Math.exp((v - max) / temperature);
  return max + Math.log(sum) * temperature;
}

function topK(values: Float32Array, k: number): number[] {
  return [...values.keys()]
    .filter((i) => values[i] !== -Infinity)
    .sort((a, b) => (values[b] as number) - (values[a] as number))
    .slice(0, k);
}
