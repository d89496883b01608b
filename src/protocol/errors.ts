/**
 * The error hierarchy every HTTP error of atelier goes through. Each serialises to exactly the body OpenAI sends,
 * `{"error":{"message","type","param","code"}}`, which openai-node's `APIError.generate` turns into its typed classes
 * (BadRequestError for 400, AuthenticationError for 401, NotFoundError for 404, ...), reading `error.type`,
 * `error.param` and `error.code`.
 */

/** OpenAI's error body, as sent on the wire. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Options shared by every ApiError constructor. */
export interface ApiErrorOptions {
  /** The request field the error is about (`model`, `messages[0].content`), or null. */
  param?: string | null;
  /** A machine-readable code (`model_not_found`, `invalid_api_key`), or null. */
  code?: string | null;
  /** Extra response headers (e.g. `Retry-After`). */
  headers?: Record<string, string>;
  /** The underlying error, kept for logs; never sent to the client. */
  cause?: unknown;
}

/** Base of all errors that become an HTTP response: status, OpenAI `type`, `param`, `code`. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(status: number, type: string, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.type = type;
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  /** The exact OpenAI body for this error. */
  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400: the request is malformed or a field is invalid. `param` names the field when known. */
export class InvalidRequestError extends ApiError {
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(400, 'invalid_request_error', message, options);
  }
}

/** 401: missing or wrong API key. */
export class AuthenticationError extends ApiError {
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(401, 'invalid_request_error', message, { code: 'invalid_api_key', ...options });
  }
}

/** 403: the key is valid but may not do this. */
export class PermissionDeniedError extends ApiError {
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(403, 'invalid_request_error', message, options);
  }
}

/** 404: a resource (model, file, job, route) does not exist. */
export class NotFoundError extends ApiError {
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(404, 'invalid_request_error', message, options);
  }
}

/** 404 for an unknown model id, worded and coded as OpenAI does (`param: "model"`, `code: "model_not_found"`). */
export class ModelNotFoundError extends NotFoundError {
  constructor(model: string, options: ApiErrorOptions = {}) {
    super(`The model '${model}' does not exist`, { param: 'model', code: 'model_not_found', ...options });
  }
}

/** 409: the request conflicts with the current state (a job already finished, a name already taken). */
export class ConflictError extends ApiError {
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(409, 'invalid_request_error', message, { code: 'conflict', ...options });
  }
}

/** 413: the request body is larger than the server accepts. */
export class PayloadTooLargeError extends ApiError {
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(413, 'invalid_request_error', message, { code: 'payload_too_large', ...options });
  }
}

/**
 * 429: too many requests or a busy queue. `retryAfterSeconds` becomes the `Retry-After` header, which openai-node
 * honours when it retries.
 */
export class RateLimitError extends ApiError {
  constructor(message: string, retryAfterSeconds: number, options: ApiErrorOptions = {}) {
    const retryAfter = String(Math.max(0, Math.ceil(retryAfterSeconds)));
    super(429, 'requests', message, {
      code: 'rate_limit_exceeded',
      ...options,
      headers: { 'retry-after': retryAfter, ...options.headers },
    });
  }
}

/** 500: a bug or an unexpected failure. The message must not leak internals; the cause goes to the log. */
export class InternalServerError extends ApiError {
  constructor(message = 'The server had an error while processing your request.', options: ApiErrorOptions = {}) {
    super(500, 'server_error', message, options);
  }
}

/** 503: a dependency is not ready (model still loading, worker down). */
export class ServiceUnavailableError extends ApiError {
  constructor(message: string, options: ApiErrorOptions = {}) {
    super(503, 'server_error', message, { code: 'service_unavailable', ...options });
  }
}

/** Turns anything thrown into an ApiError: ApiErrors pass through, everything else becomes a 500 keeping the cause. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new InternalServerError(undefined, { cause: error });
}
