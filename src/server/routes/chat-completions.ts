/**
 * `POST /v1/chat/completions`: validation → model lookup → admission (429 when full) → `prepareChat` (every 400 is
 * raised here, before the response starts) → JSON body, or Server-Sent Events in OpenAI's chunk order ending with
 * `data: [DONE]`. A client that disconnects aborts its generation at the next token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ChunkBuilder,
  CompletionBuilder,
  newCompletionMeta,
  parseChatRequest,
  type ChatRequest,
} from '../../protocol/index.js';
import { prepareChat, runChat, type ChatModel, type PreparedChat } from '../../chat/index.js';

/** What the route needs from the rest of the server. */
export interface ChatCompletionsOptions {
  /** Returns the loaded chat model for `id`, or throws `ModelNotFoundError` (404). */
  resolveModel(id: string): Promise<ChatModel>;
  /** Admits a request for `model` or throws `RateLimitError` (429); returns the release callback. */
  admit(model: ChatModel): () => void;
}

/** A line-safe SSE `data:` frame (JSON never contains a raw newline). */
function sse(data: string): string {
  return `data: ${data}\n\n`;
}

async function respondJson(prepared: PreparedChat, request: ChatRequest, signal: AbortSignal): Promise<object> {
  const meta = newCompletionMeta(request.model);
  const builder = new CompletionBuilder(meta, request.n, request.logprobs);
  const run = runChat(prepared, signal);
  for await (const { choice, event } of run.events) builder.add(choice, event);
  return builder.build(await run.usage);
}

async function respondStream(prepared: PreparedChat, request: ChatRequest, reply: FastifyReply, abort: AbortController): Promise<void> {
  const meta = newCompletionMeta(request.model);
  const chunks = new ChunkBuilder(meta, request.includeUsage);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const run = runChat(prepared, abort.signal);
  try {
    for await (const { choice, event } of run.events) {
      for (const chunk of chunks.add(choice, event)) raw.write(sse(JSON.stringify(chunk)));
    }
    if (!abort.signal.aborted) {
      const usage = chunks.usage(await run.usage);
      if (usage) raw.write(sse(JSON.stringify(usage)));
      raw.write(sse('[DONE]'));
    }
  } catch (error) {
    // Headers are gone: report in-band the way OpenAI does, then end the stream.
    const message = error instanceof Error ? error.message : String(error);
    raw.write(sse(JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } })));
    reply.log.error({ err: error }, 'chat stream failed');
  } finally {
    raw.end();
  }
}

/** Registers the route on `app` (a fastify instance whose error handler renders `ApiError`s). */
export async function chatCompletionsRoute(app: FastifyInstance, options: ChatCompletionsOptions): Promise<void> {
  app.post('/v1/chat/completions', async (req: FastifyRequest, reply: FastifyReply) => {
    const request = parseChatRequest(req.body);
    const model = await options.resolveModel(request.model);
    const release = options.admit(model);
    const abort = new AbortController();
    // 'close' on the response fires when the client goes away before we finish (and harmlessly after).
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    try {
      const prepared = await prepareChat(model, request);
      if (request.stream) return await respondStream(prepared, request, reply, abort);
      return await respondJson(prepared, request, abort.signal);
    } finally {
      release();
    }
  });
}
