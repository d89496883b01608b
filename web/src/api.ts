import { readSse } from './sse.js';

const keyStorage = 'atelier.apiKey';

/** The API key the user entered (kept in this browser's localStorage), or '' when none. */
export function getApiKey(): string {
  return localStorage.getItem(keyStorage) ?? '';
}

/** Name of the window event `setApiKey` dispatches, so what is shown can reload with the new key. */
export const apiKeyChanged = 'atelier:api-key';

/** Stores the API key for later visits (an empty key removes it) and dispatches `apiKeyChanged`. */
export function setApiKey(key: string): void {
  if (key === '') localStorage.removeItem(keyStorage);
  else localStorage.setItem(keyStorage, key);
  window.dispatchEvent(new Event(apiKeyChanged));
}

/** An error the API answered with: HTTP status plus the fields of OpenAI's error body. */
export class ApiRequestError extends Error {
  constructor(
    readonly status: number | null,
    message: string,
    readonly type: string | null = null,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }

  /** Builds the error from a parsed body (`{ error: { message, type, param, code } }`), or `fallback` text. */
  static fromBody(status: number | null, body: unknown, fallback: string): ApiRequestError {
    const error = (body as { error?: Record<string, unknown> } | null)?.error;
    if (!error || typeof error.message !== 'string') return new ApiRequestError(status, fallback);
    const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
    return new ApiRequestError(status, error.message, text(error.type), text(error.param), text(error.code));
  }

  /** One line for people: `400 invalid_request_error (param response_format): message`. */
  describe(): string {
    const head = [this.status, this.type ?? 'error'].filter((part) => part !== null).join(' ');
    const details = [this.code && `code ${this.code}`, this.param && `param ${this.param}`].filter(Boolean).join(', ');
    return `${head}${details ? ` (${details})` : ''}: ${this.message}`;
  }
}

/** What to show for any failure: the API's own error, a network failure, or a stop by the user. */
export function describeError(error: unknown): string {
  if (error instanceof ApiRequestError) return error.describe();
  if (error instanceof DOMException && error.name === 'AbortError') return 'Stopped.';
  if (error instanceof TypeError) return `Could not reach the server: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** `fetch` on this server with the API key as a bearer token; a non-2xx answer throws ApiRequestError. */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const key = getApiKey();
  if (key !== '') headers.set('authorization', `Bearer ${key}`);
  const response = await fetch(path, { ...init, headers });
  if (response.ok) return response;
  const text = await response.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's HTML page, say): the raw text is the message.
  }
  throw ApiRequestError.fromBody(response.status, body, text || response.statusText);
}

/** GET → parsed JSON. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await apiFetch(path, { signal })).json() as Promise<T>;
}

/** POST a JSON body (or nothing) → parsed JSON. */
export async function postJson<T>(path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  return sendJson<T>('POST', path, body, signal);
}

/** Any method with a JSON body (or none) → parsed JSON (PUT and DELETE of the studio's history, say). */
export async function sendJson<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  return (await apiFetch(path, init)).json() as Promise<T>;
}

/**
 * POSTs a streaming request and yields each event's JSON until OpenAI's `[DONE]`. An `{ error }` event (a failure
 * after the stream opened) throws ApiRequestError; aborting `signal` rejects with an AbortError.
 */
export async function* postStream(
  path: string,
  body: unknown,
  signal: AbortSignal,
): AsyncGenerator<Record<string, unknown>> {
  const response = await apiFetch(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    signal,
  });
  if (!response.body) throw new ApiRequestError(response.status, 'The server answered without a body.');
  for await (const event of readSse(response.body)) {
    if (event.data === '[DONE]') return;
    const data = JSON.parse(event.data) as Record<string, unknown>;
    if (data.error !== undefined || event.event === 'error') throw ApiRequestError.fromBody(null, data, event.data);
    yield data;
  }
}
