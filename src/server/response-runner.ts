/**
 * One `/v1/responses` request after validation: the model's first turn (already prepared, so every 400 came before
 * a byte was sent), the built-in image tool run on the resident image worker for each `image_generation` call the
 * model made, then a second turn in which the model continues — a caption — with calls switched off. Every event
 * goes through one `ResponseBuilder`, so the streamed and JSON answers are the same response.
 */
import {
  prepareChat,
  runChat,
  type ChatModel,
  type DocumentOptions,
  type ImageLimits,
  type PreparedChat,
} from '../chat/index.js';
import {
  InvalidRequestError,
  itemsToMessages,
  outputItems,
  ResponseBuilder,
  turnChatRequest,
  type ImageCallRequest,
  type ResponseItem,
  type ResponsesRequest,
  type UsageCounts,
  type WireResponseEvent,
} from '../protocol/index.js';
import { drawToolImage, toolPrompt, type ToolImageTarget } from './chat-image-tool.js';

/** What a response needs besides its request. */
export interface ResponseRunContext {
  model: ChatModel;
  /** The image tool's model (resolved and checked before the run) and generator; null without the tool. */
  image: ToolImageTarget | null;
  imageLimits: ImageLimits;
  /** Limits and the file store for PDF `input_file` parts. */
  documents: DocumentOptions;
  /** Conversation items before this request's input (from `previous_response_id`). */
  history: ResponseItem[];
  /** Receives events in order; resolves when the client can take more. */
  emit: (events: WireResponseEvent[]) => Promise<void>;
  signal: AbortSignal;
}

/** Runs one prepared model turn into `builder`; returns its token counts. */
async function runTurn(
  prepared: PreparedChat,
  builder: ResponseBuilder,
  context: ResponseRunContext,
): Promise<{ usage: UsageCounts; imageCalls: ImageCallRequest[] }> {
  const run = runChat(prepared, context.signal);
  for await (const { event } of run.events) await context.emit(builder.add(event));
  const usage = await run.usage;
  const { events, imageCalls } = builder.endTurn();
  await context.emit(events);
  return { usage, imageCalls };
}

/** Generates the image of each call on the worker and completes its item. */
async function runImageCalls(
  calls: ImageCallRequest[],
  request: ResponsesRequest,
  builder: ResponseBuilder,
  context: ResponseRunContext,
): Promise<void> {
  const { image } = context;
  if (!image || !request.imageTool)
    throw new InvalidRequestError('image_generation was called but not enabled', { param: 'tools' });
  for (const call of calls) {
    const prompt = toolPrompt(call.arguments);
    await context.emit(builder.imageGenerating(call.itemId, prompt));
    const drawn = await drawToolImage(image, request.imageTool, prompt, context.signal);
    await context.emit(builder.imageCompleted(call.itemId, drawn));
  }
}

/**
 * Runs the response whose first turn is `first`; returns the builder (its `response` is final) and the
 * conversation items to store for `previous_response_id`.
 */
export async function runResponse(
  request: ResponsesRequest,
  first: PreparedChat,
  builder: ResponseBuilder,
  context: ResponseRunContext,
): Promise<{ items: ResponseItem[] }> {
  await context.emit(builder.start());
  const total: UsageCounts = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
  const add = (u: UsageCounts): void => {
    total.promptTokens += u.promptTokens;
    total.completionTokens += u.completionTokens;
    total.cachedTokens += u.cachedTokens;
  };
  const turn = await runTurn(first, builder, context);
  add(turn.usage);
  const conversation = [...context.history, ...request.input];
  if (turn.imageCalls.length > 0) {
    await runImageCalls(turn.imageCalls, request, builder, context);
    const cap = request.maxOutputTokens === null ? null : request.maxOutputTokens - total.completionTokens;
    // The model continues (a caption) only when every call of its turn was answered here: a function call is the
    // client's to answer first, and a turn cut by the cap has no budget left.
    const clientCalls = builder.response.output.some((i) => i.type === 'function_call');
    if (!clientCalls && !builder.incomplete && (cap === null || cap > 0)) {
      const messages = itemsToMessages(request.instructions, [...conversation, ...outputItems(builder.response)]);
      const chat = turnChatRequest(request, messages, { toolChoice: 'none', maxTokens: cap });
      const second = await prepareChat(context.model, chat, context.imageLimits, context.documents);
      add((await runTurn(second, builder, context)).usage);
    }
  }
  await context.emit(builder.finish(total));
  return { items: [...conversation, ...outputItems(builder.response)] };
}
