import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { GgmlType } from 'node-llama-cpp';
import { GgufEngine, type EngineModel } from '../../src/engines/index.js';
import { demoModels, generateLlamaGguf } from '../../src/models/demo/index.js';
import { runEngineContract } from './engine-contract.js';

async function demoGguf(): Promise<{ path: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-gguf-'));
  const spec = demoModels.find((m) => m.name === 'atelier-demo-gguf');
  if (!spec) throw new Error('demo GGUF spec missing');
  return { path: await spec.generate(dir, { seed: 1 }), dir };
}

runEngineContract('gguf', async () => {
  const { path, dir } = await demoGguf();
  const engine = await GgufEngine.create({ threads: 1 });
  const model = await engine.load(path, { contextSize: 512, parallel: 2 });
  return {
    model,
    prompt: '<|im_start|>user\nWrite a JSON object.<|im_end|>\n<|im_start|>assistant\n',
    dispose: async () => {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

it('gguf: use after dispose throws', async () => {
  const { path, dir } = await demoGguf();
  const engine = await GgufEngine.create({ threads: 1 });
  const model = await engine.load(path, { contextSize: 256, parallel: 1 });
  await model.dispose();
  assert.throws(() => model.tokenize('x', false), /after dispose/);
  await engine.dispose();
  await assert.rejects(engine.load(path), /after dispose/);
  rmSync(dir, { recursive: true, force: true });
});

interface KvContext {
  kvCacheKeyType: GgmlType;
  kvCacheValueType: GgmlType;
  flashAttention: boolean;
}

async function maskedTokens(model: EngineModel, allowed: number[]): Promise<number[]> {
  const tokens: number[] = [];
  const generation = model.generate({
    prompt: { text: '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n', images: [] },
    maxTokens: 16,
    sampling: {
      temperature: 1,
      topP: 1,
      topK: 0,
      minP: 0,
      seed: 1,
      frequencyPenalty: 0,
      presencePenalty: 0,
      logitBias: new Map(),
    },
    mask: (words) => (allowed.forEach((id) => (words[id >>> 5]! |= 1 << (id & 31))), true),
  });
  for await (const t of generation) tokens.push(t.token);
  return tokens;
}

for (const kvCacheType of ['Q8_0', 'Q4_0'] as const) {
  it(`gguf: a ${kvCacheType} KV cache loads (with flash attention), generates and keeps the mask`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-gguf-kv-'));
    const engine = await GgufEngine.create({ threads: 1, kvCacheType });
    try {
      // 32-wide attention heads (64 wide, 2 heads): llama.cpp quantizes the cache per head, in blocks of 32.
      const model = await engine.load(
        await generateLlamaGguf(join(dir, 'wide-heads'), 1, { shape: { heads: 2, kvHeads: 1 } }),
        { contextSize: 256, parallel: 2 },
      );
      const context = (model as unknown as { context: KvContext }).context;
      assert.deepEqual(
        [context.kvCacheKeyType, context.kvCacheValueType, context.flashAttention],
        [GgmlType[kvCacheType], GgmlType[kvCacheType], true],
      );
      const tokens = await maskedTokens(model, [5, 40, 41, 300]);
      assert.equal(tokens.length, 16);
      assert.ok(tokens.every((t) => [5, 40, 41, 300].includes(t)));
      // The stock demo model's 16-wide heads cannot be quantized: it keeps an F16 cache instead of failing to load.
      const narrow = await engine.load(await generateLlamaGguf(join(dir, 'narrow-heads'), 1), {
        contextSize: 256,
        parallel: 1,
      });
      const f16 = (narrow as unknown as { context: KvContext }).context;
      assert.deepEqual([f16.kvCacheKeyType, f16.flashAttention], [GgmlType.F16, false]);
      assert.equal((await maskedTokens(narrow, [5])).length, 16);
    } finally {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
