/**
 * `POST /v1/chat/completions`: validation → model lookup → admission (429 when full) → `prepareChat` (every 400 is
 * raised here, before the response starts) → a JSON body, or Server-Sent Events in OpenAI's chunk order ending with
 * `data: [DONE]`. A client that disconnects aborts its generation at the next token.
 */
import type { FastifyReply } from 'fastify';
import { ChunkBuilder, CompletionBuilder, newCompletionMeta, parseChatRequest, type WireChatCompletion } from '../../protocol/index.js';
import { prepareChat, runChat, type ChatModelPool, type PreparedChat } from '../../chat/index.js';
import type { RoutePlugin } from '../create-server.js';
import { documentOptionsFromConfig } from '../document-options.js';
import { imageLimitsFromConfig } from '../image-limits.js';
import type { PathScrubber } from '../scrub-paths.js';
import { openSse } from '../sse.js';

async function respondJson(prepared: PreparedChat, signal: AbortSignal): Promise<WireChatCompletion> {
  const { request } = prepared;
  const builder = new CompletionBuilder(newCompletionMeta(request.model), request.n, request.logprobs);
  const run = runChat(prepared, signal);
  for await (const { choice, event } of run.events) builder.add(choice, event);
  return builder.build(await run.usage);
}

async function respondStream(prepared: PreparedChat, reply: FastifyReply, scrubber: PathScrubber): Promise<void> {
  const { request } = prepared;
  const chunks = new ChunkBuilder(newCompletionMeta(request.model), request.includeUsage);
  const sse = openSse(reply, scrubber);
  const run = runChat(prepared, sse.signal);
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

/** The chat-completions route over `pool` (which it disposes when the server closes). */
export function chatCompletionsRoutes(pool: ChatModelPool): RoutePlugin {
  return (app, deps) => {
    const imageLimits = imageLimitsFromConfig(deps.config);
    const documents = documentOptionsFromConfig(deps.config, deps.store);
    app.addHook('onClose', () => pool.dispose());
    app.post('/v1/chat/completions', async (req, reply) => {
      const request = parseChatRequest(req.body);
      const record = deps.models.require(request.model);
      const release = pool.admit(record);
      try {
        const model = await pool.get(record);
        const prepared = await prepareChat(model, request, imageLimits, documents);
        if (request.stream) return await respondStream(prepared, reply, deps.scrubber);
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        return await respondJson(prepared, abort.signal);
      } finally {
        release();
      }
    });
  };
}
