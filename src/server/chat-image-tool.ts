/**
 * The built-in `image_generation` tool on the server side: drawing one call's image on the resident worker (used by
 * `/v1/responses` and `/v1/chat/completions`), and chat completions' extension of it — the model's first turn with
 * its image calls held back from the client, the images made, then a second turn (calls off) in which the model
 * continues. The events keep the chat layer's shape, so the JSON and chunk builders stay the ones chat uses.
 */
import { readFile } from 'node:fs/promises';
import { runChat, type ChatEvent, type ChatModel, type ChatUsage, type PreparedChat } from '../chat/index.js';
import { isImageModel, type ImageGenerator } from '../images/index.js';
import {
  IMAGE_TOOL_NAME,
  IMAGE_TOOL_RESULT,
  imageToolRequest,
  InvalidRequestError,
  newToolCallId,
  type ChatMessage,
  type ImageToolOptions,
  type WireGeneratedImage,
} from '../protocol/index.js';
import type { ModelRecord } from '../store/index.js';
import type { ServerDeps } from './create-server.js';
import { imageModel } from './routes/images.js';

/** The generator and the (checked) image model a request's tool draws with. */
export interface ToolImageTarget {
  generator: ImageGenerator;
  record: ModelRecord;
}

/**
 * The image model a request's tool names (or the first served one), checked before anything runs: a 400 when it is
 * not an image model or the server has no image generation. Null when the request has no image tool.
 */
export function toolImageTarget(
  deps: ServerDeps,
  tool: ImageToolOptions | null | undefined,
  generator: ImageGenerator | null,
): ToolImageTarget | null {
  if (!tool) return null;
  if (!generator) throw new InvalidRequestError('This server has no image generation', { param: 'tools' });
  const record = imageModel(deps, tool.body.model as string | undefined);
  if (!isImageModel(record)) {
    throw new InvalidRequestError(`The model '${record.name}' is not an image model`, {
      param: 'tools.model',
      code: 'invalid_value',
    });
  }
  return { generator, record };
}

/** One drawn image of the tool. */
export interface ToolImage {
  b64Png: string;
  width: number;
  height: number;
  seed: number;
  model: string;
}

/** The prompt of a call's arguments; a 400 when the model's text is not a complete call (cut by the token cap). */
export function toolPrompt(args: string): string {
  try {
    const { prompt } = JSON.parse(args) as { prompt?: unknown };
    if (typeof prompt === 'string') return prompt;
  } catch {
    // Reported below: the arguments were cut before their end.
  }
  throw new InvalidRequestError('The model called image_generation without a complete prompt; raise the token limit', {
    param: 'max_output_tokens',
  });
}

/** Draws `prompt` with the tool's settings, exactly as `/v1/images/generations` would (same seed, same pixels). */
export async function drawToolImage(
  target: ToolImageTarget,
  tool: ImageToolOptions,
  prompt: string,
  signal: AbortSignal,
): Promise<ToolImage> {
  const body = imageToolRequest(tool, prompt);
  const resolved = target.generator.resolve(target.record, body);
  const [made] = await target.generator.generate(target.record, { ...body, seed: resolved.seed }, { signal });
  if (!made) throw new InvalidRequestError('the image worker made no image', { param: 'tools' });
  const b64Png = (await readFile(made.path)).toString('base64');
  return { b64Png, width: resolved.width, height: resolved.height, seed: made.seed, model: target.record.name };
}

/** What chat completions needs to answer the tool's calls itself. */
export interface ChatImageContext {
  model: ChatModel;
  target: ToolImageTarget;
  tool: ImageToolOptions;
  /** Prepares the second turn as the route prepares the first (same image and document options). */
  prepare: (model: ChatModel, request: PreparedChat['request']) => Promise<PreparedChat>;
  /** Receives every image of the turn's calls, once all are made. */
  onImages: (images: WireGeneratedImage[]) => Promise<void>;
  signal: AbortSignal;
}

/** What the first turn left: image calls held back (by the chat layer's index), other calls, its finish. */
interface FirstTurn {
  held: Map<number, { id: string; args: string }>;
  calls: number;
  finish: ChatEvent | null;
}

/** The first turn's events minus its image calls (kept in `turn`) and its finish; other calls renumbered from 0. */
async function* holdImageCalls(events: AsyncIterable<ChatEvent>, turn: FirstTurn): AsyncGenerator<ChatEvent> {
  const renumbered = new Map<number, number>();
  for await (const e of events) {
    const ev = e.event;
    if (ev.type === 'tool_call' && ev.name === IMAGE_TOOL_NAME)
      turn.held.set(ev.index, { id: newToolCallId(), args: '' });
    else if (ev.type === 'tool_arguments' && turn.held.has(ev.index)) turn.held.get(ev.index)!.args += ev.text;
    else if (ev.type === 'finish') turn.finish = e;
    else if (ev.type === 'tool_call') {
      renumbered.set(ev.index, renumbered.size);
      turn.calls = renumbered.size;
      yield { choice: 0, event: { ...ev, index: renumbered.get(ev.index)! } };
    } else if (ev.type === 'tool_arguments') yield { choice: 0, event: { ...ev, index: renumbered.get(ev.index)! } };
    else yield e;
  }
}

/**
 * `runChat` of a request with the image tool (n is 1): the first turn's image calls are held back from the events
 * (other calls keep their order, renumbered from 0), drawn, handed to `onImages`, then — when no function call waits
 * for the client and the cap left room — a second turn continues with calls switched off.
 */
export function runChatWithImages(
  first: PreparedChat,
  context: ChatImageContext,
): { events: AsyncIterable<ChatEvent>; usage: Promise<ChatUsage> } {
  const usage: ChatUsage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };
  let settle: (u: ChatUsage) => void = () => undefined;
  const done = new Promise<ChatUsage>((resolve) => (settle = resolve));
  const add = (u: ChatUsage): void => {
    usage.promptTokens += u.promptTokens;
    usage.completionTokens += u.completionTokens;
    usage.cachedTokens += u.cachedTokens;
  };
  async function* events(): AsyncGenerator<ChatEvent> {
    const run = runChat(first, context.signal);
    const turn: FirstTurn = { held: new Map(), calls: 0, finish: null };
    yield* holdImageCalls(run.events, turn);
    const { held, finish } = turn;
    add(await run.usage);
    if (!finish || context.signal.aborted) return settle(usage);
    if (held.size === 0) {
      yield finish;
      return settle(usage);
    }
    const calls = [...held.values()].map((c) => ({ ...c, prompt: toolPrompt(c.args) }));
    const images: WireGeneratedImage[] = [];
    for (const call of calls) {
      const image = await drawToolImage(context.target, context.tool, call.prompt, context.signal);
      images.push({
        b64_json: image.b64Png,
        revised_prompt: call.prompt,
        tool_call_id: call.id,
        model: image.model,
        size: `${image.width}x${image.height}`,
        seed: image.seed,
      });
    }
    await context.onImages(images);
    const request = first.request;
    const cap = request.maxTokens === null ? null : request.maxTokens - usage.completionTokens;
    const ended = finish.event.type === 'finish' && finish.event.reason === 'length';
    if (turn.calls > 0 || ended || (cap !== null && cap <= 0)) {
      yield turn.calls > 0
        ? finish
        : {
            choice: 0,
            event: { type: 'finish', reason: ended ? 'length' : 'stop', completionTokens: usage.completionTokens },
          };
      return settle(usage);
    }
    const messages: ChatMessage[] = [
      ...request.messages,
      {
        role: 'assistant',
        content: null,
        toolCalls: calls.map((c) => ({ id: c.id, name: IMAGE_TOOL_NAME, arguments: c.args })),
        reasoning: null,
      },
      ...calls.map((c): ChatMessage => ({ role: 'tool', content: IMAGE_TOOL_RESULT, toolCallId: c.id })),
    ];
    const second = await context.prepare(context.model, { ...request, messages, toolChoice: 'none', maxTokens: cap });
    const next = runChat(second, context.signal);
    yield* next.events;
    add(await next.usage);
    settle(usage);
  }
  return { events: events(), usage: done };
}

/** The usual run of `prepared`, or the image tool's when the request carries one and a target is given. */
export function runChatMaybeImages(
  prepared: PreparedChat,
  context: Omit<ChatImageContext, 'tool' | 'target'> & { target: ToolImageTarget | null },
): { events: AsyncIterable<ChatEvent>; usage: Promise<ChatUsage> } {
  const tool = prepared.request.imageTool;
  if (!tool || !context.target) return runChat(prepared, context.signal);
  return runChatWithImages(prepared, { ...context, tool, target: context.target });
}
