/** `parseResponsesRequest` and `itemsToMessages`: what each Responses field becomes, and the 400s naming the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  IMAGE_TOOL_NAME,
  InvalidRequestError,
  itemsToMessages,
  parseChatRequest,
  parseResponsesRequest,
  turnChatRequest,
} from '../../src/protocol/index.js';

const base = { model: 'm', input: 'hi' };

describe('parseResponsesRequest', () => {
  it('maps the Responses fields onto one chat turn', () => {
    const r = parseResponsesRequest({
      ...base,
      instructions: 'be brief',
      max_output_tokens: 9,
      temperature: 0.5,
      top_p: 0.9,
      seed: 4,
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true } },
      tools: [
        { type: 'function', name: 'f', parameters: { type: 'object' } },
        { type: 'image_generation', size: '32x32', steps: 2 },
      ],
      tool_choice: { type: 'image_generation' },
    });
    assert.equal(r.store, true, 'stored by default, as OpenAI');
    assert.equal(r.tools[0]?.strict, true, 'Responses function tools are strict by default');
    assert.deepEqual(r.imageTool, { body: { size: '32x32', steps: 2 } });
    const chat = turnChatRequest(r, itemsToMessages(r.instructions, r.input), {
      toolChoice: r.toolChoice,
      maxTokens: r.maxOutputTokens,
    });
    assert.deepEqual(chat.toolChoice, { name: IMAGE_TOOL_NAME });
    assert.deepEqual(
      chat.tools.map((t) => t.name),
      ['f', IMAGE_TOOL_NAME],
    );
    assert.deepEqual(chat.responseFormat, { type: 'json_schema', name: 'x', schema: { type: 'object' }, strict: true });
    assert.equal(chat.maxTokens, 9);
    assert.deepEqual(
      [chat.sampling.temperature, chat.sampling.topP, chat.sampling.seed, chat.parallelToolCalls],
      [0.5, 0.9, 4, false],
    );
    assert.deepEqual(
      chat.messages.map((m) => m.role),
      ['system', 'user'],
    );
  });

  it('turns calls and their outputs into assistant + tool messages', () => {
    const r = parseResponsesRequest({
      ...base,
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'a' },
            { type: 'input_image', image_url: 'data:image/png;base64,AA' },
          ],
        },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'f', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
        { type: 'image_generation_call', id: 'ig_1', revised_prompt: 'a dog', result: 'AAAA', status: 'completed' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'done' }] },
      ],
    });
    const messages = itemsToMessages(null, r.input);
    assert.deepEqual(
      messages.map((m) => m.role),
      ['user', 'assistant', 'tool', 'tool', 'assistant', 'tool', 'assistant'],
    );
    assert.deepEqual(messages[1], {
      role: 'assistant',
      content: null,
      reasoning: null,
      toolCalls: [
        { id: 'c1', name: 'f', arguments: '{}' },
        { id: 'c2', name: 'f', arguments: '{"a":1}' },
      ],
    });
    assert.deepEqual(messages[3], { role: 'tool', content: 'two', toolCallId: 'c2' });
    assert.deepEqual(messages[4], {
      role: 'assistant',
      content: null,
      reasoning: null,
      toolCalls: [{ id: 'ig_1', name: IMAGE_TOOL_NAME, arguments: '{"prompt":"a dog"}' }],
    });
  });

  const rejects: [string, Record<string, unknown>, string][] = [
    ['unknown field', { reasoning: {} }, 'reasoning'],
    ['empty input', { input: [] }, 'input'],
    [
      'a file input with neither file_data nor file_id',
      { input: [{ role: 'user', content: [{ type: 'input_file', filename: 'a.pdf' }] }] },
      'input[0].content[0]',
    ],
    [
      'a file input that is not a PDF data URL',
      { input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'data:text/plain;base64,eA==' }] }] },
      'input[0].content[0].file_data',
    ],
    [
      'image by file id',
      { input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'f' }] }] },
      'input[0].content[0].image_url',
    ],
    [
      'images outside user messages',
      { input: [{ role: 'system', content: [{ type: 'input_image', image_url: 'data:,' }] }] },
      'input[0].content[0].type',
    ],
    ['bad format name', { text: { format: { type: 'json_schema', name: 'a b', schema: {} } } }, 'text.format.name'],
    ['nested tool shape', { tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools[0].function'],
    ['tool named like the built-in', { tools: [{ type: 'function', name: IMAGE_TOOL_NAME }] }, 'tools[0].name'],
    ['bad image size', { tools: [{ type: 'image_generation', size: '30x30' }] }, 'tools[0].size'],
    ['jpeg output', { tools: [{ type: 'image_generation', output_format: 'jpeg' }] }, 'tools[0].output_format'],
    ['image choice without the tool', { tool_choice: { type: 'image_generation' } }, 'tool_choice'],
    [
      'unknown named tool',
      { tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'function', name: 'g' } },
      'tool_choice.name',
    ],
    ['zero cap', { max_output_tokens: 0 }, 'max_output_tokens'],
    ['auto truncation', { truncation: 'auto' }, 'truncation'],
  ];
  for (const [name, body, param] of rejects) {
    it(`400 on ${name}, naming ${param}`, () => {
      assert.throws(
        () => parseResponsesRequest({ ...base, ...body }),
        (e: unknown) => e instanceof InvalidRequestError && e.param === param,
      );
    });
  }
});

describe('image_generation in chat completions (atelier extension)', () => {
  const messages = [{ role: 'user', content: 'draw' }];
  it('adds the function, forces it by tool_choice, keeps function-tool paths', () => {
    const r = parseChatRequest({
      model: 'm',
      messages,
      tools: [
        { type: 'function', function: { name: 'f' } },
        { type: 'image_generation', seed: 3 },
      ],
      tool_choice: { type: 'image_generation' },
    });
    assert.deepEqual(r.imageTool, { body: { seed: 3 } });
    assert.deepEqual(
      r.tools.map((t) => t.name),
      ['f', IMAGE_TOOL_NAME],
    );
    assert.deepEqual(r.toolChoice, { name: IMAGE_TOOL_NAME });
    assert.equal(parseChatRequest({ model: 'm', messages }).imageTool, undefined);
  });
  it('refuses n > 1 and a second image tool', () => {
    assert.throws(
      () => parseChatRequest({ model: 'm', messages, n: 2, tools: [{ type: 'image_generation' }] }),
      (e: unknown) => e instanceof InvalidRequestError && e.param === 'n',
    );
    assert.throws(
      () =>
        parseChatRequest({ model: 'm', messages, tools: [{ type: 'image_generation' }, { type: 'image_generation' }] }),
      (e: unknown) => e instanceof InvalidRequestError && e.param === 'tools',
    );
  });
});
