/**
 * `ChatModelPool` context sizes: one global value, overridden per model name, each capped at the model's trained
 * length (the demo GGUF declares 4,096 tokens in its metadata).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ChatModelPool } from '../../src/chat/index.js';
import { GgufEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';

let dir: string;
let path: string;
let pool: ChatModelPool;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atelier-pool-'));
  path = await demoModels.find((m) => m.name === 'atelier-demo-gguf')!.generate(dir, { seed: 1 });
  pool = new ChatModelPool({
    engines: { gguf: () => GgufEngine.create({ threads: 1 }) },
    contextSize: 512,
    contextSizes: { small: 256, huge: 1_000_000 },
    parallel: 1,
  });
});
after(async () => {
  await pool.dispose();
  rmSync(dir, { recursive: true, force: true });
});

it('loads each model with its own context size, else the global one, never beyond the trained length', async () => {
  const size = async (name: string) => (await pool.get({ name, format: 'gguf', path })).engine.info;
  assert.equal((await size('small')).contextSize, 256);
  assert.equal((await size('other')).contextSize, 512);
  const huge = await size('huge');
  assert.equal(huge.trainContextSize, 4096);
  assert.equal(huge.contextSize, 4096);
  // A model named like an Object.prototype key gets the global size, not an inherited property.
  assert.equal((await size('constructor')).contextSize, 512);
});
