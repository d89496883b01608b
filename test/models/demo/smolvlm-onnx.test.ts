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
  Tensor,
  type PreTrainedModel,
  type Processor,
} from '@huggingface/transformers';
import { buildSmolvlmTokenizer, generateSmolvlmOnnx } from '../../../src/models/demo/smolvlm-onnx.js';
import { tokenId } from '../../../src/models/demo/tokenizer.js';

env.allowRemoteModels = false;
const imageToken = tokenId(buildSmolvlmTokenizer(), '<image>');

function image(variant: number, width: number, height: number): RawImage {
  const pixels = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * (5 + variant * 11) + variant * 37) % 256;
  return new RawImage(pixels, width, height, 3);
}

describe('demo SmolVLM ONNX folder (Idefics3 layout)', () => {
  let root: string;
  let dir: string;
  let processor: Processor;
  let model: PreTrainedModel;
  const encodeImage = (inputs: Record<string, unknown>): Promise<Tensor> =>
    (model as unknown as { encode_image(i: object): Promise<Tensor> }).encode_image(inputs);
  const prompt = (): string =>
    processor.apply_chat_template(
      [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Describe it.' }] }] as never,
      {
        add_generation_prompt: true,
      },
    ) as string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'atelier-smolvlm-'));
    dir = await generateSmolvlmOnnx(join(root, 'a'), 4);
    processor = await AutoProcessor.from_pretrained(dir, { local_files_only: true });
    model = await AutoModelForImageTextToText.from_pretrained(dir, { local_files_only: true });
  });
  after(async () => {
    await model?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('is byte-identical for a seed', async () => {
    const other = await generateSmolvlmOnnx(join(root, 'b'), 4);
    const names = (await readdir(dir, { recursive: true })).filter((n) => n.includes('.')).sort();
    assert.ok(names.includes('onnx/vision_encoder.onnx') && names.includes('processor_config.json'));
    for (const name of names)
      assert.ok((await readFile(join(dir, name))).equals(await readFile(join(other, name))), name);
  });

  it('splits an image into tiles plus a global view, each with its soft tokens', async () => {
    assert.equal(prompt(), '<|im_start|>User:<image>Describe it.<end_of_utterance>\nAssistant:');
    const inputs = await processor(prompt(), image(0, 100, 60));
    assert.deepEqual((inputs.pixel_values as Tensor).dims, [1, 5, 3, 64, 64]);
    const ids = ((inputs.input_ids as Tensor).tolist() as bigint[][])[0] ?? [];
    assert.equal(ids.filter((id) => id === BigInt(imageToken)).length, 5 * 16);
    const text = processor.decode(ids.map(Number), { skip_special_tokens: false });
    assert.ok(text.includes('<row_2_col_2>') && text.includes('<global-img>'));
  });

  it('drops all-zero padding frames and honours pixel_attention_mask', async () => {
    const { pixel_values, pixel_attention_mask } = (await (
      processor as unknown as { image_processor(i: RawImage[][]): Promise<Record<string, Tensor>> }
    ).image_processor([[image(0, 100, 60)], [image(1, 200, 40)]])) as Record<string, Tensor>;
    assert.deepEqual(pixel_values?.dims, [2, 5, 3, 64, 64]); // the second image has 2 + 1 frames, padded to 5
    const features = await encodeImage({ pixel_values, pixel_attention_mask });
    assert.deepEqual(features.dims, [8, 16, 64]);
    const mask = pixel_attention_mask as Tensor;
    const halfMasked = new Tensor(
      'bool',
      Uint8Array.from(mask.data as Uint8Array, (v, i) => (i % 64 < 32 ? v : 0)),
      mask.dims,
    );
    const masked = await encodeImage({ pixel_values, pixel_attention_mask: halfMasked });
    const before = features.data as Float32Array;
    const after = masked.data as Float32Array;
    assert.ok(
      before.some((v, i) => Math.abs(v - (after[i] ?? 0)) > 1e-4),
      'masking patches must change the features',
    );
  });

  it('generates after an image prompt, and the image changes the logits', async () => {
    const a = await processor(prompt(), image(0, 100, 60));
    const out = (await model.generate({ ...a, max_new_tokens: 5, do_sample: false })) as Tensor;
    assert.equal(out.dims[1], ((a.input_ids as Tensor).dims[1] ?? 0) + 5);
    const last = async (inputs: Record<string, unknown>): Promise<Float32Array> => {
      const { logits } = (await model(inputs)) as { logits: Tensor };
      return (logits.data as Float32Array).slice(-(logits.dims.at(-1) ?? 0));
    };
    const first = await last(a);
    assert.deepEqual(await last(await processor(prompt(), image(0, 100, 60))), first);
    const other = await last(await processor(prompt(), image(3, 100, 60)));
    assert.ok(first.some((v, i) => Math.abs(v - (other[i] ?? 0)) > 1e-3));
  });
});
