/**
 * The studio's history API over loopback HTTP with the real store: chats, images and forms are kept across a server
 * restart on the same home, need the API key like the rest of /v1, and answer errors in OpenAI's shape.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig } from '../../src/server/index.js';
import { studioRoutes } from '../../src/server/routes/studio.js';
import { openStore } from '../../src/store/index.js';
import { subjectPhoto } from '../personalize/subject-photos.js';

const key = 'sk-studio-history-0123456789';

/** Serves `home` until the returned stop() (which keeps the home). */
async function serve(home: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const store = openStore(home);
  const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const, apiKeys: [key] };
  const app = await createServer({ store, registry: new ModelRegistry(store), config }, [studioRoutes()]);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    stop: async () => {
      await app.close();
      store.close();
    },
  };
}

async function call(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  auth = true,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

test('chats, images and forms survive a restart; the API key is required; errors are OpenAI-shaped', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'atelier-studio-api-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  let server = await serve(home);
  t.after(() => server.stop());

  assert.equal((await call(server.url, 'GET', '/v1/studio/chats', undefined, false)).status, 401);
  const messages = [
    { role: 'user', text: 'hi', images: [] },
    { role: 'assistant', text: 'hello', images: [] },
  ];
  const created = await call(server.url, 'POST', '/v1/studio/chats', {
    title: 'hi',
    model: 'm',
    messages,
    settings: { schema: '' },
  });
  assert.equal(created.status, 200);
  const id = created.json.id as string;
  assert.match(id, /^chat-/);
  const png = Buffer.from(subjectPhoto(0));
  const image = await call(server.url, 'POST', '/v1/studio/images', {
    model: 'sd',
    prompt: 'a ball',
    seed: 42,
    parameters: 'a ball\nSeed: 42',
    settings: { n: 1 },
    b64_png: png.toString('base64'),
  });
  assert.equal(image.status, 200);
  await call(server.url, 'PUT', '/v1/studio/forms/images', { value: { seed: '42' } });

  await server.stop();
  server = await serve(home);
  const chats = await call(server.url, 'GET', '/v1/studio/chats');
  assert.deepEqual(
    (chats.json.data as { id: string; title: string }[]).map((c) => [c.id, c.title]),
    [[id, 'hi']],
  );
  assert.deepEqual((await call(server.url, 'GET', `/v1/studio/chats/${id}`)).json.messages, messages);
  const images = (await call(server.url, 'GET', '/v1/studio/images')).json.data as {
    id: string;
    seed: number;
    parameters: string;
  }[];
  assert.deepEqual(
    images.map((i) => [i.seed, i.parameters]),
    [[42, 'a ball\nSeed: 42']],
  );
  const content = await fetch(`${server.url}/v1/studio/images/${images[0]!.id}/content`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(content.headers.get('content-type'), 'image/png');
  assert.deepEqual(Buffer.from(await content.arrayBuffer()), png);
  assert.deepEqual((await call(server.url, 'GET', '/v1/studio/forms/images')).json.value, { seed: '42' });

  const updated = await call(server.url, 'PUT', `/v1/studio/chats/${id}`, {
    title: 'renamed',
    model: 'm',
    messages: [],
    settings: {},
  });
  assert.equal(updated.json.title, 'renamed');
  assert.deepEqual((await call(server.url, 'DELETE', `/v1/studio/chats/${id}`)).json, {
    id,
    object: 'studio.chat',
    deleted: true,
  });
  const gone = await call(server.url, 'GET', `/v1/studio/chats/${id}`);
  assert.equal(gone.status, 404);
  assert.deepEqual(gone.json, {
    error: { message: `No chat with id '${id}'.`, type: 'invalid_request_error', param: 'id', code: 'chat_not_found' },
  });
  const notPng = await call(server.url, 'POST', '/v1/studio/images', {
    model: 'sd',
    b64_png: Buffer.from('GIF89a').toString('base64'),
  });
  assert.equal(notPng.status, 400);
  assert.equal((notPng.json.error as { param: string }).param, 'b64_png');
  assert.equal((await call(server.url, 'PUT', '/v1/studio/forms/..%2Fx', { value: 1 })).status, 400);
  assert.equal((await call(server.url, 'DELETE', `/v1/studio/images/${images[0]!.id}`)).status, 200);
  assert.deepEqual((await call(server.url, 'GET', '/v1/studio/images')).json.data, []);
});
