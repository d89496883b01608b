/**
 * The built-in `image_generation` tool of `/v1/responses` through the official `openai` client: the demo GGUF chat
 * model is forced to call it (`tool_choice: {type: "image_generation"}`), atelier draws on the resident image worker
 * with a DreamBooth-shaped LoRA result of the tiny SD, and the PNG it returns equals — pixel for pixel —
 * `/v1/images/generations` with the same prompt, seed and parameters. Then the model continues (a second turn).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type {
  ResponseCreateParamsNonStreaming,
  ResponseCreateParamsStreaming,
} from 'openai/resources/responses/responses';
import { makeLora, makeTinySd, pngPixels } from '../images/fixtures.js';
import { startResponsesHarness, type ResponsesHarness } from './responses-harness.js';

const MODEL = 'atelier-demo-gguf';
const DOG = 'sks-dog-lora';
/** OpenAI's tool fields plus atelier's steps / guidance_scale / seed / negative_prompt. */
const tool = {
  type: 'image_generation',
  model: DOG,
  size: '32x32',
  steps: 3,
  seed: 7,
  guidance_scale: 5,
  negative_prompt: 'blurry',
} as const;
type Params = ResponseCreateParamsNonStreaming & { seed?: number };
type ImageCall = {
  type: 'image_generation_call';
  id: string;
  status: string;
  result: string;
  revised_prompt: string;
  seed: number;
  size: string;
};

describe('/v1/responses image_generation tool', () => {
  let h: ResponsesHarness;
  before(async () => {
    h = await startResponsesHarness([MODEL], { images: true });
    const tiny = makeTinySd(h.home);
    // A DreamBooth LoRA result is a base folder plus its LoRA file (what the fine-tuning job installs).
    const lora = makeLora(tiny, join(h.home, 'sks-dog.safetensors'));
    const base = h.registry.addLocal(tiny, { name: 'tiny-sd' });
    h.store.models.put({ ...base, name: DOG, metadata: { lora, lora_scale: 1 } });
  });
  after(() => h.close());

  const request = (extra: Partial<Params> = {}): Params => ({
    model: MODEL,
    input: 'Draw my dog on the moon',
    tools: [tool as unknown as OpenAI.Responses.Tool],
    tool_choice: { type: 'image_generation' },
    max_output_tokens: 120,
    seed: 3,
    ...extra,
  });

  it('a forced call returns a PNG equal to /v1/images/generations, then the model continues', async () => {
    const r = await h.client.responses.create(request());
    const call = r.output[0] as unknown as ImageCall;
    assert.equal(call.type, 'image_generation_call');
    assert.equal(call.status, 'completed');
    assert.match(call.id, /^ig_/);
    assert.ok(call.revised_prompt.length > 0);
    assert.equal(call.seed, 7);
    assert.equal(call.size, '32x32');
    const png = Buffer.from(call.result, 'base64');
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const direct = await h.client.images.generate({
      model: DOG,
      prompt: call.revised_prompt,
      size: '32x32',
      ...{ steps: 3, seed: 7, guidance_scale: 5, negative_prompt: 'blurry' },
    } as unknown as OpenAI.Images.ImageGenerateParamsNonStreaming);
    assert.deepEqual(pngPixels(png), pngPixels(Buffer.from(direct.data![0]!.b64_json!, 'base64')));
    // The second turn ran with calls off: anything after the image is a message, and its tokens count.
    assert.ok(r.output.slice(1).every((i) => i.type === 'message'));
    assert.ok(r.usage!.input_tokens > 0 && r.usage!.output_tokens > 0);
    const stored = await h.client.responses.retrieve(r.id);
    assert.equal((stored.output[0] as unknown as ImageCall).result, call.result);
    const next = await h.client.responses.create({
      model: MODEL,
      input: 'Nice. Again?',
      previous_response_id: r.id,
      max_output_tokens: 4,
    });
    // The same conversation sent by hand (the image call as an input item) is the same prompt.
    const replay = await h.client.responses.create({
      model: MODEL,
      max_output_tokens: 4,
      input: [
        { role: 'user', content: 'Draw my dog on the moon' },
        ...(r.output as unknown as OpenAI.Responses.ResponseInputItem[]),
        { role: 'user', content: 'Nice. Again?' },
      ],
    });
    assert.equal(next.usage!.input_tokens, replay.usage!.input_tokens);
    const fresh = await h.client.responses.create({ model: MODEL, input: 'Nice. Again?', max_output_tokens: 4 });
    assert.ok(
      next.usage!.input_tokens > fresh.usage!.input_tokens,
      'the image call is part of the replayed conversation',
    );
  });

  it('streams in_progress, generating and completed events for the image call', async () => {
    const stream = h.client.responses.stream(request() as unknown as ResponseCreateParamsStreaming);
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    const order = [
      'response.created',
      'response.output_item.added',
      'response.image_generation_call.in_progress',
      'response.image_generation_call.generating',
      'response.image_generation_call.completed',
      'response.output_item.done',
    ];
    const at = order.map((t) => types.indexOf(t));
    assert.ok(
      at.every((i, k) => i >= 0 && (k === 0 || i > (at[k - 1] as number))),
      types.join(' '),
    );
    assert.ok(types.at(-1) === 'response.completed' || types.at(-1) === 'response.incomplete');
    // On `response.incomplete` the SDK keeps its event-built snapshot (item as added): the stored one is final.
    const stored = await h.client.responses.retrieve(final.id);
    const call = stored.output.find((i) => i.type === 'image_generation_call') as unknown as ImageCall;
    const json = await h.client.responses.create(request());
    assert.deepEqual(
      pngPixels(Buffer.from(call.result, 'base64')),
      pngPixels(Buffer.from((json.output[0] as unknown as ImageCall).result, 'base64')),
    );
  });

  it('chat completions extension: the image in message.images (and delta.images when streamed), then a caption', async () => {
    const body = {
      model: MODEL,
      messages: [{ role: 'user', content: 'Draw my dog on the moon' }],
      seed: 3,
      max_completion_tokens: 120,
      tools: [tool],
      tool_choice: { type: 'image_generation' },
    } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
    const r = await h.client.chat.completions.create(body);
    const message = r.choices[0]!.message as (typeof r.choices)[0]['message'] & {
      images?: { b64_json: string; revised_prompt: string; tool_call_id: string; seed: number }[];
    };
    assert.equal(message.tool_calls, undefined, 'atelier answered the call itself');
    assert.equal(message.images?.length, 1);
    const image = message.images![0]!;
    assert.match(image.tool_call_id, /^call_/);
    assert.equal(image.seed, 7);
    const direct = await h.client.images.generate({
      model: DOG,
      prompt: image.revised_prompt,
      size: '32x32',
      ...{ steps: 3, seed: 7, guidance_scale: 5, negative_prompt: 'blurry' },
    } as unknown as OpenAI.Images.ImageGenerateParamsNonStreaming);
    assert.deepEqual(
      pngPixels(Buffer.from(image.b64_json, 'base64')),
      pngPixels(Buffer.from(direct.data![0]!.b64_json!, 'base64')),
    );
    assert.ok(['stop', 'length'].includes(r.choices[0]!.finish_reason));
    const stream = h.client.chat.completions.stream({
      ...body,
      stream: true,
    } as unknown as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
    let streamed: typeof message.images;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as { images?: typeof message.images } | undefined;
      if (delta?.images) streamed = delta.images;
    }
    const final = (await stream.finalChatCompletion()).choices[0]!.message as typeof message;
    assert.equal(streamed?.[0]?.b64_json, image.b64_json, 'same seed, same image, streamed');
    assert.equal(final.images?.[0]?.b64_json, image.b64_json, "the SDK's accumulator keeps the extension field");
    assert.equal(final.content ?? '', message.content ?? '', 'streamed and JSON captions agree');
  });

  it('refuses a tool model that is not an image model, before generating', async () => {
    const err = await h.client.responses
      .create(request({ tools: [{ ...tool, model: MODEL } as unknown as OpenAI.Responses.Tool] }))
      .catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    const bad = await h.client.responses
      .create(request({ tools: [{ ...tool, size: '33x33' } as unknown as OpenAI.Responses.Tool] }))
      .catch((e: unknown) => e);
    assert.ok(bad instanceof OpenAI.BadRequestError);
    assert.equal(bad.param, 'tools[0].size');
  });
});
