import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import {
  ApiError,
  InternalServerError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
} from '../protocol/index.js';
import type { PathScrubber } from './scrub-paths.js';

/** The request field a fastify schema-validation error is about, in OpenAI's dotted form (`messages[0].role`). */
function paramOf(error: FastifyError): string | null {
  const first = error.validation?.[0];
  if (!first) return null;
  const path = first.instancePath
    .replace(/^\//, '')
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : `${i === 0 ? '' : '.'}${part}`))
    .join('');
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  return missing ? (path ? `${path}.${missing}` : missing) : path || null;
}

/** Maps whatever a handler or fastify itself threw onto the ApiError hierarchy. */
export function toHttpError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return new InvalidRequestError(`Invalid request: ${fastifyError.message}`, {
      param: paramOf(fastifyError),
      cause: error,
    });
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 413)
    return new PayloadTooLargeError('Request body is larger than this server accepts (see bodyLimit).');
  if (status === 404) return new NotFoundError(fastifyError.message);
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (invalid JSON, empty body, unsupported media type) keep their status and message.
    return new ApiError(status, 'invalid_request_error', fastifyError.message, { code: fastifyError.code ?? null });
  }
  return new InternalServerError(undefined, { cause: error });
}

/** What Node's HTTP parser reports before any request exists, as OpenAI-shaped errors. */
function clientErrorOf(error: NodeJS.ErrnoException): ApiError {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return new ApiError(
      431,
      'invalid_request_error',
      'Request headers are larger than this server accepts (16 KiB in all).',
      { code: 'request_header_fields_too_large' },
    );
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ApiError(408, 'invalid_request_error', 'The request was not received in time.', {
      code: 'request_timeout',
    });
  }
  return new InvalidRequestError('Malformed HTTP request.', { code: 'bad_request' });
}

/**
 * fastify's `clientErrorHandler` (the server's `clientError` event): a request Node's parser refused (headers over
 * the 16 KiB limit → 431, a timeout → 408, malformed → 400) gets an OpenAI body, then the connection closes — the
 * parser's state is unknown, so the socket cannot carry another request.
 */
export function writeClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const apiError = clientErrorOf(error);
  this.log.debug({ err: error }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(apiError.toBody());
    socket.end(
      `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

/** Route patterns by method, to tell an unknown URL (404) from a known one asked with the wrong method (405). */
class RouteTable {
  private readonly routes: { method: string; pattern: RegExp }[] = [];

  add(methods: string | string[], url: string): void {
    const source = url
      .replace(/\/+$/, '')
      .split(/(:[^/]+|\*)/)
      .map((part) =>
        part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('');
    for (const method of [methods].flat()) this.routes.push({ method, pattern: new RegExp(`^${source}/?$`) });
  }

  /** Methods that have a route matching `path`. */
  methodsFor(path: string): string[] {
    return [...new Set(this.routes.filter((route) => route.pattern.test(path)).map((route) => route.method))].sort();
  }
}

/**
 * Makes every error leave the server in OpenAI's shape: thrown errors, fastify's parse/validation errors, unknown
 * routes (404 `Invalid URL (METHOD /path)`, as OpenAI answers) and known routes asked with another method (405 with
 * `Allow`). Error messages pass through `scrub` so no server path reaches a client. 5xx are logged with their cause; 4xx at
 * debug level. Call before any route is registered (the 405 table is filled as routes are added).
 */
export function registerErrorHandling(app: FastifyInstance, scrub: PathScrubber): void {
  const table = new RouteTable();
  app.addHook('onRoute', (route) => table.add(route.method, route.url ?? route.path));
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toHttpError(error);
    if (apiError.status >= 500) request.log.error({ err: apiError.cause ?? error }, 'request failed');
    else request.log.debug({ err: error }, 'request rejected');
    if (reply.sent || reply.raw.headersSent) return;
    void reply.code(apiError.status).headers(apiError.headers).send(scrub.body(apiError.toBody()));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = table.methodsFor(path).filter((method) => method !== request.method);
    if (allowed.length > 0) {
      const error = new ApiError(
        405,
        'invalid_request_error',
        `Method not allowed (${request.method} ${path}); use ${allowed.join(', ')}.`,
        { code: 'method_not_allowed' },
      );
      return reply.code(405).header('allow', allowed.join(', ')).send(error.toBody());
    }
    const error = new NotFoundError(`Invalid URL (${request.method} ${path})`);
    return reply.code(404).send(error.toBody());
  });
}
