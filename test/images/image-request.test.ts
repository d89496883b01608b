import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidRequestError, parseImageRequest, parseImageSize } from '../../src/protocol/index.js';

function rejects(body: unknown, param: string): void {
  assert.throws(
    () => parseImageRequest(body),
    (e: unknown) => e instanceof InvalidRequestError && e.param === param,
  );
}

test('OpenAI fields and atelier extensions are read, defaults left undefined', () => {
  assert.deepEqual(parseImageRequest({ prompt: 'a dog', size: '64x32', n: 2, response_format: 'url', quality: 'hd' }), {
    model: undefined,
    prompt: 'a dog',
    negativePrompt: '',
    n: 2,
    width: 64,
    height: 32,
    responseFormat: 'url',
    steps: undefined,
    guidanceScale: undefined,
    seed: undefined,
    sampler: undefined,
    stream: false,
  });
  const full = parseImageRequest({
    prompt: 'p',
    model: 'm',
    negative_prompt: 'blurry',
    steps: 20,
    guidance_scale: 1,
    seed: 4294967295,
    sampler: 'ddim',
  });
  assert.equal(full.seed, 4294967295);
  assert.equal(full.sampler, 'ddim');
  assert.equal(full.guidanceScale, 1);
  assert.equal(full.responseFormat, 'b64_json');
  assert.equal(parseImageRequest({ prompt: 'p', size: 'auto' }).width, undefined);
});

test('bad fields are 400s naming the field', () => {
  rejects({ prompt: '' }, 'prompt');
  rejects({}, 'prompt');
  rejects({ prompt: 'p', size: '500x512' }, 'size');
  rejects({ prompt: 'p', size: '4096x4096' }, 'size');
  rejects({ prompt: 'p', size: 'large' }, 'size');
  rejects({ prompt: 'p', steps: 0 }, 'steps');
  rejects({ prompt: 'p', steps: 2.5 }, 'steps');
  rejects({ prompt: 'p', n: 11 }, 'n');
  rejects({ prompt: 'p', sampler: 'plms' }, 'sampler');
  rejects({ prompt: 'p', seed: -1 }, 'seed');
  rejects({ prompt: 'p', guidance_scale: 'high' }, 'guidance_scale');
  rejects({ prompt: 'p', response_format: 'png' }, 'response_format');
  rejects({ prompt: 'p', stream: 'yes' }, 'stream');
  rejects([], 'body');
  assert.equal(new InvalidRequestError('x').status, 400);
});

test('sizes are multiples of 8 within bounds', () => {
  assert.deepEqual(parseImageSize('8x2048'), { width: 8, height: 2048 });
  assert.throws(() => parseImageSize('0x8'));
  assert.throws(() => parseImageSize('12x8'));
});
