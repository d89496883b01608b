import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { ModelRegistry } from '../models/index.js';
import type { Store } from '../store/index.js';
import { registerAuth } from './auth.js';
import { registerBrowserGuard } from './browser-guard.js';
import type { AtelierConfig } from './config-schema.js';
import { registerErrorHandling, toHttpError, writeClientError } from './error-handler.js';
import { registerMetrics } from './metrics.js';
import { publicBaseUrl } from './public-url.js';
import { registerReplyHeaderCheck } from './reply-headers.js';
import { PathScrubber } from './scrub-paths.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/models.js';
import { modelPullRoutes } from './routes/model-pulls.js';
import { ServedModels } from './served-models.js';
import { useChunkedJsonBodies } from './json-body.js';

/** What every route plugin may use. Plugins needing more (an engine pool, a job runner) close over it. */
export interface ServerDeps {
  store: Store;
  registry: ModelRegistry;
  config: AtelierConfig;
  /** The models this server exposes (config.models, or all installed). */
  models: ServedModels;
  /** atelier's version, reported by /health. */
  version: string;
  /** Cleans server paths out of text sent to clients (error messages, job errors and events). */
  scrubber: PathScrubber;
  /** Base of URLs in responses (`http://127.0.0.1:8080`), from configuration only; valid once listening. */
  publicUrl: () => string;
}

/**
 * A set of routes from one resource (chat, images, files, fine_tuning). Registered in its own encapsulated fastify
 * context after auth and error handling, so it inherits both. Example: `(app, deps) => { app.post('/v1/x', …) }`.
 */
export type RoutePlugin = (app: FastifyInstance, deps: ServerDeps) => void | Promise<void>;

/** What createServer needs; `models` and `version` are derived when omitted. */
export type CreateServerDeps = Omit<ServerDeps, 'models' | 'version' | 'scrubber' | 'publicUrl'> &
  Partial<Pick<ServerDeps, 'models' | 'version'>>;

/**
 * Builds the HTTP app: structured request logs (pino, one JSON line per request with its id), `x-request-id` on
 * every response, the browser guard (Host allow-list, cross-site refusal), bearer auth on `/v1/*` when keys are
 * configured, OpenAI-shaped errors for everything (parser-level 400/408/431 included), `/health`, `/v1/models`,
 * `/v1/pulls`, then `plugins` in order. Call `listen` on the result; `close` drains in-flight requests.
 */
export async function createServer(
  deps: CreateServerDeps,
  plugins: readonly RoutePlugin[] = [],
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: deps.config.logLevel },
    bodyLimit: deps.config.bodyLimit,
    // A client's x-request-id is kept for tracing only when it is short and plain, so logs cannot be flooded or forged.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given)
        ? given
        : `req_${randomBytes(12).toString('hex')}`;
    },
    // Keep-alive sockets with no request in flight are closed on shutdown instead of holding it up.
    forceCloseConnections: 'idle',
    // Receiving one request (headers and body, a 512 MiB upload included) may take at most 10 minutes, so a client
    // trickling bytes cannot hold a connection for ever (fastify's default, 0, disables Node's limit). Answers are not
    // timed: a long generation streams for as long as it needs.
    requestTimeout: 10 * 60 * 1000,
    routerOptions: { ignoreTrailingSlash: true },
    // Errors raised before routing (a malformed percent-encoding in the URL) bypass setErrorHandler; shape them too.
    frameworkErrors: (error, _request, reply) => {
      const apiError = toHttpError(error);
      void (reply as FastifyReply).code(apiError.status).send(apiError.toBody());
    },
    clientErrorHandler: writeClientError,
  });
  useChunkedJsonBodies(app);
  const full: ServerDeps = {
    ...deps,
    models: deps.models ?? new ServedModels(deps.registry, deps.config.models),
    version: deps.version ?? '0.0.0',
    scrubber: new PathScrubber([deps.config.home, deps.store.layout.root]),
    publicUrl: () => publicBaseUrl(app, deps.config),
  };
  app.addHook('onRequest', async (request, reply) => {
    // nosniff: a downloaded upload or a stored image is never run as a script or page, whatever bytes it holds.
    void reply.header('x-request-id', request.id).header('x-content-type-options', 'nosniff');
  });
  registerReplyHeaderCheck(app);
  registerErrorHandling(app, full.scrubber);
  registerBrowserGuard(app, deps.config);
  registerAuth(app, deps.config.apiKeys);
  registerMetrics(app, deps.store);
  for (const plugin of [healthRoutes, modelRoutes, modelPullRoutes, ...plugins]) {
    await app.register(async (scope) => plugin(scope, full));
  }
  return app;
}
