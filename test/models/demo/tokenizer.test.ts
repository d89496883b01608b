import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { chatmlToolsTemplate } from '../../../src/models/demo/chat-template.js';
import { writeHfTokenizerFiles } from '../../../src/models/demo/hf-tokenizer.js';
import { buildDemoTokenizer, byteToUnicode, tokenId } from '../../../src/models/demo/tokenizer.js';

env.allowRemoteModels = false;

describe('demo tokenizer', () => {
  const tokenizer = buildDemoTokenizer();
  let dir: string;
  let hf: PreTrainedTokenizer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-tok-'));
    await writeHfTokenizerFiles(dir, tokenizer, { chatTemplate: chatmlToolsTemplate, modelMaxLength: 4096 });
    hf = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('has every byte, a few hundred merges and the added tokens after them', () => {
    assert.equal(new Set(byteToUnicode()).size, 256);
    assert.deepEqual(tokenizer.tokens.slice(0, 256), byteToUnicode());
    assert.ok(tokenizer.merges.length >= 300, `only ${tokenizer.merges.length} merges`);
    assert.equal(tokenizer.tokens.length, new Set(tokenizer.tokens).size);
    for (const t of ['<|im_start|>', '<|im_end|>', '<|endoftext|>', '<tool_call>', '</tool_call>']) {
      assert.ok(tokenId(tokenizer, t) >= 256 + tokenizer.merges.length);
    }
  });

  it('learns multi-byte JSON punctuation tokens', () => {
    for (const t of ['{"', '":', '",', 'Ġ"']) assert.ok(tokenizer.tokens.includes(t), `missing ${t}`);
  });

  it('is deterministic', () => {
    assert.deepEqual(buildDemoTokenizer(), tokenizer);
  });

  it('round-trips through transformers.js with JSON split into multi-byte tokens', () => {
    const text = '{"name": "Ada", "tags": ["math"], "age": 36} — héllo ✓';
    const ids = hf.encode(text);
    assert.ok(ids.length < new TextEncoder().encode(text).length / 1.5, `${ids.length} tokens is too many`);
    assert.ok(ids.includes(tokenId(tokenizer, '{"')));
    assert.equal(hf.decode(ids), text);
  });

  it('keeps added tokens whole and hides only the special ones', () => {
    const ids = hf.encode('<|im_start|>user\n<tool_call>{}</tool_call><|im_end|>');
    assert.equal(ids[0], tokenId(tokenizer, '<|im_start|>'));
    assert.ok(ids.includes(tokenId(tokenizer, '<tool_call>')));
    assert.equal(ids.at(-1), tokenId(tokenizer, '<|im_end|>'));
    assert.equal(hf.decode(ids, { skip_special_tokens: true }), 'user\n<tool_call>{}</tool_call>');
  });

  it('renders tools and tool calls Hermes-style through the chat template', () => {
    const text = hf.apply_chat_template(
      [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }],
        },
        { role: 'tool', content: '{"celsius": 21}' },
      ] as never,
      {
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
        add_generation_prompt: true,
        tokenize: false,
      },
    ) as string;
    assert.match(text, /<tools>\n\{"type": "function", "function": \{"name": "get_weather"/);
    assert.match(
      text,
      /<\|im_start\|>assistant\n<tool_call>\n\{"name": "get_weather", "arguments": \{"city": "Paris"\}\}\n<\/tool_call><\|im_end\|>/,
    );
    assert.match(text, /<\|im_start\|>user\n<tool_response>\n\{"celsius": 21\}\n<\/tool_response><\|im_end\|>/);
    assert.ok(text.endsWith('<|im_start|>assistant\n'));
  });
});
