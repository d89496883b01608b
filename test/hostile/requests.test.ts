import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { InvalidRequestError, parseChatRequest } from '../../src/protocol/index.js';
import { MODEL, startChatHarness } from '../e2e/chat-harness.js';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const tool = (fn: object) => ({ tools: [{ type: 'function', function: { name: 'f', ...fn } }] });

/** `{"a":{"a":…}}` nested `depth` deep (built in a loop: the point is that nothing recurses over it). */
function deep(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { type: 'object' };
  for (let i = 0; i < depth; i += 1) value = { type: 'object', properties: { a: value } };
  return value;
}

// Each field is checked whatever its siblings hold, and the error names its full path.
const cases: [string, object, string][] = [
  [
    'max_tokens wrong beside a valid max_completion_tokens',
    { max_tokens: 'abc', max_completion_tokens: 5 },
    'max_tokens',
  ],
  [
    'max_completion_tokens wrong beside a valid max_tokens',
    { max_tokens: 5, max_completion_tokens: 1.5 },
    'max_completion_tokens',
  ],
  [
    'include_usage not a boolean',
    { stream: true, stream_options: { include_usage: 'yes' } },
    'stream_options.include_usage',
  ],
  [
    'unknown stream option',
    { stream: true, stream_options: { include_usage: true, extra: 1 } },
    'stream_options.extra',
  ],
  ['stream_options without stream', { stream_options: { include_usage: true } }, 'stream_options'],
  ['tool parameters 10,000 deep', tool({ parameters: deep(10_000) }), 'tools[0].function.parameters'],
  ['tool parameters 65 levels of JSON', tool({ parameters: deep(32) }), 'tools[0].function.parameters'],
  ['tool description not a string', tool({ description: 5 }), 'tools[0].function.description'],
  ['tool strict not a boolean', tool({ strict: 'yes' }), 'tools[0].function.strict'],
  [
    'json_schema 10,000 deep',
    { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: deep(10_000) } } },
    'response_format.json_schema.schema',
  ],
  [
    'json_schema strict not a boolean',
    { response_format: { type: 'json_schema', json_schema: { name: 'x', strict: 'true' } } },
    'response_format.json_schema.strict',
  ],
  [
    'json_schema not an object',
    { response_format: { type: 'json_schema', json_schema: 'x' } },
    'response_format.json_schema',
  ],
  [
    'tool_choice naming an unknown tool',
    { ...tool({}), tool_choice: { type: 'function', function: { name: 'g' } } },
    'tool_choice.function.name',
  ],
  ['user not a string', { user: 5 }, 'user'],
  ['store not a boolean', { store: 'yes' }, 'store'],
  ['metadata value not a string', { metadata: { a: 1 } }, 'metadata.a'],
  [
    'metadata with 17 keys',
    { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) },
    'metadata',
  ],
  [
    'text part without text',
    { messages: [{ role: 'user', content: [{ type: 'text' }] }] },
    'messages[0].content[0].text',
  ],
  [
    'reasoning_content not a string',
    {
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'y', reasoning_content: 5 },
      ],
    },
    'messages[1].reasoning_content',
  ],
];

test('every chat field is validated on its own and blamed by its full path', () => {
  for (const [name, fields, param] of cases) {
    assert.throws(
      () => parseChatRequest({ ...base, ...fields }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidRequestError, `${name}: ${String(error)}`);
        assert.equal(error.param, param, `${name}: ${error.message}`);
        return true;
      },
    );
  }
  // Within the bounds everything still passes.
  const ok = parseChatRequest({
    ...base,
    ...tool({ parameters: deep(31), description: 'd', strict: true }),
    user: 'u',
    store: false,
    metadata: { a: 'b' },
  });
  assert.equal(ok.tools[0]!.strict, true);
});

test('through the server: a deep tool schema is a 400 on the tool, not on messages, and the server stays up', async (t) => {
  const harness = await startChatHarness();
  t.after(() => harness.close());
  // Sent as text built in a loop: even a client's JSON.stringify overflows its stack on a value this deep.
  const parameters = '{"type":"object","properties":{"a":'.repeat(10_000) + '{}' + '}}'.repeat(10_000);
  const body = `{"model":"${MODEL}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${parameters}}}]}`;
  const response = await fetch(`${harness.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  assert.equal(response.status, 400);
  const { error } = (await response.json()) as { error: { param: string; message: string } };
  assert.equal(error.param, 'tools[0].function.parameters');
  assert.match(error.message, /nests deeper than 64 levels/);
  const messages = [{ role: 'user' as const, content: 'hi' }];
  const tokens = await harness.client.chat.completions
    .create({ model: MODEL, messages, max_tokens: 'abc' as unknown as number, max_completion_tokens: 2 })
    .catch((e: unknown) => e);
  assert.ok(tokens instanceof OpenAI.BadRequestError);
  assert.equal(tokens.param, 'max_tokens');
  const health = await fetch(`${harness.baseURL.replace(/\/v1$/, '')}/health`);
  assert.equal(((await health.json()) as { status: string }).status, 'ok');
});
