/**
 * `POST /v1/chat/completions`: validation → model lookup → admission (429 when full) → `prepareChat` (every 400 is
 * raised here, before the response starts) → a JSON body, or Server-Sent Events in OpenAI's chunk order ending with
 * `data: [DONE]`. A client that disconnects aborts its generation at the next token.
 */
import type { FastifyReply } from 'fastify';
import {
  ChunkBuilder,
  CompletionBuilder,
  imagesChunk,
  newCompletionMeta,
  parseChatRequest,
  type WireChatCompletion,
  type WireGeneratedImage,
} from '../../protocol/index.js';
import { prepareChat, runChat, type ChatModelPool, type PreparedChat } from '../../chat/index.js';
import type { ImageGenerator } from '../../images/index.js';
import { runChatMaybeImages, toolImageTarget } from '../chat-image-tool.js';
import type { RoutePlugin } from '../create-server.js';
import { documentOptionsFromConfig } from '../document-options.js';
import { imageLimitsFromConfig } from '../image-limits.js';
import type { PathScrubber } from '../scrub-paths.js';
import { openSse } from '../sse.js';

/** Starts the generation of a prepared request; `onImages` receives what the built-in image tool made. */
type Start = (
  signal: AbortSignal,
  onImages: (images: WireGeneratedImage[]) => Promise<void>,
) => ReturnType<typeof runChat>;

async function respondJson(prepared: PreparedChat, start: Start, signal: AbortSignal): Promise<WireChatCompletion> {
  const { request } = prepared;
  const builder = new CompletionBuilder(newCompletionMeta(request.model), request.n, request.logprobs);
  let images: WireGeneratedImage[] = [];
  const run = start(signal, async (made) => void (images = made));
  for await (const { choice, event } of run.events) builder.add(choice, event);
  const completion = builder.build(await run.usage);
  if (images.length > 0) (completion.choices[0] as WireChatCompletion['choices'][number]).message.images = images;
  return completion;
}

async function respondStream(
  prepared: PreparedChat,
  start: Start,
  reply: FastifyReply,
  scrubber: PathScrubber,
): Promise<void> {
  const { request } = prepared;
  const meta = newCompletionMeta(request.model);
  const chunks = new ChunkBuilder(meta, request.includeUsage);
  const sse = openSse(reply, scrubber);
  const run = start(sse.signal, (images) => sse.send(imagesChunk(meta, images)));
  try {
    for await (const { choice, event } of run.events) {
      for (const chunk of chunks.add(choice, event)) await sse.send(chunk);
    }
    if (sse.signal.aborted) return sse.close();
    const usage = chunks.usage(await run.usage);
    if (usage) await sse.send(usage);
    await sse.done();
  } catch (error) {
    // The status line is gone: report in-band as OpenAI does, then end the stream.
    await sse.fail(error);
  }
}

/**
 * The chat-completions route over `pool` (which it disposes when the server closes); `images` runs atelier's
 * built-in `image_generation` tool extension (null: a request with it is a 400).
 */
export function chatCompletionsRoutes(pool: ChatModelPool, images: ImageGenerator | null = null): RoutePlugin {
  return (app, deps) => {
    const imageLimits = imageLimitsFromConfig(deps.config);
    const documents = documentOptionsFromConfig(deps.config, deps.store);
    app.addHook('onClose', () => pool.dispose());
    app.post('/v1/chat/completions', async (req, reply) => {
      const request = parseChatRequest(req.body);
      const record = deps.models.require(request.model);
      const target = toolImageTarget(deps, request.imageTool, images);
      const release = pool.admit(record);
      try {
        const model = await pool.get(record);
        const prepared = await prepareChat(model, request, imageLimits, documents);
        const start: Start = (signal, onImages) =>
          runChatMaybeImages(prepared, {
            model,
            target,
            signal,
            onImages,
            prepare: (m, r) => prepareChat(m, r, imageLimits, documents),
          });
        if (request.stream) return await respondStream(prepared, start, reply, deps.scrubber);
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        return await respondJson(prepared, start, abort.signal);
      } finally {
        release();
      }
    });
  };
}
