import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { ModelRegistry } from '../../src/models/index.js';
import { RateLimitError } from '../../src/protocol/index.js';
import {
  createServer,
  defaultConfig,
  openSse,
  PathScrubber,
  type AtelierConfig,
  type RoutePlugin,
} from '../../src/server/index.js';
import { openStore } from '../../src/store/index.js';

const key = 'sk-test-0123456789abcdef';

const testRoutes: RoutePlugin = (app) => {
  app.post(
    '/v1/echo',
    {
      schema: {
        body: {
          type: 'object',
          required: ['model'],
          properties: { model: { type: 'string' }, n: { type: 'integer' } },
        },
      },
    },
    async (request) => request.body,
  );
  app.get('/v1/busy', async () => {
    throw new RateLimitError('queue full', 2.5);
  });
  app.get('/v1/bug', async () => {
    throw new Error('secret internal detail');
  });
  app.get('/v1/stream', async (_request, reply) => {
    const sse = openSse(reply, new PathScrubber());
    for (const n of [1, 2, 3]) await sse.send({ n });
    assert.throws(() => sse.send({}, { event: 'x\ndata: forged' }), /must not contain CR or LF/);
    await sse.done();
  });
};

async function start(
  t: { after: (fn: () => unknown) => void },
  overrides: Partial<AtelierConfig> = {},
): Promise<{ url: string; registry: ModelRegistry }> {
  const home = mkdtempSync(join(tmpdir(), 'atelier-server-'));
  const store = openStore(home);
  const registry = new ModelRegistry(store);
  const gguf = join(home, 'tiny.gguf');
  writeFileSync(gguf, Buffer.from('GGUF\x03\0\0\0tiny'));
  registry.addLocal(gguf, { name: 'org/tiny' });
  registry.addLocal(gguf, { name: 'other' });
  const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const, ...overrides };
  const app = await createServer({ store, registry, config, version: '9.9.9' }, [testRoutes]);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    store.close();
    rmSync(home, { recursive: true, force: true });
  });
  return { url: address, registry };
}

const client = (url: string, apiKey = key): OpenAI => new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0 });

test('lists and retrieves models in OpenAI format through the official client', async (t) => {
  const { url } = await start(t);
  const page = await client(url).models.list();
  assert.deepEqual(
    page.data.map((m) => [m.id, m.object, m.owned_by]),
    [
      ['org/tiny', 'model', 'user'],
      ['other', 'model', 'user'],
    ],
  );
  assert.equal(typeof page.data[0]!.created, 'number');
  const one = await client(url).models.retrieve('org/tiny');
  assert.equal(one.id, 'org/tiny');
  const raw = await fetch(`${url}/v1/models/org/tiny`);
  assert.equal(((await raw.json()) as { id: string }).id, 'org/tiny');
  assert.match(raw.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{24}$/);
  const traced = await fetch(`${url}/health`, { headers: { 'x-request-id': 'trace-42' } });
  assert.equal(traced.headers.get('x-request-id'), 'trace-42');
  const forged = await fetch(`${url}/health`, { headers: { 'x-request-id': 'x'.repeat(500) } });
  assert.match(forged.headers.get('x-request-id') ?? '', /^req_/);
});

test('unknown model is a 404 model_not_found; configured models restrict the list', async (t) => {
  const { url } = await start(t, { models: ['other'] });
  const error = await client(url)
    .models.retrieve('nope')
    .catch((e: unknown) => e);
  assert.ok(error instanceof OpenAI.NotFoundError);
  assert.equal(error.code, 'model_not_found');
  assert.equal(error.param, 'model');
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.message, "404 The model 'nope' does not exist");
  assert.deepEqual(
    (await client(url).models.list()).data.map((m) => m.id),
    ['other'],
  );
  await assert.rejects(client(url).models.retrieve('org/tiny'), OpenAI.NotFoundError);
});

test('API keys: wrong or missing key is a 401 in OpenAI shape, /health stays open', async (t) => {
  const { url } = await start(t, { apiKeys: [key] });
  assert.equal((await client(url).models.list()).data.length, 2);
  const wrong = await client(url, 'sk-wrong-key-123456')
    .models.list()
    .catch((e: unknown) => e);
  assert.ok(wrong instanceof OpenAI.AuthenticationError);
  assert.equal(wrong.code, 'invalid_api_key');
  assert.match(wrong.message, /Incorrect API key provided: sk-\*+3456/);
  const missing = await fetch(`${url}/v1/models`);
  assert.equal(missing.status, 401);
  assert.deepEqual(Object.keys(((await missing.json()) as { error: object }).error), [
    'message',
    'type',
    'param',
    'code',
  ]);
  const health = await fetch(`${url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(
    { ...((await health.json()) as object), uptime_s: 0 },
    { status: 'ok', version: '9.9.9', models: 2, uptime_s: 0 },
  );
});

test('every error has the OpenAI body: unknown route, bad JSON, schema errors, 429, 500', async (t) => {
  const { url } = await start(t);
  const body = async (response: Response): Promise<unknown> => ({
    status: response.status,
    ...((await response.json()) as object),
  });
  assert.deepEqual(await body(await fetch(`${url}/v1/nothing?x=1`)), {
    status: 404,
    error: { message: 'Invalid URL (GET /v1/nothing)', type: 'invalid_request_error', param: null, code: null },
  });
  const badJson = (await body(
    await fetch(`${url}/v1/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    }),
  )) as { status: number; error: { type: string; message: string } };
  assert.equal(badJson.status, 400);
  assert.equal(badJson.error.type, 'invalid_request_error');
  assert.match(badJson.error.message, /JSON/);
  const invalid = (await body(
    await fetch(`${url}/v1/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' }),
  )) as { status: number; error: { param: string } };
  assert.equal(invalid.status, 400);
  assert.equal(invalid.error.param, 'model');
  const badUrl = (await body(await fetch(`${url}/v1/models/%E0%A4%A`))) as { status: number; error: { code: string } };
  assert.equal(badUrl.status, 400);
  assert.equal(badUrl.error.code, 'FST_ERR_BAD_URL');
  const percent = (await body(await fetch(`${url}/v1/models/%25zz`))) as { status: number; error: { message: string } };
  assert.deepEqual([percent.status, percent.error.message], [404, "The model '%zz' does not exist"]);
  const busy = await client(url)
    .get('/busy')
    .catch((e: unknown) => e);
  assert.ok(busy instanceof OpenAI.RateLimitError);
  assert.equal(busy.headers.get('retry-after'), '3');
  const bug = await client(url)
    .get('/bug')
    .catch((e: unknown) => e);
  assert.ok(bug instanceof OpenAI.InternalServerError);
  assert.equal(bug.type, 'server_error');
  assert.doesNotMatch(bug.message, /secret/);
});

test('an oversized body is a 413 in OpenAI shape', async (t) => {
  const { url } = await start(t, { bodyLimit: 1024 });
  const response = await fetch(`${url}/v1/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'x'.repeat(2000) }),
  });
  assert.equal(response.status, 413);
  assert.deepEqual(((await response.json()) as { error: object }).error, {
    message: 'Request body is larger than this server accepts (see bodyLimit).',
    type: 'invalid_request_error',
    param: null,
    code: 'payload_too_large',
  });
});

test('SSE helper streams JSON events and the [DONE] terminator', async (t) => {
  const { url } = await start(t);
  const response = await fetch(`${url}/v1/stream`);
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(await response.text(), 'data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\ndata: [DONE]\n\n');
});

test('DELETE /v1/models/{id} removes the model', async (t) => {
  const { url, registry } = await start(t);
  const deleted = await client(url).models.delete('org/tiny');
  assert.deepEqual(deleted, { id: 'org/tiny', object: 'model', deleted: true });
  assert.equal(registry.get('org/tiny'), undefined);
});
