import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import sharp from 'sharp';
import { OnnxEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';
import { runEngineContract } from './engine-contract.js';

async function demo(name: string): Promise<{ path: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-onnx-'));
  const spec = demoModels.find((m) => m.name === name);
  if (!spec) throw new Error(`demo ${name} missing`);
  return { path: await spec.generate(dir, { seed: 1 }), dir };
}

runEngineContract('onnx', async () => {
  const { path, dir } = await demo('atelier-demo-onnx');
  const engine = new OnnxEngine({ threads: 1 });
  const model = await engine.load(path, { contextSize: 512 });
  return {
    model,
    prompt: '<|im_start|>user\nWrite a JSON object.<|im_end|>\n<|im_start|>assistant\n',
    dispose: async () => {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

it('onnx VLM: image tokens reach the vision encoder and change the answer', async () => {
  const { path, dir } = await demo('atelier-demo-vlm');
  const engine = new OnnxEngine({ threads: 1 });
  try {
    const model = await engine.load(path, { contextSize: 512 });
    assert.equal(model.info.vision, true);
    const image = async (r: number, g: number, b: number) => {
      const { data, info } = await sharp({ create: { width: 32, height: 24, channels: 4, background: { r, g, b, alpha: 1 } } }).raw().toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, rgba: new Uint8Array(data), maxSide: null };
    };
    const text = '<start_of_turn>user\n<start_of_image><start_of_image>Compare.<end_of_turn>\n<start_of_turn>model\n';
    const sampling = { temperature: 0, topP: 1, topK: 0, minP: 0, seed: 1, frequencyPenalty: 0, presencePenalty: 0, logitBias: new Map() };
    const answer = async (images: Awaited<ReturnType<typeof image>>[]) => {
      const gen = model.generate({ prompt: { text, images }, sampling, maxTokens: 6, topLogprobs: 0 });
      const out: number[] = [];
      const logprobs: number[] = [];
      for await (const t of gen) {
        out.push(t.token);
        logprobs.push(t.logprob ?? 0);
      }
      return { out, logprobs, prompt: await gen.promptTokens };
    };
    const red = await answer([await image(255, 0, 0), await image(0, 0, 255)]);
    const green = await answer([await image(0, 255, 0), await image(0, 0, 255)]);
    assert.ok(red.prompt > 32, `two images expand to their soft tokens (prompt ${red.prompt})`);
    assert.notDeepEqual(red.logprobs, green.logprobs);
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
