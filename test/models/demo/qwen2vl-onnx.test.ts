import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AutoModelForImageTextToText,
  AutoProcessor,
  cat,
  env,
  RawImage,
  type PreTrainedModel,
  type Processor,
  type Tensor,
} from '@huggingface/transformers';
import { buildQwen2VlTokenizer, generateQwen2VlOnnx } from '../../../src/models/demo/qwen2vl-onnx.js';
import { tokenId } from '../../../src/models/demo/tokenizer.js';

env.allowRemoteModels = false;
const imagePad = tokenId(buildQwen2VlTokenizer(), '<|image_pad|>');

function image(variant: number, width: number, height: number): RawImage {
  const pixels = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * (3 + variant * 17) + variant * 29) % 256;
  return new RawImage(pixels, width, height, 3);
}

describe('demo Qwen2-VL ONNX folder', () => {
  let root: string;
  let dir: string;
  let processor: Processor;
  let model: PreTrainedModel;
  const prompt = (images: number): string =>
    processor.apply_chat_template(
      [
        {
          role: 'user',
          content: [...Array.from({ length: images }, () => ({ type: 'image' })), { type: 'text', text: 'Compare.' }],
        },
      ] as never,
      { add_generation_prompt: true },
    ) as string;
  const encodeImage = (inputs: Record<string, unknown>): Promise<Tensor> =>
    (model as unknown as { encode_image(i: object): Promise<Tensor> }).encode_image(inputs);
  // transformers.js's Qwen2-VL image processor takes one image per call (a list is read as video frames), so
  // several images are processed one by one and concatenated, as the Python processor does.
  const imageInputs = async (images: RawImage[]): Promise<{ pixel_values: Tensor; image_grid_thw: Tensor }> => {
    const parts = await Promise.all(
      images.map((im) => processor.image_processor!(im) as Promise<Record<string, Tensor>>),
    );
    return {
      pixel_values: cat(
        parts.map((p) => p.pixel_values as Tensor),
        0,
      ),
      image_grid_thw: cat(
        parts.map((p) => p.image_grid_thw as Tensor),
        0,
      ),
    };
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'atelier-qwen2vl-'));
    dir = await generateQwen2VlOnnx(join(root, 'a'), 6);
    processor = await AutoProcessor.from_pretrained(dir, { local_files_only: true });
    model = await AutoModelForImageTextToText.from_pretrained(dir, { local_files_only: true });
  });
  after(async () => {
    await model?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('is byte-identical for a seed', async () => {
    const other = await generateQwen2VlOnnx(join(root, 'b'), 6);
    const names = (await readdir(dir, { recursive: true })).filter((n) => n.includes('.')).sort();
    assert.ok(names.includes('onnx/vision_encoder.onnx') && names.includes('chat_template.jinja'));
    for (const name of names)
      assert.ok((await readFile(join(dir, name))).equals(await readFile(join(other, name))), name);
  });

  it('writes one <|image_pad|> per 2×2 patch block', async () => {
    assert.equal(
      prompt(1),
      '<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Compare.<|im_end|>\n<|im_start|>assistant\n',
    );
    const inputs = await processor(prompt(1), image(0, 100, 60));
    const [[t, h, w]] = (inputs.image_grid_thw as Tensor).tolist() as bigint[][] as [[bigint, bigint, bigint]];
    assert.deepEqual((inputs.pixel_values as Tensor).dims, [Number(t * h * w), 3 * 2 * 8 * 8]);
    const ids = ((inputs.input_ids as Tensor).tolist() as bigint[][])[0] ?? [];
    assert.equal(ids.filter((id) => id === BigInt(imagePad)).length, Number(t * h * w) / 4);
  });

  it('keeps each image to itself inside the vision encoder', async () => {
    const alone = await encodeImage(await imageInputs([image(0, 100, 60)]));
    const pair = await imageInputs([image(0, 100, 60), image(1, 40, 40)]);
    const both = await encodeImage(pair);
    const patches = (pair.image_grid_thw.tolist() as bigint[][]).map((thw) => Number(thw.reduce((x, y) => x * y, 1n)));
    assert.deepEqual(both.dims, [((patches[0] ?? 0) + (patches[1] ?? 0)) / 4, 64]);
    assert.equal(alone.dims[0], (patches[0] ?? 0) / 4);
    const a = alone.data as Float32Array;
    const b = (both.data as Float32Array).subarray(0, a.length);
    assert.ok(
      a.every((v, i) => Math.abs(v - (b[i] ?? NaN)) < 1e-5),
      'the first image must not see the second',
    );
  });

  it('generates with M-RoPE positions over two images, the same with and without the KV cache', async () => {
    const vision = await imageInputs([image(0, 100, 60), image(1, 40, 40)]);
    const blocks = (vision.image_grid_thw.tolist() as bigint[][]).map(
      (thw) => Number(thw.reduce((a, b) => a * b, 1n)) / 4,
    );
    let text = prompt(2);
    for (const count of blocks) text = text.replace('<|image_pad|>', '<|placeholder|>'.repeat(count));
    const inputs = { ...processor.tokenizer!(text.replaceAll('<|placeholder|>', '<|image_pad|>')), ...vision };
    const run = async (useCache: boolean): Promise<bigint[][]> =>
      (
        (await model.generate({ ...inputs, max_new_tokens: 6, do_sample: false, use_cache: useCache })) as Tensor
      ).tolist() as bigint[][];
    const cached = await run(true);
    assert.equal(cached[0]?.length, ((inputs.input_ids as Tensor).dims[1] ?? 0) + 6);
    assert.deepEqual(cached, await run(false));
  });

  it('lets the image change the logits', async () => {
    const last = async (variant: number): Promise<Float32Array> => {
      const { logits } = (await model(await processor(prompt(1), image(variant, 100, 60)))) as { logits: Tensor };
      return (logits.data as Float32Array).slice(-(logits.dims.at(-1) ?? 0));
    };
    const a = await last(0);
    assert.deepEqual(await last(0), a);
    const b = await last(2);
    assert.ok(a.some((v, i) => Math.abs(v - (b[i] ?? 0)) > 1e-3));
  });
});
