import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError, parseChatRequest } from '../../src/protocol/index.js';
import { detectToolSyntax, templateThinks } from '../../src/chat/tool-syntax.js';

const base = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

/** Asserts `body` is rejected with a 400 naming `param`. */
function rejects(body: object, param: string | null): void {
  assert.throws(
    () => parseChatRequest(body),
    (e: unknown) => e instanceof InvalidRequestError && e.status === 400 && e.param === param,
  );
}

describe('parseChatRequest', () => {
  it('converts every supported field to camelCase with OpenAI defaults', () => {
    const r = parseChatRequest({
      ...base,
      max_tokens: 5,
      max_completion_tokens: 7,
      n: 2,
      stop: 'x',
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      min_p: 0.05,
      seed: 3,
      frequency_penalty: 1,
      presence_penalty: -1,
      logit_bias: { '12': -100 },
      logprobs: true,
      top_logprobs: 2,
      parallel_tool_calls: false,
      user: 'u',
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' }, strict: true } },
    });
    assert.equal(r.maxTokens, 7);
    assert.deepEqual(r.stop, ['x']);
    assert.equal(r.includeUsage, true);
    assert.equal(r.sampling.logitBias.get(12), -100);
    assert.deepEqual(r.responseFormat, { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true });
    const d = parseChatRequest(base);
    assert.equal(d.sampling.temperature, 1);
    assert.equal(d.n, 1);
    assert.equal(d.toolChoice, 'none');
    assert.equal(d.maxTokens, null);
  });

  it('keeps roles, content parts, tool calls and tool results', () => {
    const r = parseChatRequest({
      model: 'm',
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'rules' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    });
    assert.equal(r.toolChoice, 'auto');
    assert.deepEqual(r.messages[1], {
      role: 'user',
      content: [
        { type: 'text', text: 'see' },
        { type: 'image', url: 'https://x/y.png', detail: 'low' },
      ],
    });
    assert.deepEqual(r.messages[2], {
      role: 'assistant',
      content: null,
      toolCalls: [{ id: 'c1', name: 'f', arguments: '{}' }],
      reasoning: null,
    });
  });

  it('rejects unknown or invalid fields naming the param', () => {
    rejects({ ...base, functions: [] }, 'functions');
    rejects({ ...base, temperature: 2.5 }, 'temperature');
    rejects({ ...base, n: 0 }, 'n');
    rejects({ ...base, top_logprobs: 3 }, 'top_logprobs');
    rejects({ ...base, stream_options: { include_usage: true } }, 'stream_options');
    rejects({ ...base, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop');
    rejects({ ...base, logit_bias: { x: 1 } }, 'logit_bias');
    rejects({ model: 'm', messages: [] }, 'messages');
    rejects({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role');
    rejects(
      { model: 'm', messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://x' } }] }] },
      'messages[0].content[0].type',
    );
    rejects(
      {
        model: 'm',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }],
      },
      'messages[0].content[0].image_url.url',
    );
    rejects({ ...base, tool_choice: 'required' }, 'tool_choice');
    rejects(
      {
        ...base,
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'function', function: { name: 'g' } },
      },
      'tool_choice.function.name',
    );
    rejects(
      { ...base, response_format: { type: 'json_schema', json_schema: { schema: {} } } },
      'response_format.json_schema.name',
    );
    rejects({ ...base, response_format: { type: 'xml' } }, 'response_format.type');
  });
});

describe('tool-call syntax detection', () => {
  it('reads the family from the template', () => {
    assert.equal(detectToolSyntax('{{ "<tool_call>" }}').family, 'hermes');
    assert.equal(detectToolSyntax('[TOOL_CALLS] {{ x }}').family, 'mistral');
    assert.equal(detectToolSyntax('<|python_tag|>{{ x }}').family, 'llama3');
    assert.equal(detectToolSyntax(null).family, 'hermes');
    assert.equal(templateThinks('{{ "<think>" }}'), true);
  });
});

describe('ChatTemplate helpers', () => {
  it('renders templates that call raise_exception and strftime_now (provided by @huggingface/jinja)', async () => {
    const { ChatTemplate } = await import('../../src/chat/index.js');
    const t = new ChatTemplate(
      "{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}{{ strftime_now('%d %b %Y') }}",
    );
    const options = { bosToken: null, eosToken: null, tools: [] };
    assert.match(
      t.render([{ role: 'user', content: [{ type: 'text', text: 'x' }] }], options),
      /^\d{2} [A-Z][a-z]{2} \d{4}$/,
    );
    assert.throws(
      () => t.render([{ role: 'system', content: [{ type: 'text', text: 'x' }] }], options),
      /first must be user/,
    );
  });
});
