/**
 * SSRF through `image_url`, against a real server with the official `openai` client and raw fetch. A loopback
 * "victim" counts every request it gets and must see none: not for any spelling of a local address, not through a
 * redirect from an allow-listed host (127.0.0.2, the operator's "image store"), not through a text-only model. Every
 * failure of a remote image answers the same OpenAI-shaped body, so the error cannot tell a closed port from a 404
 * from a service that is not an image server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import sharp from 'sharp';
import { MODEL as TEXT, startChatHarness, type ChatHarness } from '../e2e/chat-harness.js';
import { ModelRegistry, pull } from '../../src/models/index.js';
import { openStore } from '../../src/store/index.js';
import { OutboundError } from '../../src/util/index.js';

const VLM = 'atelier-demo-vlm';
const STORE = '127.0.0.2';

async function listen(handler: RequestListener, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port on `host` that nothing listens on (taken, then released). */
async function closedPort(host: string): Promise<number> {
  const { server, port } = await listen(() => undefined, host);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("image URLs cannot reach the server's own network", () => {
  let h: ChatHarness;
  let off: ChatHarness;
  const servers: Server[] = [];
  let victimHits = 0;
  let storeHits = 0;
  let v4 = 0;
  let v6 = 0;
  let store = '';
  let closed = '';

  before(async () => {
    const victim: RequestListener = (_req, res) => {
      victimHits += 1;
      res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(0));
    };
    const red = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const victim4 = await listen(victim, '127.0.0.1');
    const victim6 = await listen(victim, '::1');
    v4 = victim4.port;
    v6 = victim6.port;
    const storeServer = await listen((req, res) => {
      storeHits += 1;
      const to = (location: string) => res.writeHead(302, { location }).end();
      if (req.url === '/ok.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(red);
      if (req.url === '/to-victim') return to(`http://127.0.0.1:${v4}/latest/meta-data`);
      if (req.url === '/to-victim-v6') return to(`http://[::1]:${v6}/`);
      if (req.url === '/to-localhost') return to(`http://localhost:${v4}/`);
      if (req.url === '/to-hex') return to(`http://0x7f000001:${v4}/`);
      if (req.url === '/text') return res.writeHead(200, { 'content-type': 'text/plain' }).end('SSH-2.0-OpenSSH_9.6');
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    }, STORE);
    servers.push(victim4.server, victim6.server, storeServer.server);
    store = `http://${STORE}:${storeServer.port}`;
    closed = `http://${STORE}:${await closedPort(STORE)}/a.png`;
    h = await startChatHarness({ models: [VLM, TEXT], contextSize: 512, config: { imageFetchAllow: [STORE] } });
    off = await startChatHarness({ models: [VLM], contextSize: 512, config: { imageFetch: 'off' } });
  });
  after(async () => {
    await h?.close();
    await off?.close();
    for (const server of servers) server.close();
  });

  const body = (model: string, url: string) => ({
    model,
    max_completion_tokens: 2,
    seed: 1,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url } },
        ],
      },
    ],
  });
  const post = async (
    harness: ChatHarness,
    model: string,
    url: string,
  ): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${harness.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body(model, url)),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };

  const spellings = (): string[] => [
    `http://127.0.0.1:${v4}/`,
    `http://localhost:${v4}/`,
    `http://localhost.:${v4}/`,
    `http://LOCALHOST:${v4}/`,
    `http://0x7f000001:${v4}/`,
    `http://2130706433:${v4}/`,
    `http://0177.0.0.1:${v4}/`,
    `http://127.1:${v4}/`,
    `http://0x7f.1:${v4}/`,
    `http://[::ffff:127.0.0.1]:${v4}/`,
    `http://[::ffff:7f00:1]:${v4}/`,
    `http://[::1]:${v6}/`,
    `http://[0:0:0:0:0:0:0:1]:${v6}/`,
    `http://0.0.0.0:${v4}/`,
    `http://0:${v4}/`,
    `http://[::]:${v6}/`,
    `https://127.0.0.1:${v4}/`,
    `http://${STORE}:1@127.0.0.1:${v4}/`,
    `${store}/to-victim`,
    `${store}/to-victim-v6`,
    `${store}/to-localhost`,
    `${store}/to-hex`,
    `file:///etc/passwd`,
    `ftp://127.0.0.1:${v4}/`,
    `gopher://127.0.0.1:${v4}/`,
  ];

  it('refuses every spelling of a local address and every redirect into one: the victim sees nothing', async () => {
    for (const url of spellings()) {
      const err = await h.client.chat.completions.create(body(VLM, url) as never).catch((e: unknown) => e);
      assert.ok(err instanceof OpenAI.BadRequestError, `${url}: ${String(err)}`);
      assert.equal(err.code, 'invalid_image_url', url);
      assert.equal(err.param, 'messages[0].content[1].image_url.url', url);
    }
    assert.equal(victimHits, 0);
  });

  it('answers one identical OpenAI-shaped body for a refused address, closed port, 404, non-image and redirect', async () => {
    const cases = [
      `http://127.0.0.1:${v4}/`,
      closed,
      `${store}/missing.png`,
      `${store}/text`,
      `${store}/to-victim`,
      `http://10.255.255.1:${v4}/`,
    ];
    const answers = [];
    for (const url of cases) answers.push(await post(h, VLM, url));
    const first = answers[0];
    assert.equal(first?.status, 400);
    assert.deepEqual(Object.keys(first?.json ?? {}), ['error']);
    const error = first?.json.error as Record<string, unknown>;
    assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(error.type, 'invalid_request_error');
    assert.doesNotMatch(String(error.message), /127\.0\.0|10\.255|404|ECONN|refused|fetch failed|decod|HTTP \d/i);
    for (const [i, answer] of answers.entries()) assert.deepEqual(answer, first, cases[i]);
    assert.equal(victimHits, 0);
  });

  it('a text-only model answers 400 for an image part without fetching it', async () => {
    const before = storeHits;
    for (const url of [`${store}/ok.png`, `http://127.0.0.1:${v4}/`]) {
      const answer = await post(h, TEXT, url);
      assert.equal(answer.status, 400);
      assert.match(String((answer.json.error as { message: string }).message), /does not accept image input/);
    }
    assert.equal(storeHits, before);
    assert.equal(victimHits, 0);
  });

  it('an allow-listed host is fetched and seen by the model', async () => {
    const before = storeHits;
    const answer = (await h.client.chat.completions.create(
      body(VLM, `${store}/ok.png`) as never,
    )) as OpenAI.Chat.Completions.ChatCompletion;
    assert.equal(answer.choices.length, 1);
    assert.ok((answer.usage?.prompt_tokens ?? 0) > 16, 'the image added its tokens');
    assert.equal(storeHits, before + 1);
  });

  it('with imageFetch off no URL is fetched, data URLs still work, and the server keeps answering', async () => {
    const before = storeHits;
    const answer = await post(off, VLM, `${store}/ok.png`);
    assert.equal(answer.status, 400);
    assert.match(String((answer.json.error as { message: string }).message), /does not fetch image URLs/);
    assert.equal(storeHits, before);
    const red = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    const inline = (await off.client.chat.completions.create(
      body(VLM, `data:image/png;base64,${red.toString('base64')}`) as never,
    )) as OpenAI.Chat.Completions.ChatCompletion;
    assert.equal(inline.choices.length, 1);
    assert.equal((await fetch(`${h.baseURL.replace(/\/v1$/, '')}/health`)).status, 200);
  });
});

describe('the model hub client follows the same policy', () => {
  it('a hub that redirects into another loopback host is refused, and that host sees nothing', async (t) => {
    let victimHits = 0;
    const victim = await listen((_req, res) => {
      victimHits += 1;
      res.end('{}');
    }, '127.0.0.3');
    // The configured endpoint itself is trusted (a mirror may live on the operator's network); where it points is not.
    const hub = await listen(
      (_req, res) => res.writeHead(302, { location: `http://127.0.0.3:${victim.port}/api` }).end(),
      '127.0.0.1',
    );
    const home = mkdtempSync(join(tmpdir(), 'atelier-hostile-hub-'));
    const store = openStore(home);
    t.after(() => {
      store.close();
      victim.server.close();
      hub.server.close();
      rmSync(home, { recursive: true, force: true });
    });
    const error = await pull(new ModelRegistry(store), {
      spec: 'org/x',
      hub: { endpoint: `http://127.0.0.1:${hub.port}` },
    }).catch((e: unknown) => e);
    assert.ok(error instanceof OutboundError, String(error));
    assert.equal(error.reason, 'address');
    assert.equal(victimHits, 0);
  });
});
