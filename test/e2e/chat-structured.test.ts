/**
 * Guaranteed structure through the official openai client on a random-weight model: only the decoder's mask can
 * make these outputs valid, so every seed must parse and pass ajv.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { MODEL, startChatHarness, type ChatHarness } from './chat-harness.js';

const ajv = new Ajv.default({ strict: false });
const user = (content: string) => [{ role: 'user' as const, content }];

const personSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 12 },
    age: { type: 'integer', minimum: 0, maximum: 120 },
    tags: { type: 'array', items: { enum: ['red', 'green', 'blue'] }, maxItems: 3 },
    member: { type: 'boolean' },
    address: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: { city: { type: 'string', maxLength: 8 } },
          required: ['city'],
          additionalProperties: false,
        },
      ],
    },
  },
  required: ['name', 'age', 'tags', 'member', 'address'],
  additionalProperties: false,
};

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', maxLength: 10 }, unit: { enum: ['c', 'f'] } },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
  {
    type: 'function',
    function: {
      name: 'add',
      parameters: {
        type: 'object',
        properties: {
          a: { type: 'integer', minimum: -999, maximum: 999 },
          b: { type: 'integer', minimum: -999, maximum: 999 },
        },
        required: ['a', 'b'],
        additionalProperties: false,
      },
      strict: true,
    },
  },
];
const validators = new Map(
  tools.map((t) => [
    t.type === 'function' ? t.function.name : '',
    ajv.compile(t.type === 'function' ? (t.function.parameters ?? {}) : {}),
  ]),
);

function assertValidCalls(message: OpenAI.Chat.Completions.ChatCompletionMessage, only?: string): void {
  const calls = message.tool_calls ?? [];
  assert.ok(calls.length >= 1, 'no tool call');
  assert.equal(message.content, null);
  for (const call of calls) {
    assert.equal(call.type, 'function');
    if (call.type !== 'function') continue;
    assert.match(call.id, /^call_/);
    if (only) assert.equal(call.function.name, only);
    const validate = validators.get(call.function.name);
    assert.ok(validate, `unknown tool ${call.function.name}`);
    assert.ok(
      validate(JSON.parse(call.function.arguments)),
      `${call.function.arguments}: ${ajv.errorsText(validate.errors)}`,
    );
  }
}

describe('structured outputs and tool calls (GGUF)', () => {
  let h: ChatHarness;
  before(async () => {
    h = await startChatHarness({ parallel: 2, contextSize: 2048 });
  });
  after(() => h.close());

  it('json_schema strict: every seed parses and validates', async () => {
    const validate = ajv.compile(personSchema);
    for (let seed = 0; seed < 24; seed++) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Describe a person'),
        seed,
        max_completion_tokens: 400,
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema: personSchema, strict: true } },
      });
      const choice = r.choices[0]!;
      assert.equal(choice.finish_reason, 'stop', `seed ${seed}: ${choice.message.content}`);
      const value: unknown = JSON.parse(choice.message.content ?? '');
      assert.ok(validate(value), `seed ${seed}: ${choice.message.content} ${ajv.errorsText(validate.errors)}`);
    }
  });

  it('the grammar outranks logit_bias: banning EOS cannot break or prolong a finished JSON document', async () => {
    const eos = Object.fromEntries(h.model.vocabulary.eog.map((id) => [String(id), -100]));
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' } },
      required: ['ok'],
      additionalProperties: false,
    };
    const r = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('ok?'),
      seed: 1,
      max_completion_tokens: 50,
      logit_bias: eos,
      response_format: { type: 'json_schema', json_schema: { name: 'ok', schema, strict: true } },
    });
    assert.equal(r.choices[0]?.finish_reason, 'stop');
    assert.equal(typeof (JSON.parse(r.choices[0]?.message.content ?? '') as { ok: unknown }).ok, 'boolean');
  });

  it('json_object gives a JSON object, n choices each valid', async () => {
    const r = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('JSON please'),
      seed: 3,
      n: 4,
      max_completion_tokens: 200,
      response_format: { type: 'json_object' },
      logit_bias: { [String(h.model.engine.tokenize('{"', false)[0])]: 5 },
    });
    assert.equal(r.choices.length, 4);
    for (const c of r.choices) {
      if (c.finish_reason === 'length') continue;
      const v: unknown = JSON.parse(c.message.content ?? '');
      assert.ok(typeof v === 'object' && v !== null && !Array.isArray(v));
    }
  });

  it('rejects a schema the decoder cannot enforce with 400 and the param, before generating', async () => {
    const err = await h.client.chat.completions
      .create({
        model: MODEL,
        messages: user('x'),
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'bad',
            schema: { type: 'object', properties: { a: { type: 'string', pattern: '(?<=a)b' } } },
          },
        },
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.match(String(err.param), /^response_format\.json_schema\.schema/);
    const ok = await h.client.chat.completions.create({ model: MODEL, messages: user('x'), max_completion_tokens: 1 });
    assert.equal(ok.choices.length, 1);
  });

  it('tool_choice required always yields valid calls', async () => {
    for (let seed = 0; seed < 12; seed++) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Weather in Paris?'),
        tools,
        tool_choice: 'required',
        parallel_tool_calls: false,
        seed,
        max_completion_tokens: 300,
      });
      assert.equal(r.choices[0]?.finish_reason, 'tool_calls', `seed ${seed}`);
      assertValidCalls(r.choices[0]!.message);
      assert.equal(r.choices[0]?.message.tool_calls?.length, 1);
    }
  });

  it('parallel calls: each one valid, numbered in order', async () => {
    let most = 0;
    for (let seed = 0; seed < 6; seed++) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Weather in Paris and Rome?'),
        tools,
        tool_choice: 'required',
        seed,
        max_completion_tokens: 900,
      });
      assert.equal(r.choices[0]?.finish_reason, 'tool_calls', `seed ${seed}`);
      assertValidCalls(r.choices[0]!.message);
      most = Math.max(most, r.choices[0]?.message.tool_calls?.length ?? 0);
    }
    assert.ok(most > 1, 'no seed made parallel calls');
  });

  it('named tool_choice always calls that tool, once', async () => {
    for (let seed = 0; seed < 8; seed++) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Add numbers'),
        tools,
        seed,
        max_completion_tokens: 300,
        tool_choice: { type: 'function', function: { name: 'add' } },
      });
      assert.equal(r.choices[0]?.finish_reason, 'tool_calls');
      assertValidCalls(r.choices[0]!.message, 'add');
      assert.equal(r.choices[0]?.message.tool_calls?.length, 1);
    }
  });

  it('streams tool calls as id/name then argument fragments, matching the non-streamed answer', async () => {
    const req = {
      model: MODEL,
      messages: user('Weather?'),
      tools,
      tool_choice: 'required' as const,
      seed: 11,
      max_completion_tokens: 900,
    };
    const whole = await h.client.chat.completions.create(req);
    const stream = await h.client.chat.completions.create({ ...req, stream: true });
    const calls: { id: string; name: string; arguments: string; fragments: number }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      assert.ok(!choice.delta.content, 'call syntax leaked into content');
      for (const d of choice.delta.tool_calls ?? []) {
        if (d.id) {
          assert.equal(d.function?.arguments, '');
          calls[d.index] = { id: d.id, name: d.function?.name ?? '', arguments: '', fragments: 0 };
        } else {
          const c = calls[d.index]!;
          c.arguments += d.function?.arguments ?? '';
          c.fragments++;
        }
      }
      finish = choice.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    const expected = (whole.choices[0]?.message.tool_calls ?? []).map((c) =>
      c.type === 'function' ? [c.function.name, c.function.arguments] : [],
    );
    assert.deepEqual(
      calls.map((c) => [c.name, c.arguments]),
      expected,
    );
    assert.ok(
      calls.every((c) => c.fragments > 1),
      'arguments were not streamed incrementally',
    );
  });

  it('tool_choice auto with a json_schema: each answer is either valid calls or schema-valid content', async () => {
    const validate = ajv.compile(personSchema);
    const open = h.model.engine.tokenize('<tool_call>', true)[0] as number;
    const kinds = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Answer or call'),
        tools,
        tool_choice: 'auto',
        parallel_tool_calls: false,
        seed,
        max_completion_tokens: 400,
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema: personSchema, strict: true } },
        // Even seeds lean towards calling, odd ones towards answering, so both paths are exercised.
        logit_bias: { [String(open)]: seed % 2 === 0 ? 20 : -20 },
      });
      const message = r.choices[0]!.message;
      if (message.tool_calls) {
        kinds.add('calls');
        assert.equal(r.choices[0]?.finish_reason, 'tool_calls');
        assertValidCalls(message);
      } else {
        kinds.add('content');
        assert.equal(r.choices[0]?.finish_reason, 'stop');
        assert.ok(validate(JSON.parse(message.content ?? '')), message.content ?? '');
      }
    }
    assert.deepEqual([...kinds].sort(), ['calls', 'content']);
  });

  it("works with openai-node's own helpers: stream().finalChatCompletion() and parse()", async () => {
    const req = {
      model: MODEL,
      messages: user('Weather?'),
      tools,
      tool_choice: 'required' as const,
      parallel_tool_calls: false,
      seed: 4,
      max_completion_tokens: 300,
    };
    const whole = await h.client.chat.completions.create(req);
    const final = await h.client.chat.completions.stream(req).finalChatCompletion();
    assert.deepEqual(
      final.choices[0]?.message.tool_calls?.map((c) =>
        c.type === 'function' ? [c.function.name, c.function.arguments] : null,
      ),
      whole.choices[0]?.message.tool_calls?.map((c) =>
        c.type === 'function' ? [c.function.name, c.function.arguments] : null,
      ),
    );
    const parsed = await h.client.chat.completions.parse({
      model: MODEL,
      messages: user('A person'),
      seed: 2,
      max_completion_tokens: 400,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: personSchema, strict: true } },
    });
    assert.ok(ajv.compile(personSchema)(parsed.choices[0]?.message.parsed));
  });

  it('tool_choice none never calls; a tool result turn renders and answers', async () => {
    // Even pushed towards its call token, a model told "none" writes no call syntax into content.
    const open = h.model.engine.tokenize('<tool_call>', true)[0] as number;
    const none = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('Weather?'),
      tools,
      tool_choice: 'none',
      seed: 1,
      max_completion_tokens: 20,
      logit_bias: { [String(open)]: 30 },
    });
    assert.equal(none.choices[0]?.message.tool_calls, undefined);
    assert.ok(!(none.choices[0]?.message.content ?? '').includes('<tool_call>'));
    const r = await h.client.chat.completions.create({
      model: MODEL,
      tools,
      seed: 2,
      max_completion_tokens: 10,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"c"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
      ],
    });
    assert.equal(r.choices.length, 1);
  });
});
