/**
 * `GET /metrics` in Prometheus' text format on every node, with prom-client (the maintained Node client; its default
 * collectors give process CPU, memory, heap, event-loop lag and GC without code of ours). atelier adds request counts
 * and latency per route, and jobs by kind and state read from the store at scrape time (in a fleet: the fleet's).
 * Like `/health`, it needs no API key: it holds counts, never content.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/index.js';

/** Registers the collectors and the `/metrics` route on the root app, so every route's requests are counted. */
export function registerMetrics(app: FastifyInstance, store: Store): void {
  // One registry per app (not prom-client's global), so several servers in one process never share counters.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status_code'] as const;
  const requests = new Counter({
    name: 'atelier_http_requests_total',
    help: 'HTTP requests answered, by route pattern',
    labelNames,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'atelier_http_request_duration_seconds',
    help: 'Time from request to the end of the response, by route pattern (streams included)',
    labelNames,
    buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120],
    registers: [registry],
  });
  new Gauge({
    name: 'atelier_jobs',
    help: 'Jobs in the store by kind and status',
    labelNames: ['kind', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of store.jobs.countByStatus()) this.set({ kind: row.kind, status: row.status }, row.count);
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern (`/v1/files/:file_id`), never the raw URL: ids would make one series per request.
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
  });
  app.get('/metrics', async (_request, reply) => {
    void reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
