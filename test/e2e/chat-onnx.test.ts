/**
 * The ONNX engine behind the same API: the tiny Gemma-3-layout VLM sees images (data URLs and http URLs, several
 * per prompt, over several turns), and the ONNX text decoder gives schema-valid JSON.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import OpenAI from 'openai';
import sharp from 'sharp';
import { startChatHarness, type ChatHarness } from './chat-harness.js';

const VLM = 'atelier-demo-vlm';
const TEXT = 'atelier-demo-onnx';
const VLMS = [VLM, 'atelier-demo-smolvlm', 'atelier-demo-qwen2vl'];

async function png(r: number, g: number, b: number, size = 40): Promise<Buffer> {
  return sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();
}
const dataUrl = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;

describe('chat completions on ONNX models', () => {
  let h: ChatHarness;
  let images: Server;
  let imageBase = '';
  before(async () => {
    // The image server is on loopback, which the default fetch policy refuses: allow-list it as an operator would.
    h = await startChatHarness({
      models: [VLM, TEXT, ...VLMS.slice(1)],
      contextSize: 512,
      config: { imageFetchAllow: ['127.0.0.1'] },
    });
    const blue = await png(0, 0, 255);
    images = createServer((req, res) => {
      if (req.url === '/blue.png') res.writeHead(200, { 'content-type': 'image/png' }).end(blue);
      else if (req.url === '/huge.png')
        res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(21 * 1024 * 1024));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    const address = images.address();
    imageBase = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(async () => {
    await h.close();
    images.close();
  });

  const ask = async (urls: string[], extra: object = {}) =>
    h.client.chat.completions.create({
      model: VLM,
      seed: 1,
      temperature: 0,
      max_completion_tokens: 5,
      logprobs: true,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is shown?' },
            ...urls.map((url) => ({ type: 'image_url' as const, image_url: { url } })),
          ],
        },
      ],
      ...extra,
    });

  it('image parts reach the vision encoder: different pictures, different distributions', async () => {
    const red = await ask([dataUrl(await png(255, 0, 0))]);
    const green = await ask([dataUrl(await png(0, 255, 0))]);
    const lp = (r: OpenAI.Chat.Completions.ChatCompletion) =>
      (r.choices[0]?.logprobs?.content ?? []).map((t) => t.logprob);
    assert.notDeepEqual(lp(red), lp(green));
    const again = await ask([dataUrl(await png(255, 0, 0))]);
    assert.deepEqual(lp(again), lp(red));
  });

  it('takes several images, http(s) URLs, and multi-turn history', async () => {
    const one = await ask([dataUrl(await png(255, 0, 0))]);
    const two = await ask([dataUrl(await png(255, 0, 0)), `${imageBase}/blue.png`]);
    assert.ok(
      (two.usage?.prompt_tokens ?? 0) >= (one.usage?.prompt_tokens ?? 0) + 16,
      'each image adds its soft tokens',
    );
    const turn = await h.client.chat.completions.create({
      model: VLM,
      seed: 1,
      max_completion_tokens: 4,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: `${imageBase}/blue.png`, detail: 'low' } },
            { type: 'text', text: 'Colour?' },
          ],
        },
        { role: 'assistant', content: 'Blue.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'And this?' },
            { type: 'image_url', image_url: { url: dataUrl(await png(9, 9, 9)) } },
          ],
        },
      ],
    });
    assert.equal(turn.choices.length, 1);
  });

  it('rejects missing, oversize and corrupt images with 400 naming the part, then keeps serving', async () => {
    for (const [url, code] of [
      [`${imageBase}/missing.png`, 'invalid_image_url'],
      [`${imageBase}/huge.png`, 'invalid_image_url'],
      ['data:image/png;base64,AAAA', 'invalid_image_format'],
    ]) {
      const err = await ask([url as string]).catch((e: unknown) => e);
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.code, code);
      assert.equal(err.param, 'messages[0].content[1].image_url.url');
    }
    const textOnly = await h.client.chat.completions
      .create({
        model: TEXT,
        max_completion_tokens: 2,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl(await png(1, 2, 3)) } }] }],
      })
      .catch((e: unknown) => e);
    assert.ok(textOnly instanceof OpenAI.BadRequestError, String(textOnly));
    assert.equal((await ask([dataUrl(await png(1, 1, 1))])).choices.length, 1);
  });

  it('every VLM demo answers text-only chats, free and JSON-schema constrained (forced tokens fed in batches)', async () => {
    const schema = {
      type: 'object',
      properties: { label: { enum: ['cat', 'dog'] }, note: { type: 'string', maxLength: 6 } },
      required: ['label', 'note'],
      additionalProperties: false,
    };
    const validate = new Ajv.default().compile(schema);
    for (const model of VLMS) {
      const free = await h.client.chat.completions.create({
        model,
        seed: 1,
        max_completion_tokens: 6,
        messages: [{ role: 'user', content: 'Hello' }],
      });
      assert.ok((free.usage?.completion_tokens ?? 0) >= 1 && free.choices[0]?.message.role === 'assistant', model);
      const structured = await h.client.chat.completions.create({
        model,
        seed: 2,
        max_completion_tokens: 60,
        messages: [{ role: 'user', content: 'Classify' }],
        response_format: { type: 'json_schema', json_schema: { name: 'label', schema, strict: true } },
      });
      const content = structured.choices[0]?.message.content ?? '';
      assert.ok(validate(JSON.parse(content)), `${model}: ${content}`);
    }
  });

  it('json_schema on the ONNX text decoder: every seed validates; streaming matches', async () => {
    const schema = {
      type: 'object',
      properties: {
        label: { enum: ['cat', 'dog'] },
        score: { type: 'integer', minimum: 0, maximum: 100 },
        note: { type: 'string', maxLength: 6 },
      },
      required: ['label', 'score', 'note'],
      additionalProperties: false,
    };
    const validate = new Ajv.default().compile(schema);
    const format = { type: 'json_schema' as const, json_schema: { name: 'label', schema, strict: true } };
    for (let seed = 0; seed < 8; seed++) {
      const r = await h.client.chat.completions.create({
        model: TEXT,
        seed,
        max_completion_tokens: 120,
        response_format: format,
        messages: [{ role: 'user', content: 'Classify' }],
      });
      assert.ok(validate(JSON.parse(r.choices[0]?.message.content ?? '')), r.choices[0]?.message.content ?? '');
    }
    const req = {
      model: TEXT,
      seed: 3,
      max_completion_tokens: 120,
      response_format: format,
      messages: [{ role: 'user' as const, content: 'Classify' }],
    };
    const whole = await h.client.chat.completions.create(req);
    let streamed = '';
    for await (const c of await h.client.chat.completions.create({ ...req, stream: true }))
      streamed += c.choices[0]?.delta.content ?? '';
    assert.equal(streamed, whole.choices[0]?.message.content);
  });

  it('reuses the prompt prefix on the ONNX text decoder (cached_tokens) without changing the answer', async () => {
    const messages = [
      { role: 'system' as const, content: 'Be brief and exact. '.repeat(6) },
      { role: 'user' as const, content: 'Hi' },
    ];
    const req = { model: TEXT, messages, seed: 4, max_completion_tokens: 8 };
    const cold = await h.client.chat.completions.create({
      ...req,
      messages: [...messages.slice(0, 1), { role: 'user', content: 'Different' }],
    });
    assert.ok(cold.choices.length === 1);
    const first = await h.client.chat.completions.create(req);
    const second = await h.client.chat.completions.create(req);
    assert.ok((second.usage?.prompt_tokens_details?.cached_tokens ?? 0) > 20);
    assert.equal(second.choices[0]?.message.content, first.choices[0]?.message.content);
  });
});
