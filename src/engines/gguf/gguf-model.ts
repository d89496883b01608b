/**
 * A GGUF model loaded through node-llama-cpp: one context whose sequences serve concurrent generations (batched by
 * node-llama-cpp), prefix KV reuse across requests, and per-step masking through `StepBias`.
 */
import type { LlamaContext, LlamaModel, SequenceEvaluateOptions, Token } from 'node-llama-cpp';
import {
  ContextOverflowError,
  type EngineModel,
  type EngineModelInfo,
  type EnginePrompt,
  type GeneratedToken,
  type GenerateRequest,
  type Generation,
  type TokenVocabulary,
} from '../engine.js';
import { longestTokenBytes } from '../token-bytes.js';
import type { TokenizerThread } from '../tokenizer-thread.js';
import { ggufVocabulary } from './gguf-vocabulary.js';
import { SequencePool } from './sequence-pool.js';
import { StepGate } from './step-gate.js';
import { StepBias } from './token-bias.js';

/** A loaded GGUF model; create with `GgufEngine.load`. */
export class GgufModel implements EngineModel {
  readonly info: EngineModelInfo;
  private readonly pool: SequencePool;
  private readonly gate = new StepGate();
  private vocab: TokenVocabulary | null = null;
  private isDisposed = false;

  /**
   * @param tokenizer tokenises prompts off the event loop (the same file's vocabulary); disposed with the model
   */
  constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly tokenizer: TokenizerThread,
  ) {
    this.pool = new SequencePool(context);
    const meta = model.fileInfo.metadata as { tokenizer?: { chat_template?: string; ggml?: { model?: string } } };
    this.info = {
      contextSize: context.contextSize,
      trainContextSize: model.trainContextSize,
      vocabSize: this.vocabulary().bytes.length,
      chatTemplate: meta.tokenizer?.chat_template ?? null,
      bosToken: model.tokens.bosString,
      eosToken: model.tokens.eosString,
      vision: false,
      imageSide: null,
      prefixCache: true,
      promptBytesPerToken: promptBytesPerToken(meta.tokenizer?.ggml?.model, this.vocabulary()),
    };
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** Token bytes, special flags and end-of-generation ids, computed once. */
  vocabulary(): TokenVocabulary {
    this.vocab ??= ggufVocabulary(this.model);
    return this.vocab;
  }

  tokenize(text: string, special: boolean): number[] {
    this.ensureLive();
    return this.model.tokenize(text, special) as number[];
  }

  async countPromptTokens(prompt: EnginePrompt): Promise<number> {
    return (await this.promptTokens(prompt)).length;
  }

  generate(request: GenerateRequest): Generation {
    this.ensureLive();
    const tokens = this.promptTokens(request.prompt);
    // Settled here so a generation that is never iterated leaves no unhandled rejection behind.
    tokens.catch(() => undefined);
    let setCached: (n: number) => void = () => undefined;
    const cachedTokens = new Promise<number>((resolve) => (setCached = resolve));
    const run = (): AsyncGenerator<GeneratedToken> => this.runTokenized(tokens, request, setCached);
    return {
      promptTokens: tokens.then((t) => t.length),
      cachedTokens,
      [Symbol.asyncIterator]: run,
    };
  }

  async dispose(): Promise<void> {
    if (this.isDisposed) return;
    this.isDisposed = true;
    await this.tokenizer.dispose();
    await this.context.dispose();
    await this.model.dispose();
  }

  /** The prompt's tokens, from the tokenizer thread (never the event loop). */
  private async promptTokens(prompt: EnginePrompt): Promise<Token[]> {
    if (prompt.images.length > 0) throw new Error('GGUF models in atelier take text only');
    this.ensureLive();
    return (await this.tokenizer.tokenize(prompt.text, true)) as Token[];
  }

  private ensureLive(): void {
    if (this.isDisposed) throw new Error('GgufModel used after dispose()');
  }

  private async *runTokenized(
    tokens: Promise<Token[]>,
    request: GenerateRequest,
    setCached: (n: number) => void,
  ): AsyncGenerator<GeneratedToken> {
    const prompt = await tokens;
    if (prompt.length >= this.info.contextSize) throw new ContextOverflowError(prompt.length, this.info.contextSize);
    yield* this.run(prompt, request, setCached);
  }

  private async *run(
    prompt: Token[],
    request: GenerateRequest,
    setCached: (n: number) => void,
  ): AsyncGenerator<GeneratedToken> {
    const { signal } = request;
    const lease = await this.pool.acquire(prompt, signal);
    try {
      const seq = lease.sequence;
      // Reuse the shared prefix, but always re-evaluate at least the last prompt token to get fresh logits.
      const shared = Math.min(seq.compareContextTokens(prompt).firstDifferentIndex, prompt.length - 1);
      if (shared < seq.nextTokenIndex) await seq.eraseContextTokenRanges([{ start: shared, end: seq.nextTokenIndex }]);
      setCached(shared);
      const budget = Math.min(request.maxTokens, this.info.contextSize - prompt.length);
      const generated: Token[] = [];
      const top = request.topLogprobs ?? -1;
      const bias = this.stepBias(request);
      const stream = seq.evaluateWithMetadata(
        prompt.slice(shared),
        { confidence: top >= 0, probabilities: top > 0 },
        this.samplerOptions(request, generated, bias),
      );
      let leave = (): void => undefined;
      try {
        let step = await stream.next();
        leave = this.gate.join();
        while (!step.done && !signal?.aborted) {
          const out = step.value;
          if (!bias.allows(out.token))
            throw new Error(`GGUF sampler picked token ${out.token}, which the mask forbids`);
          const eog = this.model.isEogToken(out.token);
          generated.push(out.token);
          yield {
            token: out.token,
            eog,
            ...logprobsOf(out as { confidence?: number; probabilities?: Map<Token, number> }, top),
          };
          if (eog || generated.length >= budget || signal?.aborted) return;
          const forced = (request.forced?.() ?? []).slice(0, budget - generated.length) as Token[];
          for (const token of forced) {
            generated.push(token);
            yield { token, eog: false, forced: true, ...(top >= 0 && { logprob: 0, top: [] }) };
          }
          if (generated.length >= budget) return;
          await this.gate.ready();
          if (signal?.aborted) return;
          // The sampled token and the forced ones are evaluated together, in one batch.
          step = await this.gate.step(stream.next(forced.length > 0 ? [out.token, ...forced] : undefined));
        }
      } finally {
        leave();
        await stream.return();
      }
    } finally {
      setCached(0);
      lease.release();
    }
  }

  private stepBias(request: GenerateRequest): StepBias {
    const s = request.sampling;
    const penalties = s.frequencyPenalty !== 0 || s.presencePenalty !== 0;
    return new StepBias(this.model, this.info.vocabSize, s.logitBias, request.mask, {
      temperature: s.temperature,
      penalties,
    });
  }

  private samplerOptions(request: GenerateRequest, generated: Token[], bias: StepBias): SequenceEvaluateOptions {
    const s = request.sampling;
    const penalise = s.frequencyPenalty !== 0 || s.presencePenalty !== 0;
    return {
      temperature: s.temperature,
      topK: s.topK > 0 ? s.topK : 0,
      topP: s.topP,
      minP: s.minP,
      seed: s.seed ?? Math.floor(Math.random() * 2 ** 32),
      tokenBias: () => bias.next(),
      yieldEogToken: true,
      // A context shift would silently drop the start of the conversation; the budget above prevents it.
      contextShift: { size: 0 },
      ...(penalise && {
        repeatPenalty: {
          punishTokens: () => generated,
          maxPunishTokens: request.maxTokens,
          penalty: 1,
          frequencyPenalty: s.frequencyPenalty,
          presencePenalty: s.presencePenalty,
        },
      }),
    };
  }
}

/**
 * `EngineModelInfo.promptBytesPerToken` of a GGUF vocabulary: byte-level BPE (`gpt2`) and SentencePiece (`llama`,
 * byte fallback or one unknown token per character) spell every byte of the text, so the longest token bounds it;
 * llama.cpp's other tokenizers (WordPiece, Unigram) normalise or fold unknown words, and get no bound.
 */
function promptBytesPerToken(kind: string | undefined, vocabulary: TokenVocabulary): number {
  if (kind !== 'gpt2' && kind !== 'llama') return Infinity;
  return Math.max(longestTokenBytes(vocabulary.bytes), 4);
}

function logprobsOf(
  out: { confidence?: number; probabilities?: Map<Token, number> },
  top: number,
): Pick<GeneratedToken, 'logprob' | 'top'> {
  if (top < 0 || out.confidence === undefined) return {};
  const alternatives: { token: number; logprob: number }[] = [];
  if (out.probabilities) {
    for (const [token, p] of out.probabilities) {
      if (alternatives.length >= top) break;
      alternatives.push({ token, logprob: Math.log(p) });
    }
  }
  return { logprob: Math.log(out.confidence), top: alternatives };
}
