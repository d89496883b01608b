/**
 * `POST /v1/responses` (OpenAI's Responses API) on the chat internals: validation → `previous_response_id` replay →
 * model lookup → admission (429 when full) → `prepareChat` of the first turn (every 400 before the answer starts) →
 * a JSON `response`, or Server-Sent Events (`event: <type>` + data, numbered by `sequence_number`). Stored responses
 * are served by `GET` and removed by `DELETE /v1/responses/{id}`.
 */
import type { FastifyReply } from 'fastify';
import { prepareChat, type ChatModelPool } from '../../chat/index.js';
import type { ImageGenerator } from '../../images/index.js';
import {
  ApiError,
  itemsToMessages,
  newResponseId,
  NotFoundError,
  parseResponsesRequest,
  ResponseBuilder,
  turnChatRequest,
  type ResponseItem,
  type ResponsesRequest,
} from '../../protocol/index.js';
import { ResponseRepo } from '../../store/index.js';
import { toolImageTarget } from '../chat-image-tool.js';
import type { RoutePlugin, ServerDeps } from '../create-server.js';
import { documentOptionsFromConfig } from '../document-options.js';
import { imageLimitsFromConfig } from '../image-limits.js';
import { runResponse, type ResponseRunContext } from '../response-runner.js';
import { openSse } from '../sse.js';

/** The conversation a `previous_response_id` continues (404 when it was never stored or was deleted). */
function historyOf(repo: ResponseRepo, request: ResponsesRequest): ResponseItem[] {
  if (request.previousResponseId === null) return [];
  const previous = repo.get(request.previousResponseId);
  if (!previous)
    throw new NotFoundError(`Previous response with id '${request.previousResponseId}' not found.`, {
      param: 'previous_response_id',
    });
  return previous.items as ResponseItem[];
}

async function streamResponse(
  reply: FastifyReply,
  deps: ServerDeps,
  run: (context: Pick<ResponseRunContext, 'emit' | 'signal'>) => Promise<void>,
): Promise<void> {
  const sse = openSse(reply, deps.scrubber);
  try {
    await run({
      signal: sse.signal,
      emit: async (events) => {
        for (const event of events) await sse.send(event, { event: event.type });
      },
    });
    sse.close();
  } catch (error) {
    // The status line is gone: report in-band as OpenAI does, then end the stream.
    await sse.fail(error);
  }
}

/**
 * An error the chat layer raised about `messages[k]…`, renamed to the input item it came from (`input[i]…`): the
 * Responses API's client sent items, not messages. Errors about anything else pass unchanged.
 */
function inputError(error: unknown, origins: readonly (number | null)[], historyLength: number): unknown {
  const match = error instanceof ApiError ? /^messages\[(\d+)\](.*)$/.exec(error.param ?? '') : null;
  const origin = match ? origins[Number(match[1])] : undefined;
  if (!match || origin === undefined || origin === null || origin < historyLength) return error;
  const e = error as ApiError;
  return new ApiError(e.status, e.type, e.message, {
    param: `input[${origin - historyLength}]${match[2]}`,
    code: e.code ?? undefined,
    headers: e.headers,
    cause: e.cause,
  });
}

/**
 * The responses routes over `pool` (shared with chat completions, which owns and disposes it) and the resident
 * image generator the built-in `image_generation` tool runs on (null on a host without image generation).
 */
export function responsesRoutes(pool: ChatModelPool, images: ImageGenerator | null): RoutePlugin {
  return (app, deps) => {
    const imageLimits = imageLimitsFromConfig(deps.config);
    const documents = documentOptionsFromConfig(deps.config, deps.store);
    const repo = new ResponseRepo(deps.store.db);
    app.post('/v1/responses', async (req, reply) => {
      const request = parseResponsesRequest(req.body);
      const history = historyOf(repo, request);
      const record = deps.models.require(request.model);
      const image = toolImageTarget(deps, request.imageTool, images);
      const release = pool.admit(record);
      try {
        const model = await pool.get(record);
        const origins: (number | null)[] = [];
        const messages = itemsToMessages(request.instructions, [...history, ...request.input], origins);
        const chat = turnChatRequest(request, messages, {
          toolChoice: request.toolChoice,
          maxTokens: request.maxOutputTokens,
        });
        const first = await prepareChat(model, chat, imageLimits, documents).catch((error: unknown) => {
          throw inputError(error, origins, history.length);
        });
        const builder = new ResponseBuilder(newResponseId(), request);
        const run = async (io: Pick<ResponseRunContext, 'emit' | 'signal'>): Promise<void> => {
          const { items } = await runResponse(request, first, builder, {
            model,
            image,
            imageLimits,
            documents,
            history,
            ...io,
          });
          if (request.store && !io.signal.aborted) {
            repo.put({
              id: builder.response.id,
              model: request.model,
              response: { ...builder.response },
              items,
              createdAt: builder.response.created_at,
            });
          }
        };
        if (request.stream) return await streamResponse(reply, deps, run);
        const abort = new AbortController();
        reply.raw.on('close', () => {
          if (!reply.raw.writableFinished) abort.abort();
        });
        await run({ signal: abort.signal, emit: async () => undefined });
        return builder.response;
      } finally {
        release();
      }
    });

    app.get('/v1/responses/:id', async (req) => {
      const { id } = req.params as { id: string };
      const stored = repo.get(id);
      if (!stored) throw new NotFoundError(`Response with id '${id}' not found.`, { param: 'response_id' });
      return stored.response;
    });

    app.delete('/v1/responses/:id', async (req) => {
      const { id } = req.params as { id: string };
      if (!repo.delete(id)) throw new NotFoundError(`Response with id '${id}' not found.`, { param: 'response_id' });
      return { id, object: 'response', deleted: true };
    });
  };
}
