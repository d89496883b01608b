import type { FastifyReply } from 'fastify';
import { toApiError } from '../protocol/index.js';
import type { PathScrubber } from './scrub-paths.js';

/** A Server-Sent Events response being written. Create with `openSse`. */
export interface SseStream {
  /**
   * Sends one event whose `data` is `JSON.stringify(data)`. Resolves once the socket accepts more (backpressure).
   * Throws at once (a programming error) if `event` or `id` contains CR or LF.
   */
  send(data: unknown, options?: { event?: string; id?: string }): Promise<void>;
  /** Sends OpenAI's terminator `data: [DONE]` and ends the response. */
  done(): Promise<void>;
  /** Ends the response without a terminator (after an error event, say). Idempotent. */
  close(): void;
  /**
   * Reports an error after the status line is gone, as OpenAI does: logs it, sends `event: error` with OpenAI's error
   * body (a 500's cause stays in the log), then ends the stream. openai-node raises it as an APIError.
   */
  fail(error: unknown): Promise<void>;
  /** Aborted when the client disconnects: pass it to generation loops so they stop spending compute. */
  readonly signal: AbortSignal;
}

function field(name: string, value: string): string {
  // A CR or LF inside a field would end it early and let the rest be read as a forged event.
  if (/[\r\n]/.test(value)) throw new Error(`SSE ${name} must not contain CR or LF: ${JSON.stringify(value)}`);
  return `${name}: ${value}\n`;
}

/**
 * Takes over `reply` and starts an SSE response (`text/event-stream`, no caching, no proxy buffering). Payloads are
 * JSON, whose serialisation never contains a raw newline, so each event is a single `data:` line. `scrubber` cleans
 * server paths out of error events.
 */
export function openSse(reply: FastifyReply, scrubber: PathScrubber): SseStream {
  const raw = reply.raw;
  const controller = new AbortController();
  reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    // Fixed values only: the request id was vetted by genReqId, so writeHead cannot throw on a client's bytes.
    'x-request-id': String(reply.request.id),
  });
  raw.on('close', () => controller.abort());
  let ended = false;
  const write = (text: string): Promise<void> =>
    new Promise((resolve) => {
      if (ended || raw.destroyed) return resolve();
      if (raw.write(text)) resolve();
      else raw.once('drain', () => resolve()).once('close', () => resolve());
    });
  const send = (data: unknown, options: { event?: string; id?: string } = {}): Promise<void> => {
    const text =
      (options.event ? field('event', options.event) : '') +
      (options.id ? field('id', options.id) : '') +
      `data: ${JSON.stringify(data)}\n\n`;
    return write(text);
  };
  const close = (): void => {
    if (!ended) raw.end();
    ended = true;
  };
  return {
    signal: controller.signal,
    send,
    done: async () => {
      await write('data: [DONE]\n\n');
      close();
    },
    close,
    fail: async (error) => {
      const apiError = toApiError(error);
      if (apiError.status >= 500) reply.log.error({ err: apiError.cause ?? error }, 'stream failed');
      else reply.log.debug({ err: error }, 'stream rejected');
      await send(scrubber.body(apiError.toBody()), { event: 'error' });
      close();
    },
  };
}
