import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blobFiles, errorOf, multipart, raw, startHostile } from './harness.js';

const key = 'sk-hostile-0123456789';

test('without API keys a DNS-rebinding Host is refused before routing; local names and IP literals pass', async (t) => {
  const { port } = await startHostile(t, { allowedHosts: ['atelier.lan'] });
  for (const host of [
    'evil.example',
    `evil.example:${port}`,
    'localhost.evil.example',
    '127.0.0.1.nip.io',
    'bad host',
    '',
  ]) {
    const response = await raw(port, 'GET', '/v1/models', { host });
    assert.equal(response.status, 403, host);
    assert.deepEqual(
      [errorOf(response.body).type, errorOf(response.body).code],
      ['invalid_request_error', 'host_not_allowed'],
    );
  }
  const studio = await raw(port, 'GET', '/health', { host: 'evil.example' });
  assert.equal(studio.status, 403, 'every route, not only /v1');
  for (const host of [
    `127.0.0.1:${port}`,
    `localhost:${port}`,
    `LOCALHOST.:${port}`,
    `[::1]:${port}`,
    '192.168.1.20:8080',
    `atelier.lan:${port}`,
  ]) {
    assert.equal((await raw(port, 'GET', '/v1/models', { host })).status, 200, host);
  }
});

test('with API keys the Host is not checked (a key is what guards the server)', async (t) => {
  const { port } = await startHostile(t, { apiKeys: [key] });
  assert.equal(
    (await raw(port, 'GET', '/v1/models', { host: 'atelier.example.com', authorization: `Bearer ${key}` })).status,
    200,
  );
  assert.equal((await raw(port, 'GET', '/v1/models', { host: 'atelier.example.com' })).status, 401);
});

test('a cross-site upload is refused and stores nothing; same-origin, allowed origins and SDKs pass', async (t) => {
  const { port, home } = await startHostile(t, { allowedOrigins: ['https://app.example'] });
  const form = multipart([
    { field: 'purpose', value: 'fine-tune' },
    { file: 'p0.png', bytes: Buffer.from('photo') },
  ]);
  const post = (headers: Record<string, string>) =>
    raw(port, 'POST', '/v1/files', { 'content-type': form.type, ...headers }, form.body);
  for (const headers of [
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: `http://localhost:${port + 1}` },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site', origin: `http://other.localhost:${port}` },
    { 'sec-fetch-site': 'cross-site', origin: `http://127.0.0.1:${port}` },
  ] as Record<string, string>[]) {
    const response = await post(headers);
    assert.equal(response.status, 403, JSON.stringify(headers));
    assert.equal(errorOf(response.body).code, 'cross_origin_refused');
  }
  assert.deepEqual(blobFiles(home), [], 'a refused upload leaves no bytes behind');
  const deleteCrossSite = await raw(port, 'DELETE', '/v1/files/file-x', { origin: 'https://evil.example' });
  assert.equal(deleteCrossSite.status, 403);
  for (const headers of [
    {},
    { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
    { origin: 'https://app.example', 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'none' },
  ] as Record<string, string>[]) {
    const response = await post(headers);
    assert.equal(response.status, 200, `${JSON.stringify(headers)}: ${response.body}`);
  }
  // Reads are not state-changing: a cross-site GET is answered (the browser's same-origin policy hides the body).
  assert.equal(
    (await raw(port, 'GET', '/v1/files', { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })).status,
    200,
  );
});

test('cross-site requests are refused even with API keys', async (t) => {
  const { port } = await startHostile(t, { apiKeys: [key] });
  const response = await raw(
    port,
    'POST',
    '/v1/fine_tuning/jobs',
    { authorization: `Bearer ${key}`, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
    '{}',
  );
  assert.equal(response.status, 403);
});
