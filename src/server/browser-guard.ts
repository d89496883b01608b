import { isIP } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PermissionDeniedError } from '../protocol/index.js';
import type { AtelierConfig } from './config-schema.js';

const stateChanging = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const wildcardHosts = new Set(['0.0.0.0', '::', '']);

/** `Host` header → lower-case host name without port or IPv6 brackets (`[::1]:8080` → `::1`); null when malformed. */
export function hostName(header: string): string | null {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::\d{1,5})?$/i.exec(header.trim());
  if (!match) return null;
  return (match[1] ?? match[2]!).toLowerCase().replace(/\.$/, '');
}

/**
 * Whether a `Host` name is one this server answers to. An IP literal is always accepted: DNS rebinding needs a name
 * the attacker's DNS server controls, and a browser at an IP address is at that address.
 */
function hostAccepted(name: string, allowed: ReadonlySet<string>): boolean {
  return allowed.has('*') || allowed.has(name) || isIP(name) !== 0;
}

/** The origin of `Origin` (scheme://host[:port], lower case), or null for `null` and anything unparseable. */
function originOf(header: string): string | null {
  try {
    const url = new URL(header);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin.toLowerCase() : null;
  } catch {
    return null;
  }
}

/** Refuses with OpenAI's 403 body; `code` tells a client which defence fired. */
function refuse(message: string, code: string): never {
  throw new PermissionDeniedError(message, { code });
}

/**
 * Browser-facing defences, needed because with no API key any web page the operator visits can aim requests at
 * 127.0.0.1. (1) DNS rebinding: without API keys, a `Host` that is not 127.0.0.1, localhost, [::1], an IP literal,
 * the configured `host` or one of `allowedHosts` is refused with a 403 before routing. (2) Cross-site requests: a
 * POST/PUT/PATCH/DELETE whose `Sec-Fetch-Site` is `cross-site`/`same-site`, or whose `Origin` is neither the
 * server's own (same host as `Host`) nor one of `allowedOrigins`, is refused — with or without keys, since a
 * multipart form post needs no CORS preflight. Clients that send neither header (curl, SDKs) pass untouched.
 */
export function registerBrowserGuard(app: FastifyInstance, config: AtelierConfig): void {
  const hosts = new Set(['127.0.0.1', 'localhost', '::1', ...config.allowedHosts.map((h) => hostName(h) ?? h)]);
  if (!wildcardHosts.has(config.host)) hosts.add(hostName(config.host) ?? config.host);
  const origins = new Set(config.allowedOrigins.map((o) => originOf(o)).filter((o): o is string => o !== null));
  const checkHost = config.apiKeys.length === 0;
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const host = request.headers.host ?? '';
    if (checkHost) {
      const name = hostName(host);
      if (name === null || !hostAccepted(name, hosts)) {
        refuse(
          `Host '${name ?? 'invalid'}' is not allowed. Add it to allowedHosts (ATELIER_ALLOWED_HOSTS) to serve it.`,
          'host_not_allowed',
        );
      }
    }
    if (!stateChanging.has(request.method)) return;
    const origin = request.headers.origin;
    const site = request.headers['sec-fetch-site'];
    const allowedOrigin = origin !== undefined && origins.has(originOf(origin) ?? '');
    if (origin !== undefined && !allowedOrigin && !isSameOrigin(origin, host)) {
      refuse(
        'Cross-origin requests are not allowed. Add the origin to allowedOrigins (ATELIER_ALLOWED_ORIGINS) to allow it.',
        'cross_origin_refused',
      );
    }
    if ((site === 'cross-site' || site === 'same-site') && !allowedOrigin) {
      refuse(`Cross-site requests (Sec-Fetch-Site: ${site}) are not allowed.`, 'cross_origin_refused');
    }
  });
}

/** Whether `Origin` names the host:port the request was sent to (the studio's own calls). */
function isSameOrigin(origin: string, host: string): boolean {
  const parsed = originOf(origin);
  if (parsed === null || host === '') return false;
  return new URL(parsed).host === new URL(`http://${host}`).host;
}
