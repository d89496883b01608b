import type { RoutePlugin } from '../create-server.js';

/** `GET /health`: liveness plus a count of served models; never needs an API key. */
export const healthRoutes: RoutePlugin = (app, deps) => {
  const started = Date.now();
  app.get('/health', async () => ({
    status: 'ok',
    version: deps.version,
    models: deps.models.list().length,
    uptime_s: Math.round((Date.now() - started) / 1000),
  }));
};
