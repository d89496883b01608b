/**
 * Valid JSON at any token budget, through the official openai client on the random-weight demo GGUF: when
 * `max_completion_tokens` runs out, a json_schema answer and a tool call are still complete, parse and validate, and
 * `finish_reason` is "length"; a budget below the shortest valid answer is a 400 naming the parameter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { MODEL, startChatHarness, type ChatHarness } from './chat-harness.js';

const ajv = new Ajv.default({ strict: false });
const user = (content: string) => [{ role: 'user' as const, content }];

// Unbounded strings and arrays: nothing but the budget makes a random model stop.
const noteSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 2 },
    tags: { type: 'array', items: { type: 'string' }, minItems: 1 },
    done: { type: 'boolean' },
  },
  required: ['title', 'tags', 'done'],
  additionalProperties: false,
};
const format = { type: 'json_schema' as const, json_schema: { name: 'note', schema: noteSchema, strict: true } };
const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'save_note',
      parameters: {
        type: 'object',
        properties: { text: { type: 'string' }, priority: { type: 'integer', minimum: 1 } },
        required: ['text', 'priority'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
];

/** The fewest tokens the server says an answer needs, read from its 400 for a budget of 1. */
async function minimumFor(
  h: ChatHarness,
  request: Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming>,
): Promise<number> {
  const err = await h.client.chat.completions
    .create({ model: MODEL, messages: user('x'), max_completion_tokens: 1, ...request })
    .catch((e: unknown) => e);
  assert.ok(err instanceof OpenAI.BadRequestError, String(err));
  assert.equal(err.param, 'max_completion_tokens');
  assert.match(err.message, /max_completion_tokens \(or max_tokens\) is 1, but the shortest .* takes \d+ tokens/);
  return Number(/takes (\d+) tokens/.exec(err.message)![1]);
}

describe('token budget (GGUF)', () => {
  let h: ChatHarness;
  before(async () => {
    h = await startChatHarness({ parallel: 2, contextSize: 2048 });
  });
  after(() => h.close());

  it('json_schema cut by max_completion_tokens still parses and validates, finish_reason "length"', async () => {
    const validate = ajv.compile(noteSchema);
    const minimum = await minimumFor(h, { response_format: format });
    assert.ok(minimum > 1 && minimum <= '{"title":"xx","tags":[""],"done":true}'.length, `minimum ${minimum}`);
    for (const [seed, budget] of [
      [0, minimum],
      [1, minimum + 1],
      [2, minimum + 7],
      [3, minimum + 25],
      [4, minimum + 60],
    ] as const) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Write a note'),
        seed,
        max_completion_tokens: budget,
        response_format: format,
      });
      const choice = r.choices[0]!;
      const value: unknown = JSON.parse(choice.message.content ?? '');
      assert.ok(validate(value), `budget ${budget}: ${choice.message.content} ${ajv.errorsText(validate.errors)}`);
      // The tight budgets always bind; a loose one may see the model close the document by itself ("stop").
      const used = r.usage?.completion_tokens ?? Infinity;
      assert.ok(used <= budget);
      if (budget <= minimum + 7 || used === budget)
        assert.equal(choice.finish_reason, 'length', `budget ${budget}: ${choice.message.content}`);
    }
  });

  it('streamed: the chunks join into a valid document and the last says "length"', async () => {
    const minimum = await minimumFor(h, { response_format: format });
    const stream = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('Write a note'),
      seed: 9,
      max_completion_tokens: minimum + 3,
      response_format: format,
      stream: true,
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(ajv.validate(noteSchema, JSON.parse(text)), text);
    assert.equal(finish, 'length');
  });

  it('a tool call cut by max_completion_tokens still has arguments that parse and validate', async () => {
    const validate = ajv.compile(tools[0]!.type === 'function' ? (tools[0]!.function.parameters ?? {}) : {});
    const request = { tools, tool_choice: 'required' as const, parallel_tool_calls: false };
    const minimum = await minimumFor(h, request);
    for (const [seed, budget] of [
      [0, minimum],
      [1, minimum + 2],
      [2, minimum + 15],
      [3, minimum + 40],
    ] as const) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Save a note'),
        seed,
        max_completion_tokens: budget,
        ...request,
      });
      const choice = r.choices[0]!;
      const call = choice.message.tool_calls?.[0];
      assert.ok(
        call && call.type === 'function',
        `budget ${budget}: no tool call in ${JSON.stringify(choice.message)}`,
      );
      assert.equal(call.function.name, 'save_note');
      assert.ok(
        validate(JSON.parse(call.function.arguments)),
        `budget ${budget}: ${call.function.arguments} ${ajv.errorsText(validate.errors)}`,
      );
      if (budget <= minimum + 2 || r.usage?.completion_tokens === budget)
        assert.equal(choice.finish_reason, 'length', `budget ${budget}: ${call.function.arguments}`);
      else assert.ok(choice.finish_reason === 'length' || choice.finish_reason === 'tool_calls');
    }
  });

  it('a budget one below the shortest answer is a 400 (max_tokens too); the shortest itself is served', async () => {
    const minimum = await minimumFor(h, { response_format: format });
    const below = await h.client.chat.completions
      .create({ model: MODEL, messages: user('x'), max_tokens: minimum - 1, response_format: format })
      .catch((e: unknown) => e);
    assert.ok(below instanceof OpenAI.BadRequestError, String(below));
    assert.equal(below.code, 'invalid_value');
    const exact = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('x'),
      max_tokens: minimum,
      response_format: format,
    });
    assert.ok(ajv.validate(noteSchema, JSON.parse(exact.choices[0]?.message.content ?? '')));
  });
});
