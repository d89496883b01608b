import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig } from '../../src/server/index.js';
import { openStore } from '../../src/store/index.js';

test('/metrics counts requests per route pattern with latency, jobs by state and process memory, without an API key', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'atelier-metrics-'));
  const store = openStore(home);
  t.after(() => {
    store.close();
    rmSync(home, { recursive: true, force: true });
  });
  const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const, apiKeys: ['sk-metrics-test'] };
  const app = await createServer({ store, registry: new ModelRegistry(store), config }, []);
  t.after(() => app.close());
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  store.jobs.create({ id: 'ftjob-1', kind: 'fine_tuning', model: 'm', hyperparameters: {}, params: {} });
  store.jobs.create({ id: 'ftjob-2', kind: 'fine_tuning', model: 'm', hyperparameters: {}, params: {} });
  store.jobs.update('ftjob-2', { status: 'failed' });

  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${url}/health`)).status, 200);
  assert.equal(
    (await fetch(`${url}/v1/models/one`, { headers: { authorization: 'Bearer sk-metrics-test' } })).status,
    404,
  );
  assert.equal(
    (await fetch(`${url}/v1/models/two`, { headers: { authorization: 'Bearer sk-metrics-test' } })).status,
    404,
  );
  assert.equal((await fetch(`${url}/v1/models`)).status, 401);

  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^atelier_http_requests_total\{method="GET",route="\/health",status_code="200"\} 3$/m);
  // Both model ids land in one series: the pattern, not the URL.
  assert.match(text, /^atelier_http_requests_total\{method="GET",route="\/v1\/models\/\*",status_code="404"\} 2$/m);
  assert.match(text, /^atelier_http_requests_total\{method="GET",route="\/v1\/models",status_code="401"\} 1$/m);
  assert.match(
    text,
    /^atelier_http_request_duration_seconds_count\{method="GET",route="\/health",status_code="200"\} 3$/m,
  );
  assert.match(text, /^atelier_jobs\{kind="fine_tuning",status="queued"\} 1$/m);
  assert.match(text, /^atelier_jobs\{kind="fine_tuning",status="failed"\} 1$/m);
  assert.match(text, /^process_resident_memory_bytes \d+/m);
});
