/**
 * The one way atelier fetches anything from the network. Every hop is checked against an `AddressPolicy` on the
 * address the socket actually connects to: IP literals before connecting, host names inside the socket's DNS
 * `lookup` hook, which hands the checked addresses straight to `connect` (no second resolution an attacker's DNS
 * could answer differently). Redirects are followed by hand, each re-checked, at most `maxRedirects`; only http and
 * https; the body is capped by counting the bytes really received; the whole exchange and each silence are timed.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { normalizeHost, type AddressPolicy } from './address-policy.js';

/** Why an outbound fetch failed. Callers facing untrusted clients must not tell these apart in what they answer. */
export type OutboundFailure = 'url' | 'address' | 'redirect' | 'too-large' | 'timeout' | 'network';

/** An outbound fetch failed; `reason` classifies it, `code` carries the socket error code (ECONNREFUSED) if any. */
export class OutboundError extends Error {
  constructor(
    readonly reason: OutboundFailure,
    message: string,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundError';
  }
}

/** Options of `outboundFetch` (always a GET). */
export interface OutboundOptions {
  /** Addresses the fetch may connect to, checked at every hop. */
  policy: AddressPolicy;
  /** Most body bytes accepted (after any transfer coding), counted as they stream; `Infinity` for none. */
  maxBytes: number;
  /** Limit on the whole exchange, redirects and body included, in milliseconds; 0 = none. */
  timeoutMs: number;
  /** Limit on socket silence (connect, headers, between body chunks), in milliseconds. Default 30 000. */
  idleTimeoutMs?: number;
  /** Redirects followed, each re-checked. Default 3. */
  maxRedirects?: number;
  /** Request headers. `authorization` and `cookie` are sent only to the first URL's origin. */
  headers?: Record<string, string>;
  /** Aborts the fetch (the body too). */
  signal?: AbortSignal;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);
const nullBodyStatuses = new Set([204, 205, 304]);
const originOnlyHeaders = new Set(['authorization', 'cookie']);

/** Parses and vets one hop's URL: http(s) only, no credentials, an IP literal host checked here and now. */
function checkUrl(raw: string, base: URL | undefined, policy: AddressPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch (error) {
    throw new OutboundError('url', 'not a valid URL', undefined, { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OutboundError('url', `scheme ${url.protocol} is not fetched`);
  if (url.username || url.password) throw new OutboundError('url', 'URLs with credentials are not fetched');
  const host = normalizeHost(url.hostname);
  // The WHATWG parser has already turned 0x7f000001, 2130706433, 0177.0.0.1 and 127.1 into 127.0.0.1.
  if (isIP(host) !== 0 && !policy.allowsAddress(host, host))
    throw new OutboundError('address', `address ${host} is not allowed`);
  return url;
}

/** A DNS lookup that refuses a host when any address it resolves to is refused, and returns only checked addresses. */
function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, done) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return done(error, []);
      const denied = addresses.find((a) => !policy.allowsAddress(a.address, hostname));
      if (denied || addresses.length === 0) {
        const refusal = new OutboundError(
          'address',
          `${hostname} resolves to ${denied?.address ?? 'nothing'}, which is not allowed`,
        );
        return done(refusal as NodeJS.ErrnoException, []);
      }
      if (options.all) return done(null, addresses);
      const first = addresses[0] as LookupAddress;
      return done(null, first.address, first.family);
    });
  };
}

function toOutboundError(error: unknown, signal: AbortSignal): OutboundError {
  if (error instanceof OutboundError) return error;
  if (signal.aborted && signal.reason instanceof OutboundError) return signal.reason;
  if (signal.aborted) return new OutboundError('timeout', 'aborted', undefined, { cause: error });
  const code = (error as NodeJS.ErrnoException).code;
  return new OutboundError('network', (error as Error).message, code, { cause: error });
}

/** One GET to `url`, resolving with the response head once it arrives. */
function requestOnce(
  url: URL,
  headers: Record<string, string>,
  options: OutboundOptions,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)({
      host: normalizeHost(url.hostname),
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      // Identity only: the byte cap then bounds what is held, with no decompression in between.
      headers: { ...headers, 'accept-encoding': 'identity' },
      lookup: guardedLookup(options.policy),
      // A fresh connection per hop: a pooled socket would skip the lookup hook for a later URL.
      agent: false,
      signal,
    });
    const idle = options.idleTimeoutMs ?? 30_000;
    request.setTimeout(idle, () => request.destroy(new OutboundError('timeout', `no answer for ${idle} ms`)));
    request.once('response', resolve);
    request.once('error', (error) => reject(toOutboundError(error, signal)));
    request.end();
  });
}

/** Chunks held before the socket is paused, and the level at which it resumes. */
const highWater = 16;
const lowWater = 4;

/**
 * The response body as a web stream that errors with `too-large` past `maxBytes` and calls `finish` when done. Bytes
 * that arrived before a dropped connection are delivered before its error (a resuming download keeps them).
 */
function cappedBody(
  response: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal,
  finish: () => void,
): ReadableStream<Uint8Array> {
  const queue: Buffer[] = [];
  let received = 0;
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  response.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) {
      failure ??= new OutboundError('too-large', `body is larger than ${maxBytes} bytes`);
      queue.length = 0;
      response.destroy();
    } else {
      queue.push(chunk);
      if (queue.length >= highWater) response.pause();
    }
    notify();
  });
  response.on('end', () => {
    ended = true;
    notify();
  });
  response.on('error', (error) => {
    failure ??= error;
    notify();
  });
  response.on('close', () => {
    if (!response.complete)
      failure ??= new OutboundError('network', 'connection closed before the body ended', 'ECONNRESET');
    ended = true;
    notify();
  });
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (queue.length === 0 && !ended && failure === undefined)
        await new Promise<void>((resolve) => (wake = resolve));
      const chunk = failure instanceof OutboundError && failure.reason === 'too-large' ? undefined : queue.shift();
      if (chunk) {
        if (queue.length <= lowWater) response.resume();
        return controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      }
      finish();
      if (failure === undefined) return controller.close();
      return controller.error(toOutboundError(failure, signal));
    },
    cancel() {
      finish();
      response.destroy();
    },
  });
}

function responseHeaders(response: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) {
    try {
      headers.append(response.rawHeaders[i] as string, response.rawHeaders[i + 1] as string);
    } catch {
      // A header the Fetch API refuses to represent is dropped, as a browser would.
    }
  }
  return headers;
}

/** Headers for a hop: credentials only while still on the first URL's origin. */
function hopHeaders(all: Record<string, string>, first: URL, hop: URL): Record<string, string> {
  if (hop.origin === first.origin) return all;
  return Object.fromEntries(Object.entries(all).filter(([name]) => !originOnlyHeaders.has(name.toLowerCase())));
}

/**
 * GETs `url` under `options`, following redirects by hand, and returns a standard `Response` whose body enforces the
 * byte cap and the time limit while it is read. Rejects with `OutboundError` for a refused URL or address, too many
 * redirects, a declared or streamed body over the cap, a timeout, or a network failure. Non-2xx answers resolve.
 */
export async function outboundFetch(url: string, options: OutboundOptions): Promise<Response> {
  const controller = new AbortController();
  const timer =
    options.timeoutMs > 0
      ? setTimeout(
          () => controller.abort(new OutboundError('timeout', `took longer than ${options.timeoutMs} ms`)),
          options.timeoutMs,
        )
      : undefined;
  const signal = options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal;
  const finish = (): void => clearTimeout(timer);
  try {
    const first = checkUrl(url, undefined, options.policy);
    let hop = first;
    for (let redirects = 0; ; redirects += 1) {
      const response = await requestOnce(hop, hopHeaders(options.headers ?? {}, first, hop), options, signal);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (redirectStatuses.has(status) && location) {
        response.destroy();
        if (redirects >= (options.maxRedirects ?? 3))
          throw new OutboundError('redirect', `more than ${options.maxRedirects ?? 3} redirects`);
        hop = checkUrl(location, hop, options.policy);
        continue;
      }
      if (Number(response.headers['content-length'] ?? 0) > options.maxBytes) {
        response.destroy();
        throw new OutboundError('too-large', `declared body is larger than ${options.maxBytes} bytes`);
      }
      if (status < 200 || status > 599) {
        response.destroy();
        throw new OutboundError('network', `unexpected status ${status}`);
      }
      const init = { status, statusText: response.statusMessage ?? '', headers: responseHeaders(response) };
      if (nullBodyStatuses.has(status)) {
        response.destroy();
        finish();
        return new Response(null, init);
      }
      return new Response(cappedBody(response, options.maxBytes, signal, finish), init);
    }
  } catch (error) {
    finish();
    throw toOutboundError(error, signal);
  }
}
