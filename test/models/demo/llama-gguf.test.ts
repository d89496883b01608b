import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AutoTokenizer, env } from '@huggingface/transformers';
import fc from 'fast-check';
import {
  getLlama,
  JinjaTemplateChatWrapper,
  LlamaChatSession,
  LlamaLogLevel,
  readGgufFileInfo,
  resolveChatWrapper,
  type Llama,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { chatmlToolsTemplate } from '../../../src/models/demo/chat-template.js';
import { writeHfTokenizerFiles } from '../../../src/models/demo/hf-tokenizer.js';
import { buildLlamaGguf, generateLlamaGguf } from '../../../src/models/demo/llama-gguf.js';
import { buildDemoTokenizer, tokenId } from '../../../src/models/demo/tokenizer.js';

env.allowRemoteModels = false;

describe('demo llama GGUF', () => {
  const tokenizer = buildDemoTokenizer();
  let dir: string;
  let path: string;
  let llama: Llama;
  let model: LlamaModel;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-gguf-'));
    path = await generateLlamaGguf(dir, 7);
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: path });
  });
  after(async () => {
    await model?.dispose();
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('is byte-identical for a seed and differs across seeds', async () => {
    const bytes = await readFile(path);
    assert.equal(bytes.subarray(0, 4).toString('ascii'), 'GGUF');
    assert.equal(bytes.readUInt32LE(4), 3);
    assert.ok(bytes.length < 1024 * 1024);
    assert.ok(buildLlamaGguf(7).equals(bytes));
    assert.ok(!buildLlamaGguf(8).equals(bytes));
  });

  it('declares the llama hyperparameters and tokenizer that llama.cpp reads', async () => {
    const info = await readGgufFileInfo(path, { readTensorInfo: true });
    const meta = info.metadata as unknown as Record<string, Record<string, unknown>>;
    assert.equal(meta.general?.architecture, 'llama');
    const l = meta.llama as {
      context_length: number;
      embedding_length: number;
      block_count: number;
      attention: Record<string, number>;
    };
    assert.deepEqual([l.context_length, l.embedding_length, l.block_count], [4096, 64, 2]);
    assert.deepEqual([l.attention.head_count, l.attention.head_count_kv], [4, 2]);
    assert.equal(info.tensorInfo?.length, 3 + 2 * 9);
    assert.equal(model.trainContextSize, 4096);
    assert.equal(model.tokens.eosString, '<|im_end|>');
    assert.equal(model.fileInfo.metadata.tokenizer.chat_template, chatmlToolsTemplate);
  });

  it('tokenizes exactly like transformers.js and detokenizes back byte for byte', async () => {
    await writeHfTokenizerFiles(dir, tokenizer, { chatTemplate: chatmlToolsTemplate, modelMaxLength: 4096 });
    const hf = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    // Fragments chosen to stress the pre-tokenizer: JSON punctuation, spaces before punctuation, digits, newlines,
    // contractions, multi-byte UTF-8 and added tokens.
    const pieces = [
      '{"',
      '":',
      '",',
      ' "',
      'name',
      ' the',
      'The',
      ' ',
      '  ',
      '\n',
      '\n\n',
      '\t',
      '\r\n',
      ' \n ',
      '123',
      '4.5',
      "'s",
      "'LL",
      'é',
      '✓',
      '🎉',
      '中文',
      '—',
      ' !',
      '?',
      ' {',
      '}',
      '[',
      ']',
      '<',
      '/',
      '\\',
      '<|im_end|>',
      '<tool_call>',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 16 }), (parts) => {
        const text = parts.join('');
        const ids = model.tokenize(text, true);
        assert.deepEqual(Array.from(ids), hf.encode(text), JSON.stringify(text));
        assert.equal(model.detokenize(ids, true), text);
      }),
      { numRuns: 300, seed: 42 },
    );
    assert.deepEqual(model.tokenize('<|im_start|>', true), [tokenId(tokenizer, '<|im_start|>')]);
  });

  it('picks up the chat template and its Hermes tool-call syntax', () => {
    const wrapper = resolveChatWrapper(model);
    assert.ok(wrapper instanceof JinjaTemplateChatWrapper);
    assert.equal(wrapper.settings.functions.call.prefix.toString(), '<tool_call>\n{"name": "');
    const { contextText } = wrapper.generateContextState({
      chatHistory: [
        { type: 'user', text: 'Hi' },
        { type: 'model', response: [] },
      ],
    });
    assert.equal(contextText.toString(), '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });

  it('generates tokens through LlamaChatSession', async () => {
    const context = await model.createContext({ contextSize: 512, threads: 1 });
    try {
      const session = new LlamaChatSession({ contextSequence: context.getSequence() });
      const generated: Token[] = [];
      const answer = await session.prompt('What is the weather in Paris?', {
        maxTokens: 12,
        onToken: (tokens) => generated.push(...tokens),
      });
      assert.ok(generated.length > 0 && generated.length <= 12);
      assert.equal(answer, model.detokenize(generated));
    } finally {
      await context.dispose();
    }
  });
});
