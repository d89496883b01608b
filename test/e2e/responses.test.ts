/**
 * `/v1/responses` through the official `openai` client on the demo GGUF and the demo ONNX VLM: plain create,
 * `responses.parse` with a json_schema format, function tools, the SDK's stream helper over the event sequence,
 * `previous_response_id`, and GET / DELETE of stored responses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { makeParseableTextFormat } from 'openai/lib/parser';
import type {
  ResponseCreateParamsNonStreaming,
  ResponseCreateParamsStreaming,
  ResponseStreamEvent,
} from 'openai/resources/responses/responses';
import Ajv from 'ajv';
import sharp from 'sharp';
import { invoicePdf, invoiceSchema, scannedLetterPdf } from '../../scripts/make-invoice-pdf.js';
import { startResponsesHarness, type ResponsesHarness } from './responses-harness.js';

const MODEL = 'atelier-demo-gguf';
/** `seed` is atelier's extension (reproducible sampling); the client's types only know OpenAI's fields. */
type Params = ResponseCreateParamsNonStreaming & { seed?: number };
const create = (h: ResponsesHarness, p: Params) => h.client.responses.create(p);
const streamOf = (h: ResponsesHarness, p: Omit<Params, 'stream'>) =>
  h.client.responses.stream(p as ResponseCreateParamsStreaming);
const VLM = 'atelier-demo-vlm';

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 20 } },
    required: ['city'],
    additionalProperties: false,
  },
  strict: true,
};

describe('/v1/responses through the official openai client', () => {
  let h: ResponsesHarness;
  before(async () => {
    h = await startResponsesHarness([MODEL, VLM]);
  });
  after(() => h.close());

  it('create: a message item, output_text, usage in input/output tokens, stored and served by id', async () => {
    const r = await create(h, {
      model: MODEL,
      input: 'Say hello',
      instructions: 'Be brief',
      max_output_tokens: 12,
      seed: 3,
    });
    assert.equal(r.object, 'response');
    assert.match(r.id, /^resp_/);
    assert.ok(r.status === 'completed' || r.status === 'incomplete');
    const message = r.output[0];
    assert.equal(message?.type, 'message');
    assert.equal(
      r.output_text,
      message.type === 'message' && message.content[0]?.type === 'output_text' ? message.content[0].text : null,
    );
    assert.ok(r.usage!.input_tokens > 0);
    assert.ok(r.usage!.output_tokens >= 1 && r.usage!.output_tokens <= 12);
    assert.equal(r.usage!.total_tokens, r.usage!.input_tokens + r.usage!.output_tokens);
    assert.equal(r.instructions, 'Be brief');
    const again = await h.client.responses.retrieve(r.id);
    assert.equal(again.id, r.id);
    assert.deepEqual(again.output, r.output);
    const same = await create(h, {
      model: MODEL,
      input: 'Say hello',
      instructions: 'Be brief',
      max_output_tokens: 12,
      seed: 3,
    });
    assert.equal(same.output_text, r.output_text, 'same seed, same answer');
  });

  it('responses.parse: json_schema output through the constrained decoder, parsed by the SDK', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 120 } },
      required: ['name', 'age'],
      additionalProperties: false,
    };
    const format = makeParseableTextFormat(
      { type: 'json_schema', name: 'person', schema, strict: true },
      (text) => JSON.parse(text) as { name: string; age: number },
    );
    for (const seed of [1, 2, 3]) {
      const r = await h.client.responses.parse({
        model: MODEL,
        input: 'A person',
        text: { format },
        max_output_tokens: 200,
        ...{ seed },
      });
      assert.equal(r.status, 'completed', `seed ${seed}`);
      const parsed = r.output_parsed!;
      assert.deepEqual(Object.keys(parsed).sort(), ['age', 'name']);
      assert.ok(Number.isInteger(parsed.age) && parsed.age >= 0 && parsed.age <= 120);
      assert.ok(typeof parsed.name === 'string' && parsed.name.length <= 12);
    }
    const json = await create(h, {
      model: MODEL,
      input: 'JSON please',
      text: { format: { type: 'json_object' } },
      seed: 5,
      max_output_tokens: 300,
    });
    if (json.status === 'completed') assert.equal(typeof JSON.parse(json.output_text), 'object');
  });

  it('function tools: required and named choices yield valid calls; the output goes back by previous_response_id', async () => {
    const add = {
      type: 'function' as const,
      name: 'add',
      parameters: {
        type: 'object',
        properties: { a: { type: 'integer' }, b: { type: 'integer' } },
        required: ['a', 'b'],
        additionalProperties: false,
      },
      strict: true,
    };
    const params: Params = {
      model: MODEL,
      input: 'Weather in Paris?',
      tools: [weather, add],
      tool_choice: 'required',
      parallel_tool_calls: false,
      seed: 4,
      max_output_tokens: 300,
    };
    const r = await h.client.responses.create(params);
    const calls = r.output.filter((i) => i.type === 'function_call');
    assert.equal(calls.length, 1);
    const call = calls[0]!;
    assert.ok(call.type === 'function_call' && ['get_weather', 'add'].includes(call.name));
    assert.match(call.call_id, /^call_/);
    assert.equal(typeof JSON.parse(call.arguments), 'object');
    const named = await create(h, { ...params, tool_choice: { type: 'function', name: 'add' } });
    const addCall = named.output.find((i) => i.type === 'function_call');
    assert.ok(addCall?.type === 'function_call' && addCall.name === 'add');
    const args = JSON.parse(addCall.arguments) as { a: unknown; b: unknown };
    assert.ok(Number.isInteger(args.a) && Number.isInteger(args.b));
    const none = await create(h, { ...params, tool_choice: 'none', max_output_tokens: 20 });
    assert.ok(none.output.every((i) => i.type === 'message'));
    const followUp = await create(h, {
      model: MODEL,
      previous_response_id: r.id,
      tools: [weather, add],
      max_output_tokens: 20,
      seed: 1,
      tool_choice: 'auto',
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp_c": 21}' }],
    });
    assert.equal(followUp.previous_response_id, r.id);
    assert.ok(followUp.usage!.input_tokens > r.usage!.input_tokens, 'the earlier turn is part of the prompt');
    const bare = await create(h, {
      model: MODEL,
      tools: [weather, add],
      max_output_tokens: 20,
      seed: 1,
      tool_choice: 'auto',
      input: [
        { type: 'message', role: 'user', content: 'Weather in Paris?' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"temp_c": 21}' },
      ],
    });
    assert.equal(
      bare.usage!.input_tokens,
      followUp.usage!.input_tokens,
      'replaying the items by hand gives the same prompt',
    );
    assert.deepEqual(
      bare.output.map((i) => i.type),
      followUp.output.map((i) => i.type),
    );
    assert.equal(bare.output_text, followUp.output_text);
  });

  it('stream: the SDK helper accepts the event sequence; deltas add up to the final response', async () => {
    const stream = streamOf(h, { model: MODEL, input: 'Tell me something', max_output_tokens: 16, seed: 2 });
    const events: ResponseStreamEvent[] = [];
    let deltas = '';
    stream.on('response.output_text.delta', (e) => (deltas += e.delta));
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    assert.deepEqual(
      events.map((e) => e.sequence_number),
      events.map((_, i) => i),
    );
    const types = [...new Set(events.map((e) => e.type))];
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      final.status === 'completed' ? 'response.completed' : 'response.incomplete',
    ]);
    // On `response.incomplete` the SDK keeps the snapshot it accumulated from the events: read the message item.
    const message = final.output[0];
    assert.ok(message?.type === 'message' && message.content[0]?.type === 'output_text');
    assert.equal(message.content[0].text, deltas);
    const stored = await h.client.responses.retrieve(final.id);
    assert.equal(stored.output_text, deltas);
    assert.deepEqual(
      stored.output.map((i) => i.id),
      final.output.map((i) => i.id),
    );
    const plain = await create(h, { model: MODEL, input: 'Tell me something', max_output_tokens: 16, seed: 2 });
    assert.equal(plain.output_text, deltas, 'streamed and JSON answers agree');
  });

  it('stream with a forced function call: argument deltas and done carry the call', async () => {
    const stream = streamOf(h, {
      model: MODEL,
      input: 'Weather?',
      tools: [weather],
      tool_choice: 'required',
      parallel_tool_calls: false,
      seed: 7,
      max_output_tokens: 300,
    });
    const types: string[] = [];
    let args = '';
    stream.on('response.function_call_arguments.delta', (e) => (args += e.delta));
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    const call = final.output.find((i) => i.type === 'function_call');
    assert.ok(call?.type === 'function_call');
    assert.equal(call.arguments, args);
    for (const t of [
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]) {
      assert.ok(types.includes(t), t);
    }
    assert.ok(types.indexOf('response.function_call_arguments.done') < types.indexOf('response.completed'));
  });

  it('delete removes a stored response; unknown ids and fields are OpenAI-shaped errors', async () => {
    const r = await create(h, { model: MODEL, input: 'x', max_output_tokens: 2 });
    await h.client.responses.delete(r.id);
    const gone = await h.client.responses.retrieve(r.id).catch((e: unknown) => e);
    assert.ok(gone instanceof OpenAI.NotFoundError, String(gone));
    const chained = await create(h, { model: MODEL, input: 'x', previous_response_id: r.id }).catch((e: unknown) => e);
    assert.ok(chained instanceof OpenAI.NotFoundError);
    assert.equal(chained.param, 'previous_response_id');
    const unstored = await create(h, { model: MODEL, input: 'x', max_output_tokens: 2, store: false });
    assert.ok(
      (await h.client.responses.retrieve(unstored.id).catch((e: unknown) => e)) instanceof OpenAI.NotFoundError,
    );
    const unknown = await create(h, { model: MODEL, input: 'x', reasoning: { effort: 'low' } }).catch(
      (e: unknown) => e,
    );
    assert.ok(unknown instanceof OpenAI.BadRequestError);
    assert.equal(unknown.param, 'reasoning');
    const noTool = await create(h, { model: MODEL, input: 'x', tool_choice: { type: 'image_generation' } }).catch(
      (e: unknown) => e,
    );
    assert.ok(noTool instanceof OpenAI.BadRequestError);
    assert.equal(noTool.param, 'tool_choice');
    const image = await create(h, {
      model: MODEL,
      input: [
        { role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' }] },
      ],
    }).catch((e: unknown) => e);
    assert.ok(image instanceof OpenAI.BadRequestError, 'a text-only model refuses images');
  });

  it('the demo ONNX VLM reads input_image data URLs through the image pipeline', async () => {
    const png = async (r: number, g: number, b: number) =>
      `data:image/png;base64,${(
        await sharp({ create: { width: 40, height: 40, channels: 3, background: { r, g, b } } })
          .png()
          .toBuffer()
      ).toString('base64')}`;
    const ask = async (url: string) =>
      create(h, {
        model: VLM,
        max_output_tokens: 6,
        temperature: 0,
        input: [
          {
            role: 'user',
            content: [
              { type: 'input_image', image_url: url, detail: 'auto' },
              { type: 'input_text', text: 'Colour?' },
            ],
          },
        ],
      });
    const red = await ask(await png(255, 0, 0));
    const again = await ask(await png(255, 0, 0));
    const text = await create(h, { model: VLM, input: 'Colour?', max_output_tokens: 6, temperature: 0 });
    assert.ok(red.usage!.input_tokens > text.usage!.input_tokens, 'the image adds tokens to the prompt');
    assert.equal(again.output_text, red.output_text);
    const bad = await ask('data:image/png;base64,AAAA').catch((e: unknown) => e);
    assert.ok(bad instanceof OpenAI.BadRequestError);
    assert.equal(bad.code, 'invalid_image_format');
  });

  it('input_file: a PDF reaches the text-only model as its text layer, json_schema holds, a scan is a 400', async () => {
    const file = (bytes: Uint8Array, filename: string) => ({
      type: 'input_file' as const,
      file_data: `data:application/pdf;base64,${Buffer.from(bytes).toString('base64')}`,
      filename,
    });
    const ask = (pdf: ReturnType<typeof file>, extra: Partial<Params> = {}) =>
      create(h, {
        model: MODEL,
        input: [{ role: 'user', content: [{ type: 'input_text', text: 'Extract the invoice.' }, pdf] }],
        max_output_tokens: 300,
        seed: 2,
        ...extra,
      });
    const invoice = file(await invoicePdf(), 'invoice.pdf');
    const plain = await create(h, { model: MODEL, input: 'Extract the invoice.', max_output_tokens: 1 });
    const read = await ask(invoice, { max_output_tokens: 1 });
    assert.ok(read.usage!.input_tokens > plain.usage!.input_tokens + 20, 'the text layer is in the prompt');
    const structured = await ask(invoice, {
      text: { format: { type: 'json_schema', name: 'invoice', schema: invoiceSchema, strict: true } },
    });
    assert.equal(structured.status, 'completed');
    const validate = new Ajv.default({ strict: false }).compile(invoiceSchema);
    assert.ok(validate(JSON.parse(structured.output_text)), JSON.stringify(validate.errors));
    const scan = await ask(file(await scannedLetterPdf(), 'letter.pdf')).catch((e: unknown) => e);
    assert.ok(scan instanceof OpenAI.BadRequestError);
    assert.equal(scan.code, 'document_page_without_text');
    assert.equal(scan.param, 'input[0].content[1]');
    assert.match(scan.message, /letter\.pdf.*page 2/);
  });
});
