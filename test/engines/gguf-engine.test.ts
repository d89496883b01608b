import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { GgufEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';
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
