import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import OpenAI, { BadRequestError } from 'openai';
import { ImageGenerator, parseA1111Parameters, readPngText } from '../../src/images/index.js';
import { WorkerClient } from '../../src/worker/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig } from '../../src/server/index.js';
import { imageRoutes } from '../../src/server/routes/images.js';
import { openStore, type Store } from '../../src/store/index.js';
import { makeTinySd, pngPixels } from '../images/fixtures.js';

/** atelier's body extensions ride along with OpenAI's fields; the client's types only know OpenAI's. */
type Params = OpenAI.Images.ImageGenerateParamsNonStreaming & Record<string, unknown>;

describe('/v1/images/generations through the official openai client', () => {
  let dir: string;
  let store: Store;
  let app: FastifyInstance;
  let client: OpenAI;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-images-'));
    const home = join(dir, 'home');
    store = openStore(home);
    const registry = new ModelRegistry(store);
    registry.addLocal(makeTinySd(dir), { name: 'tiny-sd' });
    const generator = new ImageGenerator({ worker: new WorkerClient(), outputDir: join(home, 'images') });
    const config = { ...defaultConfig(), home, logLevel: 'warn' as const };
    app = await createServer({ store, registry, config }, [imageRoutes(generator)]);
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ baseURL: `${address}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await app.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const generate = (params: Record<string, unknown>) =>
    client.images.generate({ model: 'tiny-sd', prompt: 'a photo of sks dog on the moon', ...params } as Params);

  it('returns b64 PNGs with A1111 parameters; same seed, same pixels; image i alone', async () => {
    const body = { n: 2, size: '32x24', seed: 5, steps: 3, sampler: 'dpmpp_2m_karras', negative_prompt: 'blurry' };
    const first = await generate(body);
    assert.equal(first.data?.length, 2);
    const png = (i: number, r = first) => Buffer.from(r.data![i]!.b64_json!, 'base64');
    assert.equal(first.data![0]!.revised_prompt, 'a photo of sks dog on the moon');
    const params = parseA1111Parameters(readPngText(png(1)).parameters ?? '');
    assert.deepEqual(params, {
      prompt: 'a photo of sks dog on the moon',
      negative_prompt: 'blurry',
      Steps: '3',
      Sampler: 'DPM++ 2M Karras',
      'CFG scale': '7.5',
      Seed: '6',
      Size: '32x24',
      Model: 'tiny-sd',
    });
    const second = await generate(body);
    assert.deepEqual(png(0, second), png(0));
    assert.notDeepEqual(pngPixels(png(0)), pngPixels(png(1)));
    const alone = await generate({ ...body, n: 1, seed: 6 });
    assert.deepEqual(png(0, alone), png(1));
  });

  it('serves url answers from atelier', async () => {
    const res = await generate({ response_format: 'url', seed: 1, steps: 2, guidance_scale: 1 });
    const url = res.data![0]!.url!;
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/images\/img-[A-Za-z0-9]+-0\.png$/);
    const fetched = await fetch(url);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('content-type'), 'image/png');
    const b64 = await generate({ seed: 1, steps: 2, guidance_scale: 1 });
    assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), Buffer.from(b64.data![0]!.b64_json!, 'base64'));
    assert.equal((await fetch(url.replace(/img-[A-Za-z0-9]+-0/, 'img-missing-0'))).status, 404);
  });

  it('streams progress per denoising step, then one completed event per image', async () => {
    const body = { model: 'tiny-sd', prompt: 'a red ball', seed: 9, steps: 3, n: 2 };
    const stream = await client.images.generate({
      ...body,
      stream: true,
    } as unknown as OpenAI.Images.ImageGenerateParamsStreaming);
    const events: Record<string, unknown>[] = [];
    for await (const event of stream) events.push(event as unknown as Record<string, unknown>);
    const steps = events
      .filter((e) => e.type === 'image_generation.progress' && e.stage === 'generate')
      .map((e) => e.step);
    assert.deepEqual(steps, [1, 2, 3]);
    const done = events.filter((e) => e.type === 'image_generation.completed');
    assert.deepEqual(
      done.map((e) => [e.index, e.seed, e.size, e.output_format]),
      [
        [0, 9, '32x32', 'png'],
        [1, 10, '32x32', 'png'],
      ],
    );
    const plain = await client.images.generate(body as Params);
    assert.deepEqual(
      done.map((e) => e.b64_json),
      plain.data!.map((d) => d.b64_json),
    );
  });

  for (const [param, body] of [
    ['size', { size: '30x32' }],
    ['size', { size: '4096x4096' }],
    ['steps', { steps: 0 }],
    ['steps', { steps: 1000 }],
    ['sampler', { sampler: 'plms' }],
    ['model', { model: 'no-such-model' }],
    ['seed', { seed: -3 }],
    ['n', { n: 0 }],
  ] as const) {
    it(`rejects a bad ${param} (${JSON.stringify(body)}) with an OpenAI 400`, async () => {
      await assert.rejects(generate(body), (e: unknown) => {
        assert.ok(e instanceof BadRequestError, String(e));
        assert.equal(e.status, 400);
        assert.equal(e.param, param);
        assert.equal((e.error as { type?: string }).type, 'invalid_request_error');
        return true;
      });
    });
  }
});
