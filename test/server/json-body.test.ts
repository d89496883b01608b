/**
 * The chunked JSON body parser keeps fastify's semantics: bodies split anywhere (inside a multi-byte character too)
 * parse to the same value; empty, malformed, prototype-poisoning, oversized and short bodies get the same 4xx.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig, type RoutePlugin } from '../../src/server/index.js';
import { openStore } from '../../src/store/index.js';

const echo: RoutePlugin = (app) => {
  app.post('/v1/echo', async (req) => ({ body: req.body }));
};

/** Sends `pieces` as separate writes (with pauses, so they arrive as separate chunks) and returns status and body. */
function send(
  port: number,
  pieces: Buffer[],
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const total = pieces.reduce((n, p) => n + p.length, 0);
    const length: Record<string, string> = headers['transfer-encoding'] ? {} : { 'content-length': String(total) };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/echo',
        headers: { 'content-type': 'application/json', ...length, ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    void (async () => {
      for (const piece of pieces) {
        req.write(piece);
        await new Promise((r) => setTimeout(r, 5));
      }
      req.end();
    })();
  });
}

test("JSON bodies decoded chunk by chunk keep fastify's parsing and errors", async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'atelier-json-body-'));
  const store = openStore(home);
  const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const, bodyLimit: 4096 };
  const app = await createServer({ store, registry: new ModelRegistry(store), config }, [echo]);
  const port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
  t.after(async () => {
    await app.close();
    store.close();
    rmSync(home, { recursive: true, force: true });
  });

  const value = { text: 'naïve 日本 😀', n: [1, 2.5, null, true] };
  const bytes = Buffer.from(JSON.stringify(value));
  // Split inside the 4-byte emoji and inside the 3-byte kanji.
  const emoji = bytes.indexOf(Buffer.from('😀'));
  const kanji = bytes.indexOf(Buffer.from('日'));
  const split = [bytes.subarray(0, kanji + 1), bytes.subarray(kanji + 1, emoji + 2), bytes.subarray(emoji + 2)];
  const ok = await send(port, split);
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(JSON.parse(ok.body), { body: value });

  const codes = async (pieces: Buffer[], headers?: Record<string, string>): Promise<[number, string]> => {
    const answer = await send(port, pieces, headers);
    return [answer.status, (JSON.parse(answer.body) as { error: { type: string } }).error.type];
  };
  assert.deepEqual(await codes([]), [400, 'invalid_request_error']);
  assert.deepEqual(await codes([Buffer.from('{"a": ')]), [400, 'invalid_request_error']);
  assert.deepEqual(await codes([Buffer.from('{"__proto__": {"x": 1}}')]), [400, 'invalid_request_error']);
  assert.deepEqual(await codes([Buffer.from('{"constructor": {"prototype": {"x": 1}}}')]), [
    400,
    'invalid_request_error',
  ]);
  const big = Buffer.from(JSON.stringify({ s: 'x'.repeat(5000) }));
  assert.equal((await codes([big]))[0], 413);
  // No declared length (chunked): refused once the bytes received pass the limit.
  assert.equal((await codes([big.subarray(0, 3000), big.subarray(3000)], { 'transfer-encoding': 'chunked' }))[0], 413);
});
