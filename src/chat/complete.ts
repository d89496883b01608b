/**
 * One non-HTTP chat completion from an OpenAI-shaped body: validation, preparation and generation exactly as the
 * server does them, with every event handed to `onEvent` as it happens (the CLI prints content from there).
 */
import { CompletionBuilder, newCompletionMeta, parseChatRequest, type WireChatCompletion } from '../protocol/index.js';
import type { ChatModel } from './chat-model.js';
import { prepareChat, runChat } from './chat-service.js';
import type { ChoiceEvent } from './choice-runner.js';
import type { DocumentOptions } from './documents.js';
import type { ImageLimits } from './images.js';

/** Options of `completeChat`. */
export interface CompleteOptions {
  signal?: AbortSignal;
  onEvent?: (choice: number, event: ChoiceEvent) => void;
  /** Image limits and fetch policy (the server's, from its config). Default `defaultImageLimits`. */
  imageLimits?: ImageLimits;
  /** Document limits and file store. Default `defaultDocumentOptions` (no file store). */
  documents?: DocumentOptions;
}

/** Runs `body` (a `/v1/chat/completions` request body) on `model` and returns the `chat.completion`. */
export async function completeChat(
  model: ChatModel,
  body: unknown,
  options: CompleteOptions = {},
): Promise<WireChatCompletion> {
  const request = parseChatRequest(body);
  const prepared = await prepareChat(model, request, options.imageLimits, options.documents);
  const builder = new CompletionBuilder(newCompletionMeta(request.model), request.n, request.logprobs);
  const run = runChat(prepared, options.signal);
  for await (const { choice, event } of run.events) {
    options.onEvent?.(choice, event);
    builder.add(choice, event);
  }
  return builder.build(await run.usage);
}
