import type { FastifyInstance } from 'fastify';
import { validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * Last line of defence for response headers: one that Node would refuse (a non-Latin-1 or control character, from a
 * file name say) makes `writeHead` throw after the status line is committed, leaving the client with a 500 and a
 * connection that never closes. Such a header is dropped and logged as the bug it is; headers built from user data
 * must be encoded where they are made (see `attachmentDisposition`).
 */
export function registerReplyHeaderCheck(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      try {
        validateHeaderName(name);
        for (const item of [value ?? ''].flat()) validateHeaderValue(name, String(item));
      } catch (error) {
        request.log.error({ err: error, header: name }, 'dropped a response header Node would refuse');
        void reply.removeHeader(name);
      }
    }
    return payload;
  });
}
