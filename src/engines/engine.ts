/**
 * The Engine interface every backend implements (GGUF via node-llama-cpp, ONNX via transformers.js). Lifetimes are
 * explicit: an `Engine` loads `EngineModel`s; `dispose()` on either releases native memory and any later call throws.
 *
 * The chat layer owns the constrained decoder: before every sampling step the engine asks the request's `mask` hook
 * for the set of allowed token ids, and after every yielded token the caller advances its matcher before pulling the
 * next one. Engines therefore never look inside a grammar.
 */

/** A decoded image ready for a vision encoder (RGBA, 8 bits per channel). */
export interface EngineImage {
  width: number;
  height: number;
  /** RGBA bytes, `width * height * 4`. */
  rgba: Uint8Array;
  /** Longest side the encoder should resize to (from the OpenAI `detail` setting); null = the processor's default. */
  maxSide: number | null;
}

/** The prompt to continue: the rendered chat template (special tokens as text) and its images in order. */
export interface EnginePrompt {
  text: string;
  images: EngineImage[];
}

/** Sampling settings; defaults are OpenAI's (temperature 1 = sample, 0 = greedy). */
export interface SamplingOptions {
  temperature: number;
  topP: number;
  /** 0 = disabled. */
  topK: number;
  /** 0 = disabled. */
  minP: number;
  /** Same seed + same prompt + same options → same tokens. null = fresh randomness. */
  seed: number | null;
  frequencyPenalty: number;
  presencePenalty: number;
  /** token id → additive logit bias; ≤ −100 means never. */
  logitBias: ReadonlyMap<number, number>;
}

/**
 * Fills `allowed` (one bit per token id, little-endian within each 32-bit word, all bits cleared on entry) with the
 * tokens permitted at this step, and returns true; returns false when this step is unconstrained.
 */
export type MaskHook = (allowed: Uint32Array) => boolean;

/** One `generate` call. */
export interface GenerateRequest {
  prompt: EnginePrompt;
  sampling: SamplingOptions;
  /** Upper bound on generated tokens (the engine may stop earlier at the context size). */
  maxTokens: number;
  mask?: MaskHook;
  /**
   * Jump-forward: called after each yielded token; returns the tokens the decoder forces next (it has already
   * advanced past them). The engine feeds them without sampling, in one batch with the sampled token, and yields
   * them marked `forced`. Optional; [] = nothing forced.
   */
  forced?: () => number[];
  /** Return 1 + `topLogprobs` alternatives with each token; -1 = no log-probabilities. Default -1. */
  topLogprobs?: number;
  /** Abort stops generation at the next token boundary; the iterator then ends without an error. */
  signal?: AbortSignal;
}

/** A sampled token, with its log-probability (natural log) and alternatives when requested. */
export interface GeneratedToken {
  token: number;
  /** True for end-of-generation tokens (EOS/EOT); such a token is the last one yielded. */
  eog: boolean;
  /** True when the token came from `GenerateRequest.forced` rather than sampling (its logprob is 0). */
  forced?: boolean;
  logprob?: number;
  top?: { token: number; logprob: number }[];
}

/** A running generation: iterate it for tokens; the counts are known once the prompt is evaluated. */
export interface Generation extends AsyncIterable<GeneratedToken> {
  /** Tokens in the prompt (including images' tokens). */
  readonly promptTokens: Promise<number>;
  /** Prompt tokens whose KV state was reused from an earlier request. */
  readonly cachedTokens: Promise<number>;
}

/** Everything the decoder needs about the tokenizer: every token's bytes and the end-of-generation ids. */
export interface TokenVocabulary {
  /**
   * `bytes[id]` = the bytes the token detokenizes to; special/control tokens have `special[id]` set and carry their
   * marker text (`<|im_end|>`), which decoders must treat as non-text.
   */
  bytes: Uint8Array[];
  special: boolean[];
  /** End-of-generation tokens (EOS, EOT, `<|im_end|>` ...). */
  eog: number[];
}

/** Static facts about a loaded model. */
export interface EngineModelInfo {
  /** Tokens the context holds (prompt + completion). */
  contextSize: number;
  /** Tokens the model was trained for. */
  trainContextSize: number;
  vocabSize: number;
  /** The model's own Jinja chat template, if its files carry one. */
  chatTemplate: string | null;
  /** Special-token strings templates refer to. */
  bosToken: string | null;
  eosToken: string | null;
  /** Whether the model takes images. */
  vision: boolean;
  /**
   * Longest image side, in pixels, the model's image processor works at (it resizes larger images down to it), so
   * callers that draw images themselves — PDF pages — render at exactly this size; null for text-only models.
   */
  imageSide: number | null;
  /** Whether KV state of a shared prompt prefix is reused across requests (`cached_tokens`). */
  prefixCache: boolean;
  /**
   * No prompt of n tokens is longer than n × this many UTF-8 bytes (the longest token's bytes, times how much the
   * tokenizer's normaliser can shrink text), so a longer prompt is certainly over the context without tokenising it.
   * Infinity where the tokenizer can fold unbounded text into one token (fused unknowns, accent stripping).
   */
  promptBytesPerToken: number;
}

/** The prompt plus the requested completion exceeds the context; becomes 400 `context_length_exceeded`. */
export class ContextOverflowError extends Error {
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
  ) {
    super(`This model's maximum context length is ${contextSize} tokens, but the prompt has ${promptTokens} tokens`);
    this.name = 'ContextOverflowError';
  }
}

/** A loaded model: tokenizer, generation, and its own release. */
export interface EngineModel {
  readonly info: EngineModelInfo;
  vocabulary(): TokenVocabulary;
  /** Tokenizes `text`, parsing special-token text (like `<|im_end|>`) when `special` is true. */
  tokenize(text: string, special: boolean): number[];
  /** The prompt's token count (images included) without generating. */
  countPromptTokens(prompt: EnginePrompt): Promise<number>;
  generate(request: GenerateRequest): Generation;
  dispose(): Promise<void>;
  readonly disposed: boolean;
}

/** Options for loading one model. */
export interface LoadOptions {
  /** Context size in tokens; default: min(trained length, 4096). */
  contextSize?: number;
  /** Concurrent generations batched together; default 4. */
  parallel?: number;
}

/** A backend: loads models from a local path (a `.gguf` file or a transformers.js model folder). */
export interface Engine {
  readonly name: 'gguf' | 'onnx';
  load(path: string, options?: LoadOptions): Promise<EngineModel>;
  dispose(): Promise<void>;
}
