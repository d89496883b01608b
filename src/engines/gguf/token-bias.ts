/**
 * Per-step token bias for node-llama-cpp: the request's `logit_bias` plus the decoder's mask.
 *
 * node-llama-cpp has no logits hook; a per-step `tokenBias` is the only way in. It copies every (token, bias) entry
 * into typed arrays and rebuilds llama.cpp's logit-bias sampler each step, so the cost of a masked step is the
 * number of entries. A step therefore lists the smaller side of the mask:
 * - few allowed (structure: keys, punctuation, numbers): only the allowed tokens, lifted by `LIFT`. Every other
 *   logit stays more than 1,400 below the lowest allowed one — after temperature (≤ 2) that is e^-700, which is 0 in
 *   float32, so the softmax gives forbidden tokens probability exactly 0 and greedy never picks them;
 * - few forbidden (free string content): the forbidden tokens at −∞ plus the request's own biases.
 * Lifting is sound only while nothing else moves logits by hundreds: frequency/presence penalties (which grow with
 * repetitions) and temperatures above 2 use the −∞ listing every step. `allows()` lets the caller check each
 * sampled token against the mask anyway.
 *
 * node-llama-cpp's public `TokenBias.set()` silently skips end-of-generation tokens, which would let a model end a
 * JSON object half-way. Its native sampler applies whatever (token, bias) pairs it is given, so the entries are
 * handed over directly — EOS/EOT included — through the one field `getTokenBiasesForAddon` reads (`_biases`, any
 * iterable of pairs; node-llama-cpp 3.21.1, pinned in package.json; the engine contract test fails if this ever
 * stops masking EOS).
 */
import { TokenBias, type LlamaModel } from 'node-llama-cpp';
import type { MaskHook } from '../engine.js';

/** Bias standing for OpenAI's `logit_bias: -100` where the mask does not decide. */
const NEVER = -1e9;
/** Added to allowed tokens when only those are listed. Float32 keeps ~1e-4 of a logit at this magnitude. */
const LIFT = 2000;
/** Allowed tokens the request bans (`logit_bias: -100`): below every other allowed token, far above forbidden ones. */
const LIFT_NEVER = LIFT - 300;
/** Largest `logit_bias` magnitude and temperature the lifted listing is sound for (OpenAI's own limits). */
const MAX_BIAS = 100;
const MAX_TEMPERATURE = 2;

/** Options of `StepBias`. */
export interface StepBiasOptions {
  /** Sampling temperature of the generation. */
  temperature: number;
  /** Whether frequency/presence penalties are on (they move logits without bound). */
  penalties: boolean;
}

/** The (token, bias) pairs of one step, read by node-llama-cpp as `TokenBias._biases`; iterates without allocating. */
class BiasEntries implements Iterable<[number, number]>, Iterator<[number, number]> {
  readonly tokens: Uint32Array;
  readonly biases: Float32Array;
  length = 0;
  private at = 0;
  private readonly pair: [number, number] = [0, 0];
  private readonly result: IteratorResult<[number, number]> = { value: this.pair, done: false };

  constructor(capacity: number) {
    this.tokens = new Uint32Array(capacity);
    this.biases = new Float32Array(capacity);
  }

  push(token: number, bias: number): void {
    this.tokens[this.length] = token;
    this.biases[this.length++] = bias;
  }

  [Symbol.iterator](): Iterator<[number, number]> {
    this.at = 0;
    return this;
  }

  next(): IteratorResult<[number, number]> {
    if (this.at >= this.length) return { value: undefined, done: true };
    this.pair[0] = this.tokens[this.at] as number;
    this.pair[1] = this.biases[this.at++] as number;
    return this.result;
  }
}

/** Number of set bits in a 32-bit word. */
function popcount(word: number): number {
  let x = word - ((word >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Builds `tokenBias` callbacks for one generation; the mask and entry buffers are reused across steps. */
export class StepBias {
  private readonly words: Uint32Array;
  private readonly entries: BiasEntries;
  private readonly bias: TokenBias;
  private readonly fixed: TokenBias;
  /** Request bias per token id, for lifted steps; null when the request has none. */
  private readonly dense: Float32Array | null;
  private readonly liftable: boolean;
  private masked = false;

  constructor(
    model: LlamaModel,
    private readonly vocabSize: number,
    private readonly logitBias: ReadonlyMap<number, number>,
    private readonly mask: MaskHook | undefined,
    options: StepBiasOptions,
  ) {
    this.words = new Uint32Array(Math.ceil(vocabSize / 32));
    this.entries = new BiasEntries(mask ? vocabSize + logitBias.size : 0);
    this.bias = withEntries(TokenBias.for(model), this.entries);
    this.fixed = TokenBias.for(model);
    const map = (this.fixed as unknown as { _biases: Map<number, number> })._biases;
    // −100 ("never") is a huge finite penalty, not −∞: where the decoder allows nothing else (say only EOS once a
    // JSON document is complete) the grammar must win over the request's bias, never leave no token at all.
    for (const [token, value] of logitBias) map.set(token, value <= -MAX_BIAS ? NEVER : value);
    this.liftable =
      !options.penalties &&
      options.temperature <= MAX_TEMPERATURE &&
      [...logitBias.values()].every((v) => v <= MAX_BIAS);
    this.dense = mask && this.liftable && logitBias.size > 0 ? new Float32Array(vocabSize) : null;
    for (const [token, value] of logitBias) {
      if (this.dense && token < vocabSize) this.dense[token] = value <= -MAX_BIAS ? LIFT_NEVER - LIFT : value;
    }
  }

  /** The bias for the next sampling step (asks the mask hook now, so it sees every token accepted so far). */
  next(): TokenBias {
    this.masked = false;
    if (!this.mask) return this.fixed;
    this.words.fill(0);
    if (!this.mask(this.words)) return this.fixed;
    this.masked = true;
    this.entries.length = 0;
    let allowed = 0;
    for (const word of this.words) allowed += popcount(word);
    // An empty mask is listed as all −∞, not as no entries (which would mean unconstrained): llama.cpp then picks
    // an arbitrary token, which the caller's `allows()` check turns into an error.
    if (this.liftable && allowed > 0 && allowed <= this.vocabSize - allowed) this.listAllowed();
    else this.listForbidden();
    return this.bias;
  }

  /** false when the last step was masked and `token` is outside that mask. */
  allows(token: number): boolean {
    return !this.masked || this.allowsBit(token);
  }

  private listAllowed(): void {
    const { words, entries, dense } = this;
    for (let w = 0; w < words.length; w++) {
      let word = words[w] as number;
      while (word !== 0) {
        const low = word & -word;
        const token = w * 32 + (31 - Math.clz32(low));
        entries.push(token, dense ? LIFT + (dense[token] as number) : LIFT);
        word ^= low;
      }
    }
  }

  private listForbidden(): void {
    const { words, entries } = this;
    for (const [token, value] of this.logitBias) {
      if (this.allowsBit(token)) entries.push(token, value <= -MAX_BIAS ? NEVER : value);
    }
    for (let w = 0; w < words.length; w++) {
      const word = words[w] as number;
      if (word === 0xffffffff) continue;
      const end = Math.min(32, this.vocabSize - w * 32);
      for (let b = 0; b < end; b++) if ((word & (1 << b)) === 0) entries.push(w * 32 + b, -Infinity);
    }
  }

  private allowsBit(token: number): boolean {
    return (((this.words[token >>> 5] ?? 0) >>> (token & 31)) & 1) === 1;
  }
}

/** Replaces the entry map node-llama-cpp reads with the reusable step buffer. */
function withEntries(bias: TokenBias, entries: BiasEntries): TokenBias {
  (bias as unknown as { _biases: Iterable<[number, number]> })._biases = entries;
  return bias;
}
