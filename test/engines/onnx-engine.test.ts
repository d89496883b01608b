import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import sharp from 'sharp';
import { basename, dirname } from 'node:path';
import { AutoModelForImageTextToText, AutoProcessor, RawImage, env, type Tensor } from '@huggingface/transformers';
import { ChatTemplate } from '../../src/chat/index.js';
import { OnnxEngine, type GenerateRequest } from '../../src/engines/index.js';
import { processorInputs } from '../../src/engines/onnx/processor-inputs.js';
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

for (const name of ['atelier-demo-vlm', 'atelier-demo-smolvlm', 'atelier-demo-qwen2vl']) {
  it(`onnx VLM ${name}: images reach the vision encoder; greedy steps equal transformers.js generate`, async () => {
    const { path, dir } = await demo(name);
    const engine = new OnnxEngine({ threads: 1 });
    try {
      const model = await engine.load(path, { contextSize: 1024 });
      assert.equal(model.info.vision, true);
      const image = async (r: number, g: number, b: number) => {
        const { data, info } = await sharp({
          create: { width: 32, height: 24, channels: 4, background: { r, g, b, alpha: 1 } },
        })
          .raw()
          .toBuffer({ resolveWithObject: true });
        return { width: info.width, height: info.height, rgba: new Uint8Array(data), maxSide: null };
      };
      const template = new ChatTemplate(model.info.chatTemplate ?? '');
      const text = template.render(
        [
          {
            role: 'user',
            content: [
              { type: 'image', url: '', detail: 'auto' },
              { type: 'image', url: '', detail: 'auto' },
              { type: 'text', text: 'Compare.' },
            ],
          },
        ],
        { bosToken: model.info.bosToken, eosToken: model.info.eosToken, tools: [] },
      );
      const sampling = {
        temperature: 0,
        topP: 1,
        topK: 0,
        minP: 0,
        seed: 1,
        frequencyPenalty: 0,
        presencePenalty: 0,
        logitBias: new Map(),
      };
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
      const pictures = [await image(255, 0, 0), await image(0, 0, 255)];
      const red = await answer(pictures);
      const green = await answer([await image(0, 255, 0), await image(0, 0, 255)]);
      assert.ok(red.prompt > 20, `two images expand to their soft tokens (prompt ${red.prompt})`);
      assert.notDeepEqual(red.logprobs, green.logprobs);
      // The step loop must be transformers.js generation, token for token (M-RoPE, image merging, KV cache).
      const bare = await transformersGreedy(path, text, pictures, red.out.length);
      assert.deepEqual(red.out, bare);
    } finally {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

for (const name of ['atelier-demo-vlm', 'atelier-demo-smolvlm', 'atelier-demo-qwen2vl']) {
  it(`onnx VLM ${name}: text-only prompts, with jump-forward batches equal to feeding the tokens one by one`, async () => {
    const { path, dir } = await demo(name);
    const engine = new OnnxEngine({ threads: 1 });
    try {
      const model = await engine.load(path, { contextSize: 1024 });
      const template = new ChatTemplate(model.info.chatTemplate ?? '');
      const text = template.render([{ role: 'user', content: [{ type: 'text', text: 'Write a JSON object.' }] }], {
        bosToken: model.info.bosToken,
        eosToken: model.info.eosToken,
        tools: [],
      });
      const sampling = {
        temperature: 0,
        topP: 1,
        topK: 0,
        minP: 0,
        seed: 1,
        frequencyPenalty: 0,
        presencePenalty: 0,
        logitBias: new Map(),
      };
      const forcedTokens = model.tokenize('{"a":', false);
      const run = async (request: Pick<GenerateRequest, 'forced' | 'mask'>) => {
        const out: { token: number; logprob: number }[] = [];
        const gen = model.generate({
          prompt: { text, images: [] },
          sampling,
          maxTokens: 3 + forcedTokens.length,
          topLogprobs: 0,
          ...request,
        });
        for await (const t of gen) out.push({ token: t.token, logprob: t.logprob ?? 0 });
        return out;
      };
      let once = true;
      const batched = await run({ forced: () => (once ? ((once = false), forcedTokens) : []) });
      assert.equal(batched.length, 3 + forcedTokens.length);
      const plan = [batched[0]!.token, ...forcedTokens];
      let step = 0;
      const stepwise = await run({
        mask: (words) => {
          const id = plan[step++];
          if (id === undefined) return false;
          words[id >>> 5] = (words[id >>> 5] ?? 0) | (1 << (id & 31));
          return true;
        },
      });
      assert.deepEqual(
        batched.map((t) => t.token),
        stepwise.map((t) => t.token),
      );
      // Tokens after the batch depend on its positions (M-RoPE for Qwen2-VL): their log-probabilities must agree.
      for (const [i, t] of batched.entries()) {
        if (i > forcedTokens.length) assert.ok(Math.abs(t.logprob - stepwise[i]!.logprob) < 1e-4, `${name} step ${i}`);
      }
    } finally {
      await engine.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** Greedy tokens from transformers.js `generate` itself on the same prompt and images. */
async function transformersGreedy(
  path: string,
  text: string,
  pictures: { width: number; height: number; rgba: Uint8Array }[],
  count: number,
): Promise<number[]> {
  env.allowRemoteModels = false;
  env.localModelPath = dirname(path);
  const id = basename(path);
  const processor = await AutoProcessor.from_pretrained(id, { local_files_only: true });
  const model = await AutoModelForImageTextToText.from_pretrained(id, {
    local_files_only: true,
    dtype: 'fp32',
    device: 'cpu',
  });
  try {
    const images = pictures.map((p) => new RawImage(new Uint8ClampedArray(p.rgba), p.width, p.height, 4));
    // One image per processor call where transformers.js drops the rest (Qwen2-VL): see processor-inputs.ts.
    const inputs = await processorInputs(processor, text, images);
    const output = (await model.generate({ ...inputs, max_new_tokens: count, do_sample: false })) as Tensor;
    const all = Array.from(output.data as BigInt64Array, Number);
    return all.slice(all.length - count);
  } finally {
    await model.dispose();
  }
}
