import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  exportModel,
  ImageGenerator,
  parseA1111Parameters,
  readPngText,
  type ImageProgress,
} from '../../src/images/index.js';
import { ApiError, parseImageRequest } from '../../src/protocol/index.js';
import type { ModelRecord } from '../../src/store/index.js';
import { WorkerCancelledError, WorkerClient } from '../../src/worker/index.js';
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
  parseImageRequest({ prompt: 'a photo of sks dog', steps: 3, seed: 11, guidance_scale: 5, ...body });

describe('ImageGenerator with the resident worker on the tiny model', () => {
  let dir: string;
  let worker: WorkerClient;
  let generator: ImageGenerator;
  let base: ModelRecord;
  let lora: ModelRecord;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-images-'));
    const tiny = makeTinySd(dir);
    base = record('tiny', tiny);
    lora = record('tiny-lora', tiny, {
      metadata: { lora: makeLora(tiny, join(dir, 'lora.safetensors')), lora_scale: 1 },
    });
    worker = new WorkerClient();
    generator = new ImageGenerator({ worker, outputDir: join(dir, 'out') });
  });
  after(async () => {
    await generator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bytes = (path: string) => readFileSync(path);

  it('is deterministic per seed, image i is reproducible alone, and the model stays resident', async () => {
    const stages: string[] = [];
    const first = await generator.generate(base, request({ n: 2 }), { onProgress: (p) => stages.push(p.stage) });
    assert.deepEqual(stages, ['load', 'generate', 'generate', 'generate']);
    assert.deepEqual(
      first.map((i) => i.seed),
      [11, 12],
    );
    const again = await generator.generate(base, request({ n: 2 }), { onProgress: (p) => stages.push(p.stage) });
    assert.equal(stages.filter((s) => s === 'load').length, 1, 'second request found the model loaded');
    assert.deepEqual(pngPixels(bytes(again[0]!.path)), pngPixels(bytes(first[0]!.path)));
    const alone = await generator.generate(base, request({ seed: 12 }));
    assert.deepEqual(pngPixels(bytes(alone[0]!.path)), pngPixels(bytes(first[1]!.path)));
    assert.notDeepEqual(pngPixels(bytes(first[0]!.path)), pngPixels(bytes(first[1]!.path)));
    const params = parseA1111Parameters(readPngText(bytes(first[1]!.path)).parameters ?? '');
    assert.equal(params.Seed, '12');
    assert.equal(params.Size, '32x32', "the tiny model's native size is the default");
    assert.equal(params.Model, 'tiny');
    assert.equal(params.Sampler, 'Euler a');
  });

  it('cancels between steps and keeps serving', async () => {
    const controller = new AbortController();
    const seen: ImageProgress[] = [];
    await assert.rejects(
      generator.generate(base, request({ steps: 40 }), {
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.stage === 'generate' && p.step === 1) controller.abort();
        },
      }),
      (e: unknown) => e instanceof WorkerCancelledError && e.code === 'cancelled',
    );
    assert.ok(seen.at(-1)!.step < 40, 'stopped before the last step');
    assert.equal((await generator.generate(base, request())).length, 1);
  });

  it('fails the request cleanly when the worker crashes, then restarts it', async () => {
    const startsBefore = worker.starts;
    await assert.rejects(
      generator.generate(base, request({ steps: 40 }), {
        onProgress: (p) => {
          if (p.stage === 'generate' && p.step === 1) worker.kill();
        },
      }),
      (e: unknown) => e instanceof ApiError && e.status === 503 && /killed by SIGKILL/.test(e.message),
    );
    const images = await generator.generate(base, request());
    assert.equal(worker.starts, startsBefore + 1);
    assert.equal(images.length, 1);
  });

  it('generates with a DreamBooth LoRA result, and its kohya export gives identical images', async () => {
    const [plain] = await generator.generate(base, request());
    const [withLora] = await generator.generate(lora, request());
    assert.notDeepEqual(pngPixels(bytes(withLora!.path)), pngPixels(bytes(plain!.path)));
    const kohya = await exportModel(lora, 'lora-kohya', join(dir, 'export', 'kohya.safetensors'));
    const imported = record('tiny-kohya', base.path, { metadata: { lora: kohya.path } });
    const [fromKohya] = await generator.generate(imported, request());
    assert.deepEqual(pngPixels(bytes(fromKohya!.path)), pngPixels(bytes(withLora!.path)));
  });

  it('a single-file safetensors export imports back to identical images', async () => {
    const [original] = await generator.generate(lora, request());
    const file = await exportModel(lora, 'safetensors', join(dir, 'export', 'merged.safetensors'));
    const imported = record('merged', file.path, { format: 'sd-checkpoint' });
    const [reloaded] = await generator.generate(imported, request());
    assert.deepEqual(pngPixels(bytes(reloaded!.path)), pngPixels(bytes(original!.path)));
  });

  it('refuses non-image models and LoRA formats of full models with 400s', async () => {
    await assert.rejects(
      generator.generate(record('chat', '/x.gguf', { format: 'gguf' }), request()),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === 'model',
    );
    await assert.rejects(
      exportModel(base, 'lora-kohya', join(dir, 'x.safetensors')),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === 'format',
    );
  });
});
