import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageGenerator } from '../../src/images/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig, type AtelierConfig } from '../../src/server/index.js';
import { imageRoutes } from '../../src/server/routes/images.js';
import { openStore } from '../../src/store/index.js';
import { WorkerClient } from '../../src/worker/index.js';
import { makeTinySd } from '../images/fixtures.js';
import { raw } from './harness.js';

const key = 'sk-hostile-0123456789';

test('image URLs come from configuration, never from the request Host', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-public-url-'));
  const home = join(dir, 'home');
  const store = openStore(home);
  const registry = new ModelRegistry(store);
  registry.addLocal(makeTinySd(dir), { name: 'tiny-sd' });
  // One worker for both servers: a Python start-up is the expensive part.
  const generator = new ImageGenerator({ worker: new WorkerClient(), outputDir: join(home, 'images') });
  const serve = async (overrides: Partial<AtelierConfig>) => {
    const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const, apiKeys: [key], ...overrides };
    const app = await createServer({ store, registry, config }, [imageRoutes(generator)]);
    return { app, port: Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port) };
  };
  const plain = await serve({});
  const configured = await serve({ publicUrl: 'https://images.example.com/atelier/' });
  t.after(async () => {
    await plain.app.close();
    await configured.app.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const body = JSON.stringify({
    model: 'tiny-sd',
    prompt: 'a dog',
    size: '32x24',
    steps: 1,
    seed: 1,
    response_format: 'url',
  });
  const generate = async (port: number) => {
    const headers = {
      host: 'attacker.example:666',
      'x-forwarded-host': 'attacker.example',
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
    };
    const response = await raw(port, 'POST', '/v1/images/generations', headers, body, 300_000);
    assert.equal(response.status, 200, response.body);
    return (JSON.parse(response.body) as { data: { url: string }[] }).data[0]!.url;
  };
  const url = await generate(plain.port);
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${plain.port}/images/img-[A-Za-z0-9]+-0\\.png$`));
  const image = await fetch(url);
  assert.deepEqual(
    [image.headers.get('content-type'), (await image.arrayBuffer()).byteLength > 0],
    ['image/png', true],
  );
  assert.match(
    await generate(configured.port),
    /^https:\/\/images\.example\.com\/atelier\/images\/img-[A-Za-z0-9]+-0\.png$/,
  );
});
