import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, InternalServerError, InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../protocol/index.js';

/** The request field a fastify schema-validation error is about, in OpenAI's dotted form (`messages[0].role`). */
function paramOf(error: FastifyError): string | null {
  const first = error.validation?.[0];
  if (!first) return null;
  const path = first.instancePath.replace(/^\//, '').split('/').filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : `${i === 0 ? '' : '.'}${part}`)).join('');
  const missing = (first.params as { missingProperty?: string }).missingProperty;
  return missing ? (path ? `${path}.${missing}` : missing) : path || null;
}

/** Maps whatever a handler or fastify itself threw onto the ApiError hierarchy. */
export function toHttpError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return new InvalidRequestError(`Invalid request: ${fastifyError.message}`, { param: paramOf(fastifyError), cause: error });
  }
  const status = fastifyError.statusCode ?? 500;
  if (status === 413) return new PayloadTooLargeError('Request body is larger than this server accepts (see bodyLimit).');
  if (status === 404) return new NotFoundError(fastifyError.message);
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (invalid JSON, empty body, unsupported media type) keep their status and message.
    return new ApiError(status, 'invalid_request_error', fastifyError.message, { code: fastifyError.code ?? null });
  }
  return new InternalServerError(undefined, { cause: error });
}

/**
 * Makes every error leave the server in OpenAI's shape: thrown errors, fastify's parse/validation errors and unknown
 * routes (404 `Invalid URL (METHOD /path)`, as OpenAI answers). 5xx are logged with their cause; 4xx at debug level.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const apiError = toHttpError(error);
    if (apiError.status >= 500) request.log.error({ err: apiError.cause ?? error }, 'request failed');
    else request.log.debug({ err: error }, 'request rejected');
    if (reply.sent || reply.raw.headersSent) return;
    void reply.code(apiError.status).headers(apiError.headers).send(apiError.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new NotFoundError(`Invalid URL (${request.method} ${request.url.split('?')[0]})`);
    void reply.code(404).send(error.toBody());
  });
}
