/**
 * `lora_scale` (atelier's LoRA strength on /v1/images/generations) on the tiny SD with a random LoRA, compared at
 * the pixel level: 0 draws exactly the base model, 1 exactly what the LoRA model draws without the field, and 0.5
 * something else again; the field is refused on a model without a LoRA and outside 0–2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImageGenerator } from '../../src/images/index.js';
import { ApiError, parseImageRequest } from '../../src/protocol/index.js';
import type { ModelRecord } from '../../src/store/index.js';
import { WorkerClient } from '../../src/worker/index.js';
import { makeLora, makeTinySd, pngPixels } from './fixtures.js';

function record(name: string, path: string, extra: Partial<ModelRecord> = {}): ModelRecord {
  return {
    name,
    format: 'diffusers',
    path,
    size: 0,
    source: 'test',
    revision: null,
    metadata: {},
    createdAt: 0,
    ...extra,
  };
}

const request = (body: Record<string, unknown> = {}) =>
  parseImageRequest({ prompt: 'a photo of sks dog', steps: 3, seed: 7, guidance_scale: 5, ...body });

describe('lora_scale: the LoRA strength of an image request', () => {
  let dir: string;
  let generator: ImageGenerator;
  let base: ModelRecord;
  let lora: ModelRecord;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-lora-scale-'));
    const tiny = makeTinySd(dir);
    base = record('tiny', tiny);
    lora = record('tiny-lora', tiny, {
      metadata: { lora: makeLora(tiny, join(dir, 'lora.safetensors')), lora_scale: 1 },
    });
    generator = new ImageGenerator({ worker: new WorkerClient(), outputDir: join(dir, 'out') });
  });
  after(async () => {
    await generator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pixels = async (model: ModelRecord, body: Record<string, unknown> = {}): Promise<Buffer> => {
    const [image] = await generator.generate(model, request(body));
    return pngPixels(readFileSync(image!.path));
  };

  it('0 is the base model, 1 is the LoRA as installed, 0.5 lies elsewhere', async () => {
    const plain = await pixels(base);
    const asInstalled = await pixels(lora);
    assert.notDeepEqual(asInstalled, plain, 'the LoRA changes the image at all');
    assert.deepEqual(await pixels(lora, { lora_scale: 0 }), plain);
    assert.deepEqual(await pixels(lora, { lora_scale: 1 }), asInstalled);
    const half = await pixels(lora, { lora_scale: 0.5 });
    assert.notDeepEqual(half, plain);
    assert.notDeepEqual(half, asInstalled);
  });

  it('refuses a strength for a model without a LoRA, and one outside 0–2', async () => {
    await assert.rejects(
      generator.generate(base, request({ lora_scale: 0.5 })),
      (e: unknown) =>
        e instanceof ApiError &&
        e.status === 400 &&
        e.param === 'lora_scale' &&
        /applies to LoRA models/.test(e.message),
    );
    for (const bad of [-0.1, 2.5, '1']) {
      assert.throws(
        () => request({ lora_scale: bad }),
        (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === 'lora_scale',
      );
    }
  });
});
