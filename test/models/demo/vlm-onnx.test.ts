import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AutoModelForImageTextToText,
  AutoProcessor,
  env,
  RawImage,
  type PreTrainedModel,
  type Processor,
  type Tensor,
} from '@huggingface/transformers';
import { buildVlmTokenizer, generateVlmOnnx } from '../../../src/models/demo/vlm-onnx.js';
import { tokenId } from '../../../src/models/demo/tokenizer.js';

env.allowRemoteModels = false;
const seed = 5;
const imageToken = tokenId(buildVlmTokenizer(), '<image_soft_token>');

/** A deterministic RGB test image whose content depends on `variant`. */
function image(variant: number, width = 40, height = 30): RawImage {
  const pixels = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * (7 + variant * 13) + variant * 61) % 256;
  return new RawImage(pixels, width, height, 3);
}

function count(ids: Tensor, id: number): number {
  return (ids.tolist() as bigint[][]).flat().filter((x) => x === BigInt(id)).length;
}

describe('demo vision-language ONNX folder (Gemma 3 layout)', () => {
  let root: string;
  let dir: string;
  let processor: Processor;
  let model: PreTrainedModel;

  const prompt = (images: number): string =>
    processor.apply_chat_template(
      [
        {
          role: 'user',
          content: [
            ...Array.from({ length: images }, () => ({ type: 'image' })),
            { type: 'text', text: 'What is in the picture?' },
          ],
        },
      ] as never,
      { add_generation_prompt: true },
    ) as string;

  const lastLogits = async (inputs: Record<string, unknown>): Promise<Float32Array> => {
    const { logits } = (await model(inputs)) as { logits: Tensor };
    const vocab = logits.dims.at(-1) ?? 0;
    return (logits.data as Float32Array).slice(-vocab);
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'atelier-vlm-'));
    dir = await generateVlmOnnx(join(root, 'a'), seed);
    processor = await AutoProcessor.from_pretrained(dir, { local_files_only: true });
    model = await AutoModelForImageTextToText.from_pretrained(dir, { local_files_only: true });
  });
  after(async () => {
    await model?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('is byte-identical for a seed', async () => {
    const other = await generateVlmOnnx(join(root, 'b'), seed);
    const names = (await readdir(dir, { recursive: true })).filter((n) => n.includes('.')).sort();
    assert.deepEqual(names, [
      'chat_template.jinja',
      'config.json',
      'generation_config.json',
      'onnx/decoder_model_merged.onnx',
      'onnx/embed_tokens.onnx',
      'onnx/vision_encoder.onnx',
      'preprocessor_config.json',
      'processor_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    for (const name of names)
      assert.ok((await readFile(join(dir, name))).equals(await readFile(join(other, name))), name);
  });

  it('expands each image into its soft tokens through the Gemma 3 processor', async () => {
    const text = prompt(1);
    assert.ok(
      text.includes(
        '<start_of_turn>user\n<start_of_image>What is in the picture?<end_of_turn>\n<start_of_turn>model\n',
      ),
    );
    const inputs = await processor(text, image(0));
    assert.deepEqual((inputs.pixel_values as Tensor).dims, [1, 3, 64, 64]);
    assert.equal(count(inputs.input_ids as Tensor, imageToken), 16);
  });

  it('runs the vision encoder into the text embedding space', async () => {
    const inputs = await processor(prompt(1), image(0));
    const features = (await (model as unknown as { encode_image(i: object): Promise<Tensor> }).encode_image({
      pixel_values: inputs.pixel_values,
    })) as Tensor;
    assert.deepEqual(features.dims, [1, 16, 64]);
    assert.ok((features.data as Float32Array).every(Number.isFinite));
  });

  it('generates tokens after an image prompt', async () => {
    const inputs = await processor(prompt(1), image(0));
    const out = (await model.generate({ ...inputs, max_new_tokens: 6, do_sample: false })) as Tensor;
    const length = (inputs.input_ids as Tensor).dims[1] ?? 0;
    assert.equal(out.dims[1], length + 6);
    const generated = ((out.tolist() as bigint[][])[0] ?? []).slice(length).map(Number);
    assert.equal(typeof processor.decode(generated, { skip_special_tokens: false }), 'string');
  });

  it('lets the image change the logits (image parts reach the vision encoder)', async () => {
    const text = prompt(1);
    const a = await lastLogits(await processor(text, image(0)));
    const again = await lastLogits(await processor(text, image(0)));
    const b = await lastLogits(await processor(text, image(1)));
    assert.deepEqual(a, again);
    const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? 0))), 0);
    assert.ok(diff > 1e-3, `logits moved by only ${diff}`);
  });

  it('takes several images in one prompt', async () => {
    const inputs = await processor(prompt(2), [image(0), image(2, 50, 50)]);
    assert.deepEqual((inputs.pixel_values as Tensor).dims, [2, 3, 64, 64]);
    assert.equal(count(inputs.input_ids as Tensor, imageToken), 32);
    const out = (await model.generate({ ...inputs, max_new_tokens: 3, do_sample: false })) as Tensor;
    assert.equal(out.dims[1], ((inputs.input_ids as Tensor).dims[1] ?? 0) + 3);
  });
});
