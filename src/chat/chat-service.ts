/**
 * One chat-completion request end to end, minus HTTP: `prepareChat` does everything that can fail with a 400
 * (images, template, schema compilation, context size) before a byte is sent; `runChat` then generates the `n`
 * choices concurrently (batched by the engine) and yields their events interleaved, plus the usage at the end.
 */
import { InvalidRequestError, type ChatContentPart, type ChatMessage, type ChatRequest } from '../protocol/index.js';
import type { EnginePrompt, SamplingOptions } from '../engines/index.js';
import { withRegexBudget } from '../structure/index.js';
import { nextLoopTurn } from '../util/index.js';
import type { ChatModel } from './chat-model.js';
import { runChoice, type ChoiceEvent, type Constraint } from './choice-runner.js';
import { compileConstraint } from './constraint.js';
import { attachDocuments, defaultDocumentOptions, type DocumentOptions } from './documents.js';
import { defaultImageLimits, loadImages, type ImageLimits, type ImagePart } from './images.js';
import { OutputParser, type OutputParserOptions } from './output-parser.js';
import { checkPromptBytes, checkRequestSize, countPromptTokens } from './prompt-limits.js';

/** A validated, rendered request ready to generate. */
export interface PreparedChat {
  model: ChatModel;
  request: ChatRequest;
  prompt: EnginePrompt;
  promptTokens: number;
  /** Completion budget per choice. */
  maxTokens: number;
  /** `logit_bias` as applied (the request's, plus bans the chat layer adds). */
  logitBias: ReadonlyMap<number, number>;
  /** Builds a fresh decoder state per choice; null = unconstrained. */
  constraint: (() => Constraint) | null;
  parser: OutputParserOptions;
}

/** Token counts of a finished request (OpenAI `usage`). */
export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** An event of choice `choice`. */
export interface ChatEvent {
  choice: number;
  event: ChoiceEvent;
}

/** The image parts of the user messages, with the `param` path each error names. */
function imageParts(messages: ChatMessage[]): ImagePart[] {
  const parts: ImagePart[] = [];
  messages.forEach((m, i) => {
    if (m.role !== 'user') return;
    m.content.forEach((part: ChatContentPart, j) => {
      if (part.type === 'image')
        parts.push({ url: part.url, detail: part.detail, param: `messages[${i}].content[${j}].image_url.url` });
    });
  });
  return parts;
}

/** Validates the request against the model and renders its prompt; throws `InvalidRequestError` (400). */
export async function prepareChat(
  model: ChatModel,
  request: ChatRequest,
  limits: ImageLimits = defaultImageLimits,
  documents: DocumentOptions = defaultDocumentOptions,
): Promise<PreparedChat> {
  checkRequestSize(request);
  const parts = imageParts(request.messages);
  // Before any fetch or decode: a text-only model never touches an image URL.
  if (parts.length > 0 && !model.engine.info.vision) {
    throw new InvalidRequestError(`The model '${model.id}' does not accept image input`, {
      param: parts[0]!.param.replace(/\.image_url\.url$/, ''),
      code: 'invalid_value',
    });
  }
  // PDF parts become text and page images in template order (after the image parts, which are cheaper to refuse).
  const { messages, images } = await attachDocuments(
    model,
    request.messages,
    await loadImages(parts, limits),
    documents,
  );
  // Each step below is bounded, but steps of several requests back to back would add up: each takes a turn of its own.
  await nextLoopTurn();
  const toolsOn = request.tools.length > 0 && request.toolChoice !== 'none';
  let text: string;
  try {
    text = model.template.render(messages, {
      bosToken: model.engine.info.bosToken,
      eosToken: model.engine.info.eosToken,
      tools: toolsOn ? request.tools : [],
    });
  } catch (error) {
    throw new InvalidRequestError(`The model's chat template rejected the messages: ${(error as Error).message}`, {
      param: 'messages',
      cause: error,
    });
  }
  checkPromptBytes(model, text);
  const prompt = { text, images };
  // Every pattern of the request's schemas and tools shares one work budget, so many cheap-enough ones cannot add up.
  await nextLoopTurn();
  const constraint = withRegexBudget(() => compileConstraint(model, request));
  const promptTokens = await countPromptTokens(model, prompt);
  const contextSize = model.engine.info.contextSize;
  const room = contextSize - promptTokens;
  if (room < 1 || (request.maxTokens !== null && request.maxTokens > room)) {
    const asked = request.maxTokens ?? 1;
    throw new InvalidRequestError(
      `This model's maximum context length is ${contextSize} tokens. However, you requested ${promptTokens + asked} ` +
        `tokens (${promptTokens} in the messages, ${asked} in the completion). Please reduce the length of the ` +
        'messages or completion.',
      { param: 'messages', code: 'context_length_exceeded' },
    );
  }
  return {
    model,
    request,
    prompt,
    promptTokens,
    maxTokens: request.maxTokens ?? room,
    logitBias: effectiveBias(model, request, toolsOn),
    constraint,
    // Reasoning templates (Qwen3, DeepSeek-R1) may open `<think>` in the generation prompt itself.
    parser: {
      syntax: model.syntax,
      tools: toolsOn,
      thinking: model.thinks,
      startInThink: model.thinks && /<think>\s*$/.test(text),
    },
  };
}

function samplingFor(prepared: PreparedChat, choice: number): SamplingOptions {
  const s = prepared.request.sampling;
  return { ...s, logitBias: prepared.logitBias, seed: s.seed === null ? null : s.seed + choice };
}

/**
 * The request's `logit_bias`, plus a ban on the model's own call-opening token when calls are off (`tool_choice:
 * "none"`), so a model trained to call tools cannot put call syntax into `content`.
 */
function effectiveBias(model: ChatModel, request: ChatRequest, toolsOn: boolean): ReadonlyMap<number, number> {
  if (toolsOn || request.tools.length === 0) return request.sampling.logitBias;
  const open = model.engine.tokenize(model.syntax.open.trim(), true);
  if (open.length !== 1) return request.sampling.logitBias;
  return new Map([...request.sampling.logitBias, [open[0] as number, -100]]);
}

/** Generates every choice; `usage` resolves once all have finished. Aborting `signal` stops them all. */
export function runChat(
  prepared: PreparedChat,
  signal?: AbortSignal,
): { events: AsyncIterable<ChatEvent>; usage: Promise<ChatUsage> } {
  const { request, model } = prepared;
  const usage: ChatUsage = { promptTokens: prepared.promptTokens, completionTokens: 0, cachedTokens: 0 };
  let finish: (u: ChatUsage) => void = () => undefined;
  const done = new Promise<ChatUsage>((resolve) => (finish = resolve));
  const choices = Array.from({ length: request.n }, (_, i) =>
    runChoice({
      model: model.engine,
      vocabulary: model.vocabulary,
      prompt: prepared.prompt,
      sampling: samplingFor(prepared, i),
      maxTokens: prepared.maxTokens,
      constraint: prepared.constraint?.() ?? null,
      stop: request.stop,
      parser: new OutputParser(prepared.parser),
      topLogprobs: request.logprobs ? request.topLogprobs : -1,
      visibleSpecial: model.markerTokens,
      ...(signal && { signal }),
      onPrompt: (_prompt, cached) => {
        if (i === 0) usage.cachedTokens = cached;
      },
    })[Symbol.asyncIterator](),
  );
  async function* events(): AsyncGenerator<ChatEvent> {
    for await (const [choice, event] of interleave(choices)) {
      if (event.type === 'finish') usage.completionTokens += event.completionTokens;
      yield { choice, event };
    }
    finish(usage);
  }
  return { events: events(), usage: done };
}

/** Yields from several async iterators as their values arrive, tagged with the iterator's index. */
async function* interleave<T>(iterators: AsyncIterator<T>[]): AsyncGenerator<[number, T]> {
  const pending = new Map<number, Promise<[number, IteratorResult<T>]>>();
  const pull = (i: number): void => {
    pending.set(
      i,
      (iterators[i] as AsyncIterator<T>).next().then((r) => [i, r]),
    );
  };
  iterators.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const [i, result] = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      yield [i, result.value];
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return?.()));
  }
}
