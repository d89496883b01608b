/**
 * A transformers.js model (text decoder, or vision-language model with its processor) driven one step at a time:
 * atelier runs the forward passes itself (the same `prepare_inputs_for_generation` → `forward` →
 * `_update_model_kwargs_for_generation` cycle as transformers.js `generate`) so that every step can wait for the
 * decoder to advance, apply its mask, and sample with `Sampler` (seeded, with log-probabilities).
 */
import {
  RawImage,
  Tensor,
  ones,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
} from '@huggingface/transformers';
import {
  ContextOverflowError,
  type EngineImage,
  type EngineModel,
  type EngineModelInfo,
  type EnginePrompt,
  type GeneratedToken,
  type GenerateRequest,
  type Generation,
  type TokenVocabulary,
} from '../engine.js';
import { Sampler } from '../sampler.js';
import type { TokenizerThread } from '../tokenizer-thread.js';
import { PrefixCache, type KvCache } from './prefix-cache.js';
import { processorInputs } from './processor-inputs.js';

/** What `OnnxEngine.load` hands over. */
export interface OnnxParts {
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  /** Tokenises prompts off the event loop (same files as `tokenizer`). */
  tokenizerThread: TokenizerThread;
  processor: Processor | null;
  info: EngineModelInfo;
  vocabulary: TokenVocabulary;
}

type ModelInputs = Record<string, unknown> & { past_key_values?: { dispose?: () => Promise<void> | void } | null };

/** Internal transformers.js generation steps (stable across 3.x/4.x; pinned 4.3.1). */
interface GenerationInternals {
  prepare_inputs_for_generation(ids: bigint[][], inputs: ModelInputs, config: unknown): ModelInputs;
  forward(inputs: ModelInputs): Promise<{ logits: Tensor }>;
  _update_model_kwargs_for_generation(args: {
    generated_input_ids: bigint[][];
    outputs: unknown;
    model_inputs: ModelInputs;
    is_encoder_decoder: boolean;
  }): ModelInputs;
  _prepare_generation_config(config: null, kwargs: object): unknown;
}

async function toRawImage(image: EngineImage): Promise<RawImage> {
  const raw = new RawImage(new Uint8ClampedArray(image.rgba), image.width, image.height, 4);
  const side = Math.max(image.width, image.height);
  if (image.maxSide === null || side <= image.maxSide) return raw;
  const scale = image.maxSide / side;
  return raw.resize(Math.max(1, Math.round(image.width * scale)), Math.max(1, Math.round(image.height * scale)));
}

/**
 * Fixes what `prepare_inputs_for_generation` leaves for a pass after the first (a KV cache exists):
 * - images are merged into the prompt on the first pass only, but Qwen2-VL sets `pixel_values` to null rather than
 *   removing it, and transformers.js re-encodes "images" for any pass of more than one token when the key is there
 *   (so a text-only jump-forward failed with "Missing the following inputs: pixel_values, grid_thw");
 * - M-RoPE models (Qwen2-VL) get one position per row, that of the first fed token, even when jump-forward feeds
 *   `count` tokens: the rest follow it one by one.
 */
function afterFirstPass(inputs: ModelInputs, count: number): void {
  if (!inputs.past_key_values) return;
  delete inputs.pixel_values;
  const positions = inputs.position_ids as Tensor | undefined;
  if (!positions || count < 2 || positions.dims.at(-1) !== 1) return;
  const first = positions.data as BigInt64Array;
  const data = new BigInt64Array(first.length * count);
  first.forEach((start, row) => {
    for (let i = 0; i < count; i++) data[row * count + i] = start + BigInt(i);
  });
  inputs.position_ids = new Tensor('int64', data, [...positions.dims.slice(0, -1), count]);
}

/**
 * The logits of the last fed position, the first `vocabSize` of them, as a view of the output tensor `[1, positions,
 * vocabulary]` rather than a copy (the tensor is not read again; the sampler overwrites the view in place).
 */
function lastLogits(logits: Tensor, vocabSize: number): Float32Array {
  const data = logits.data instanceof Float32Array ? logits.data : Float32Array.from(logits.data as ArrayLike<number>);
  const start = data.length - (logits.dims.at(-1) ?? vocabSize);
  return data.subarray(start, start + vocabSize);
}

/** A loaded ONNX model; create with `OnnxEngine.load`. */
export class OnnxModel implements EngineModel {
  readonly info: EngineModelInfo;
  private readonly eog: Set<number>;
  private isDisposed = false;
  private readonly cache = new PrefixCache();

  constructor(private readonly parts: OnnxParts) {
    this.info = parts.info;
    this.eog = new Set(parts.vocabulary.eog);
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  vocabulary(): TokenVocabulary {
    return this.parts.vocabulary;
  }

  tokenize(text: string, _special: boolean): number[] {
    this.ensureLive();
    // Added tokens (`<|im_end|>`) are always recognised by HF tokenizers; plain text never contains them by accident.
    return this.parts.tokenizer.encode(text, { add_special_tokens: false });
  }

  async countPromptTokens(prompt: EnginePrompt): Promise<number> {
    const inputs = await this.inputs(prompt);
    return (inputs.input_ids as Tensor).dims.at(-1) ?? 0;
  }

  generate(request: GenerateRequest): Generation {
    this.ensureLive();
    const prepared = this.inputs(request.prompt);
    const promptTokens = prepared.then((i) => (i.input_ids as Tensor).dims.at(-1) ?? 0);
    let setCached: (n: number) => void = () => undefined;
    const cachedTokens = new Promise<number>((resolve) => (setCached = resolve));
    return {
      promptTokens,
      cachedTokens,
      [Symbol.asyncIterator]: () => this.run(prepared, request, setCached),
    };
  }

  async dispose(): Promise<void> {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.cache.clear();
    await this.parts.tokenizerThread.dispose();
    await this.parts.model.dispose();
  }

  private ensureLive(): void {
    if (this.isDisposed) throw new Error('OnnxModel used after dispose()');
  }

  /**
   * The model inputs of a prompt. Text is tokenised on the tokenizer thread; with images the processor tokenises
   * on this thread, but only after the thread has found the text to fit the context (`countPromptTokens`), so that
   * work is bounded by the context size, not by the request.
   */
  private async inputs(prompt: EnginePrompt): Promise<ModelInputs> {
    const { processor, tokenizerThread } = this.parts;
    const ids = await tokenizerThread.tokenize(prompt.text, true);
    if (prompt.images.length > 0) {
      if (!processor) throw new Error('this ONNX model takes text only');
      if (ids.length >= this.info.contextSize) throw new ContextOverflowError(ids.length, this.info.contextSize);
      const images = await Promise.all(prompt.images.map(toRawImage));
      return (await processorInputs(processor, prompt.text, images)) as ModelInputs;
    }
    return {
      input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      attention_mask: ones([1, ids.length]),
    };
  }

  private async *run(
    prepared: Promise<ModelInputs>,
    request: GenerateRequest,
    setCached: (n: number) => void,
  ): AsyncGenerator<GeneratedToken> {
    const model = this.parts.model as unknown as GenerationInternals;
    let inputs = await prepared;
    const ids = inputs.input_ids as Tensor;
    const length = ids.dims.at(-1) ?? 0;
    if (length >= this.info.contextSize) throw new ContextOverflowError(length, this.info.contextSize);
    const prompt = Array.from(ids.data as BigInt64Array);
    const all: bigint[][] = [[...prompt]];
    const reusable = this.info.prefixCache && request.prompt.images.length === 0;
    const hit = reusable ? this.cache.take(prompt) : null;
    if (hit) inputs = { ...inputs, ...hit.inputs };
    setCached(hit?.reused ?? 0);
    // Tokens whose keys/values `inputs.past_key_values` holds, and those the next forward pass feeds.
    const inCache = prompt.slice(0, hit?.reused ?? 0);
    let feeding = prompt.slice(inCache.length);
    const config = model._prepare_generation_config(null, {});
    const sampler = new Sampler(request.sampling);
    const words = new Uint32Array(Math.ceil(this.info.vocabSize / 32));
    const budget = Math.min(request.maxTokens, this.info.contextSize - length);
    const top = request.topLogprobs ?? -1;
    try {
      for (let produced = 0; produced < budget; produced++) {
        if (request.signal?.aborted || this.isDisposed) return;
        inputs = model.prepare_inputs_for_generation(all, inputs, config);
        afterFirstPass(inputs, feeding.length);
        const outputs = await model.forward(inputs);
        words.fill(0);
        const masked = request.mask ? request.mask(words) : false;
        // Without `topLogprobs` the sampler skips normalising over the vocabulary (a negative count).
        const pick = sampler.sample(lastLogits(outputs.logits, this.info.vocabSize), masked ? words : null, top);
        sampler.accepted(pick.token);
        const eog = this.eog.has(pick.token);
        yield { token: pick.token, eog, ...(top >= 0 && { logprob: pick.logprob, top: pick.top }) };
        if (eog) return;
        const forced = (request.forced?.() ?? []).slice(0, budget - produced - 1);
        for (const token of forced) {
          sampler.accepted(token);
          yield { token, eog: false, forced: true, ...(top >= 0 && { logprob: 0, top: [] }) };
        }
        produced += forced.length;
        const next = [pick.token, ...forced].map(BigInt);
        all[0]?.push(...next);
        inputs = model._update_model_kwargs_for_generation({
          generated_input_ids: [[next[0] as bigint]],
          outputs,
          model_inputs: inputs,
          is_encoder_decoder: false,
        });
        if (next.length > 1) {
          // Jump-forward: feed the sampled and the forced tokens in one pass.
          inputs.input_ids = new Tensor('int64', BigInt64Array.from(next), [1, next.length]);
          inputs.attention_mask = ones([1, inCache.length + feeding.length + next.length]);
        }
        // Appended in place: copying the whole list every step grows with the context.
        for (const token of feeding) inCache.push(token);
        feeding = next;
      }
    } finally {
      setCached(0);
      if (reusable && !this.isDisposed) this.cache.give(inCache, inputs.past_key_values as KvCache | null);
      else await inputs.past_key_values?.dispose?.();
    }
  }
}
