import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthenticationError } from '../protocol/index.js';

const digest = (key: string): Buffer => createHash('sha256').update(key).digest();

/** Shows enough of a key to recognise it in an error, never enough to use it (OpenAI masks the same way). */
export function maskKey(key: string): string {
  return key.length <= 10 ? '*'.repeat(key.length) : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

/**
 * Requires `Authorization: Bearer <key>` with one of `keys` on every `/v1/*` route; `/health` and the studio's static
 * files stay open. No keys configured means no check. Keys are compared through fixed-length digests with
 * timingSafeEqual so response time does not reveal how much of a key matched.
 */
export function registerAuth(app: FastifyInstance, keys: readonly string[]): void {
  if (keys.length === 0) return;
  const accepted = keys.map(digest);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    // Both the raw path and the matched route are checked, so no spelling of a /v1 route slips past.
    const path = request.url.split('?')[0]!;
    const route = request.routeOptions.url ?? '';
    if (!/^\/v1(\/|$)/.test(path) && !route.startsWith('/v1')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!match) {
      throw new AuthenticationError(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        { code: null },
      );
    }
    const given = digest(match[1]!.trim());
    // Compare against every key (no early exit) so timing does not tell which key was close.
    const ok = accepted.reduce((found, key) => timingSafeEqual(key, given) || found, false);
    if (!ok) throw new AuthenticationError(`Incorrect API key provided: ${maskKey(match[1]!.trim())}.`);
  });
}
