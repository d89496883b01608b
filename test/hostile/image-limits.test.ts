/**
 * Decode amplification against a real server: images are measured from their header before any pixel is decoded
 * (a 1×60,000,000 PNG of ~60 KB is refused at once), the number of images and their total bytes per request are
 * capped, and SVG is refused by default. Every refusal is an OpenAI-shaped 400 and the server keeps answering.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import sharp from 'sharp';
import { startChatHarness, type ChatHarness } from '../e2e/chat-harness.js';
import { truncatedPng, zeroPng } from './png-bombs.js';

const VLM = 'atelier-demo-vlm';
const dataUrl = (bytes: Buffer, type = 'image/png') => `data:${type};base64,${bytes.toString('base64')}`;

describe('image limits are enforced before decoding', () => {
  let h: ChatHarness;
  before(async () => {
    h = await startChatHarness({ models: [VLM], contextSize: 512, config: { imageMaxRequestBytes: 1024 * 1024 } });
  });
  after(async () => h?.close());

  const ask = (urls: string[]) =>
    h.client.chat.completions.create({
      model: VLM,
      max_completion_tokens: 2,
      seed: 1,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is shown?' },
            ...urls.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
          ],
        },
      ],
    });
  const refusal = async (urls: string[]): Promise<InstanceType<typeof OpenAI.BadRequestError>> => {
    const err = await ask(urls).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.type, 'invalid_request_error');
    return err;
  };
  const healthy = async () => assert.equal((await fetch(`${h.baseURL.replace(/\/v1$/, '')}/health`)).status, 200);

  it('a 1×60,000,000 PNG is refused from its header: a truncated pixel stream proves nothing was decoded', async () => {
    const bomb = await truncatedPng(1, 60_000_000);
    const err = await refusal([dataUrl(bomb)]);
    // A decoder would have failed on the missing rows; only the header check can report the size.
    assert.match(err.message, /1x60000000, over 8192 px a side/);
    assert.equal(err.param, 'messages[0].content[1].image_url.url');
    const wide = await refusal([dataUrl(await truncatedPng(5000, 5000))]);
    assert.match(wide.message, /5000x5000, over 16777216 pixels/);
    await healthy();
  });

  it('the honest 1×60,000,000 PNG (every row present) is refused fast, without its 45 s decode', async () => {
    const bomb = await zeroPng(1, 60_000_000);
    assert.ok(bomb.length < 200_000, `a small file: ${bomb.length} bytes`);
    const started = performance.now();
    const err = await refusal([dataUrl(bomb)]);
    // Generous bound for a loaded 2-core machine: a full decode took 45 s of CPU.
    assert.ok(performance.now() - started < 10_000, `took ${Math.round(performance.now() - started)} ms`);
    assert.match(err.message, /over 8192 px a side/);
    await healthy();
  });

  it('more than 8 images in one request is a 400 before any is loaded', async () => {
    const tiny = dataUrl(
      await sharp({ create: { width: 4, height: 4, channels: 3, background: '#00f' } })
        .png()
        .toBuffer(),
    );
    const err = await refusal(Array.from({ length: 9 }, () => tiny));
    assert.equal(err.code, 'too_many_images');
    assert.equal(err.param, 'messages');
    assert.match(err.message, /at most 8 images/);
    assert.equal((await ask(Array.from({ length: 2 }, () => tiny))).choices.length, 1);
  });

  it('the images of one request share a byte budget (imageMaxRequestBytes)', async () => {
    const noise = async () =>
      sharp(randomBytes(450 * 450 * 3), { raw: { width: 450, height: 450, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toBuffer();
    const [a, b] = [await noise(), await noise()];
    assert.ok(a.length > 512 * 1024 && a.length < 1024 * 1024);
    assert.equal((await ask([dataUrl(a)])).choices.length, 1);
    const err = await refusal([dataUrl(a), dataUrl(b)]);
    assert.equal(err.code, 'image_too_large');
    assert.equal(err.param, 'messages[0].content[2].image_url.url');
    assert.match(err.message, /1\.0 MiB in total/);
  });

  it('SVG is refused by default, however it is labelled', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="8000" height="8000"><rect width="8000" height="8000" fill="red"/></svg>',
    );
    for (const url of [
      dataUrl(svg, 'image/svg+xml'),
      dataUrl(svg),
      dataUrl(Buffer.concat([Buffer.from('\uFEFF  \n'), svg])),
    ]) {
      const err = await refusal([url]);
      assert.equal(err.code, 'invalid_image_format');
      assert.match(err.message, /SVG and other vector images are not accepted/);
    }
    await healthy();
  });
});
