import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JsonLineDecoder, parseWorkerEvent, type DecodedLine } from '../../src/worker/index.js';

/** Feeds `bytes` in pieces of `size` bytes, as a pipe might deliver them. */
function decode(bytes: Buffer, size: number): DecodedLine[] {
  const decoder = new JsonLineDecoder();
  const out: DecodedLine[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...decoder.push(bytes.subarray(i, i + size)));
  out.push(...decoder.end());
  return out;
}

describe('JsonLineDecoder', () => {
  const stream = Buffer.from(
    '{"type":"log","level":"info","message":"café ☕"}\n' +
      'Some library printed this\n' +
      '\r\n' +
      '{"type":"progress","stage":"train","step":3,"total":10}\r\n' +
      '{not json}\n' +
      '[1,2]\n' +
      '{"type":"metric","step":3,"values":{"loss":0.25}}',
  );
  for (const size of [1, 2, 5, 4096]) {
    it(`splits lines, keeps non-JSON as text and survives split UTF-8 in ${size}-byte chunks`, () => {
      const lines = decode(stream, size);
      assert.deepEqual(
        lines.map((l) => l.kind),
        ['json', 'text', 'json', 'text', 'text', 'json'],
      );
      assert.deepEqual(lines[0], { kind: 'json', value: { type: 'log', level: 'info', message: 'café ☕' } });
      assert.deepEqual(lines[1], { kind: 'text', text: 'Some library printed this' });
      assert.deepEqual(lines[4], { kind: 'text', text: '[1,2]' });
      assert.deepEqual(lines[5], { kind: 'json', value: { type: 'metric', step: 3, values: { loss: 0.25 } } });
    });
  }
});

describe('parseWorkerEvent', () => {
  it('types every protocol line and keeps the raw fields', () => {
    const progress = parseWorkerEvent({ type: 'progress', stage: 'train', step: 2, total: 8, eta_s: 12.5, id: 'j' });
    assert.deepEqual(
      { ...progress, data: undefined },
      { type: 'progress', stage: 'train', step: 2, total: 8, loss: null, etaSeconds: 12.5, data: undefined },
    );
    assert.equal(progress?.data.id, 'j');
    const metric = parseWorkerEvent({ type: 'metric', step: 4, values: { loss: 0.5, lr: 1e-4, bad: 'x' } });
    assert.deepEqual(metric?.type === 'metric' && metric.values, { loss: 0.5, lr: 1e-4 });
    const checkpoint = parseWorkerEvent({ type: 'checkpoint', step: 4, path: '/c/step-4.ckpt', kept: [] });
    assert.equal(checkpoint?.type === 'checkpoint' && checkpoint.path, '/c/step-4.ckpt');
    const images = parseWorkerEvent({ type: 'class_images', dir: '/d', count: 6, generated: 2, cache_hit: false });
    assert.deepEqual(images?.type === 'class_images' && [images.count, images.generated, images.cacheHit], [
      6,
      2,
      false,
    ]);
    const error = parseWorkerEvent({
      type: 'error',
      code: 'invalid_images',
      message: 'bad photos',
      details: [{ path: 'a.png', message: 'too small' }, 'junk'],
    });
    assert.deepEqual(error?.type === 'error' && error.details, [{ path: 'a.png', message: 'too small' }]);
    const result = parseWorkerEvent({ type: 'result', model_dir: '/o/model', kind: 'diffusers', steps: 8 });
    assert.deepEqual(result?.type === 'result' && [result.path, result.mode, result.step], ['/o/model', 'full', 8]);
  });

  it('rejects unknown types and lines missing required fields', () => {
    assert.equal(parseWorkerEvent({ type: 'telemetry' }), null);
    assert.equal(parseWorkerEvent({ type: 'progress', stage: 'train', total: 3 }), null);
    assert.equal(parseWorkerEvent({ type: 'checkpoint', step: 1 }), null);
    assert.equal(parseWorkerEvent({ type: 'log', level: 'info' }), null);
  });
});
