/**
 * Prompts are tokenised on a worker thread (`TokenizerThread`): the tokens must be exactly those of a whole-text
 * tokenisation by the model's own tokenizer, and `promptBytesPerToken` must bound every text's bytes by its tokens.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { GgufEngine, OnnxEngine, type Engine, type EngineModel } from '../../src/engines/index.js';
import { TokenizerThread } from '../../src/engines/tokenizer-thread.js';
import { demoModels } from '../../src/models/demo/index.js';

const texts = [
  '',
  'hello world',
  '<|im_start|>user\nWrite a JSON object.<|im_end|>\n<|im_start|>assistant\n',
  'naïve café 日本語 😀 \u0000\t\r\n  spaces   and {"json": [1, 2.5e-3, null]}',
  'a'.repeat(5000),
  Array.from({ length: 3000 }, (_, i) => `word${i} `).join('') + '<|im_end|>',
];

for (const [kind, name] of [
  ['gguf', 'atelier-demo-gguf'],
  ['onnx', 'atelier-demo-onnx'],
] as const) {
  describe(`tokenizer thread: ${kind}`, () => {
    let dir: string;
    let path: string;
    let engine: Engine;
    let model: EngineModel;
    let thread: TokenizerThread;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `atelier-tok-${kind}-`));
      const spec = demoModels.find((m) => m.name === name)!;
      path = await spec.generate(dir, { seed: 1 });
      engine = kind === 'gguf' ? await GgufEngine.create({ threads: 1 }) : new OnnxEngine({ threads: 1 });
      model = await engine.load(path, { contextSize: 256, parallel: 1 });
      thread = await TokenizerThread.start({ kind, path });
    });
    after(async () => {
      await thread.dispose();
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('gives the same tokens as a whole-text tokenisation on the main thread', async () => {
      for (const text of texts)
        assert.deepEqual(await thread.tokenize(text, true), model.tokenize(text, true), text.slice(0, 40));
    });

    it('agrees on random text, and its tokens never spell more than promptBytesPerToken bytes each', async () => {
      const bound = model.info.promptBytesPerToken;
      assert.ok(Number.isFinite(bound) && bound >= 4, `bound ${bound}`);
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (text) => {
          const tokens = await thread.tokenize(text, true);
          assert.deepEqual(tokens, model.tokenize(text, true));
          assert.ok(Buffer.byteLength(text) <= tokens.length * bound);
        }),
        { numRuns: 150, seed: 7 },
      );
    });

    it('counts prompt tokens through the thread, and a disposed thread refuses work', async () => {
      const text = texts[2]!;
      assert.equal(await model.countPromptTokens({ text, images: [] }), model.tokenize(text, true).length);
      const extra = await TokenizerThread.start({ kind, path });
      await extra.dispose();
      await assert.rejects(extra.tokenize('x', true), /disposed/);
    });
  });
}
