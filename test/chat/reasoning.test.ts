/** Reasoning templates: text inside `<think>` goes to `reasoning_content`, never to `content`. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { ChatModel, completeChat } from '../../src/chat/index.js';
import { GgufEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';

const thinkingTemplate =
  "{%- for m in messages %}{{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}";

it('a template that opens <think> sends the model text to reasoning_content', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-think-'));
  const engine = await GgufEngine.create({ threads: 1 });
  try {
    const path = await demoModels.find((m) => m.name === 'atelier-demo-gguf')!.generate(dir, { seed: 1 });
    const model = new ChatModel(
      'thinker',
      await engine.load(path, { contextSize: 512, parallel: 1 }),
      thinkingTemplate,
    );
    assert.equal(model.thinks, true);
    const r = await completeChat(model, {
      model: 'thinker',
      seed: 2,
      max_completion_tokens: 40,
      messages: [{ role: 'user', content: 'Why?' }],
      logit_bias: Object.fromEntries(model.vocabulary.eog.map((id) => [String(id), -100])),
    });
    const message = r.choices[0]!.message;
    assert.ok((message.reasoning_content ?? '').length > 0);
    assert.ok(!(message.content ?? '').includes('<think>'));
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
