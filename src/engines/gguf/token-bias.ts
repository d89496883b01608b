/**
 * Per-step token bias for node-llama-cpp: the request's `logit_bias` plus the decoder's mask (−∞ for every token
 * the mask forbids).
 *
 * node-llama-cpp's public `TokenBias.set()` silently skips end-of-generation tokens, which would let a model end a
 * JSON object half-way. Its native sampler applies whatever (token, bias) pairs it is given, so the bias map is
 * filled directly — EOS/EOT included — through the one field `getTokenBiasesForAddon` reads (node-llama-cpp 3.21.1,
 * pinned in package.json; the engine contract test fails if this ever stops masking EOS).
 */
import { TokenBias, type LlamaModel } from 'node-llama-cpp';
import type { MaskHook } from '../engine.js';

/** Bias standing for OpenAI's `logit_bias: -100`. */
const NEVER = -1e9;

interface TokenBiasInternals {
  _biases: Map<number, number>;
}

/** Builds `tokenBias` callbacks for one generation; the mask buffer is reused across steps. */
export class StepBias {
  private readonly words: Uint32Array;

  constructor(
    private readonly model: LlamaModel,
    private readonly vocabSize: number,
    private readonly logitBias: ReadonlyMap<number, number>,
    private readonly mask: MaskHook | undefined,
  ) {
    this.words = new Uint32Array(Math.ceil(vocabSize / 32));
  }

  private fixed: TokenBias | null = null;

  /** The request's `logit_bias` alone, built once: unconstrained steps reuse it. */
  private base(): TokenBias {
    if (!this.fixed) {
      this.fixed = TokenBias.for(this.model);
      const map = (this.fixed as unknown as TokenBiasInternals)._biases;
      // −100 ("never") is a huge finite penalty, not −∞: where the decoder allows nothing else (say only EOS once a
      // JSON document is complete) the grammar must win over the request's bias, never leave no token at all.
      for (const [token, value] of this.logitBias) map.set(token, value <= -100 ? NEVER : value);
    }
    return this.fixed;
  }

  /** The bias for the next sampling step (asks the mask hook now, so it sees every token accepted so far). */
  next(): TokenBias {
    if (!this.mask) return this.base();
    this.words.fill(0);
    if (!this.mask(this.words)) return this.base();
    const bias = TokenBias.for(this.model);
    const map = (bias as unknown as TokenBiasInternals)._biases;
    for (const [token, value] of (this.base() as unknown as TokenBiasInternals)._biases) map.set(token, value);
    for (let w = 0; w < this.words.length; w++) {
      const word = this.words[w] ?? 0;
      if (word === 0xffffffff) continue;
      const end = Math.min(32, this.vocabSize - w * 32);
      for (let b = 0; b < end; b++) if ((word & (1 << b)) === 0) map.set(w * 32 + b, -Infinity);
    }
    return bias;
  }
}
