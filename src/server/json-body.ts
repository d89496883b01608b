/**
 * JSON request bodies decoded as they arrive. fastify's own parser keeps every chunk, then concatenates, decodes and
 * parses the whole body in one callback: for a 10 MB prompt that is three full passes in one piece of event-loop
 * time. Here each chunk is decoded to text in its own I/O callback, so only the parse itself (fastify's default JSON
 * parser, secure-json-parse with its prototype-poisoning checks and error codes) is paid at once, and for a large
 * body in an event-loop turn of its own, so that several large bodies never parse back to back.
 */
import { StringDecoder } from 'node:string_decoder';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { nextLoopTurn } from '../util/index.js';

type Done = (error: Error | null, body?: unknown) => void;

/** Bodies above this many bytes are parsed in an event-loop turn of their own (`nextLoopTurn`). */
const LARGE_BODY = 256 * 1024;

/** Replaces the `application/json` parser of `app` (call before routes are added). */
export function useChunkedJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error') as (
    request: FastifyRequest,
    body: string,
    done: Done,
  ) => void;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    (request: FastifyRequest, payload: NodeJS.ReadableStream, done: Done) => {
      const limit = request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? Infinity;
      const declared = Number(request.headers['content-length']);
      if (declared > limit) {
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      const decoder = new StringDecoder('utf8');
      const pieces: string[] = [];
      let received = 0;
      const finish = (error: Error | null): void => {
        payload.removeListener('data', onData);
        payload.removeListener('end', onEnd);
        payload.removeListener('error', onEnd);
        if (error) done(error);
      };
      const onData = (chunk: Buffer | string): void => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        received += bytes.length;
        if (received > limit) {
          finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
          return;
        }
        pieces.push(decoder.write(bytes));
      };
      const onEnd = (error?: Error & { statusCode?: number }): void => {
        if (error) {
          if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
          finish(error);
          return;
        }
        finish(null);
        if (!Number.isNaN(declared) && received !== declared) {
          done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
          return;
        }
        pieces.push(decoder.end());
        if (received <= LARGE_BODY) parse(request, pieces.join(''), done);
        else void nextLoopTurn().then(() => parse(request, pieces.join(''), done));
      };
      payload.on('data', onData);
      payload.on('end', onEnd);
      payload.on('error', onEnd);
      payload.resume();
    },
  );
}
