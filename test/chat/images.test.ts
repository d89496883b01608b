/**
 * loadImages on its own (real sharp): the SVG opt-in rasterises small documents and still refuses huge ones from their
 * declared size, and remote fetching can be switched off.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultImageLimits, loadImages, type ImageLimits } from '../../src/chat/index.js';
import { InvalidRequestError } from '../../src/protocol/index.js';

const svg = (side: number) =>
  `data:image/svg+xml;base64,${Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}"><rect width="${side}" height="${side}" fill="red"/></svg>`).toString('base64')}`;
const part = (url: string) => ({ url, detail: 'auto' as const, param: 'messages[0].content[0].image_url.url' });

test('with allowVector, a small SVG is rasterised at its declared size; an 8000² one is refused before rendering', async () => {
  const limits: ImageLimits = { ...defaultImageLimits, allowVector: true };
  const [image] = await loadImages([part(svg(16))], limits);
  assert.equal(image?.width, 16);
  assert.deepEqual([...(image?.rgba.subarray(0, 4) ?? [])], [255, 0, 0, 255]);
  await assert.rejects(
    loadImages([part(svg(8000))], limits),
    (e: unknown) => e instanceof InvalidRequestError && /8000x8000, over 16777216 pixels/.test(e.message),
  );
  await assert.rejects(loadImages([part(svg(16))]), /SVG and other vector images are not accepted/);
});

test('with fetch off, an http URL is refused without a connection attempt', async () => {
  await assert.rejects(
    loadImages([part('http://203.0.113.1/a.png')], { ...defaultImageLimits, fetch: null }),
    /does not fetch image URLs/,
  );
});
