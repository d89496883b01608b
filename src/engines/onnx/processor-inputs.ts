/**
 * Runs a transformers.js processor on a prompt and its images. Qwen2-VL-style processors (one `image_pad` token per
 * image, expanded by the image's patch grid) process only the first image of a list in transformers.js 4.3.1, so
 * for those each image goes through the image processor alone and the results are concatenated before the text is
 * expanded, exactly as the processor would for one image.
 */
import { cat, type Processor, type Tensor } from '@huggingface/transformers';

interface GridImageProcessor {
  (image: unknown): Promise<{ pixel_values: Tensor; image_grid_thw: Tensor }>;
  config: { merge_size?: number };
}

interface GridProcessor {
  image_processor: GridImageProcessor;
  tokenizer: (text: string, options: object) => Record<string, unknown>;
  constructor: { image_token?: string };
}

/** Model inputs (`input_ids`, `attention_mask`, pixel tensors …) for `text` with `images` in order. */
export async function processorInputs(
  processor: Processor,
  text: string,
  images: unknown[],
): Promise<Record<string, unknown>> {
  const grid = processor as unknown as GridProcessor;
  const token = grid.constructor.image_token;
  if (images.length < 2 || !token || !grid.image_processor) {
    return (await processor(text, images, { add_special_tokens: false })) as Record<string, unknown>;
  }
  const parts = [];
  for (const image of images) parts.push(await grid.image_processor(image));
  const thw = parts.map((p) => (p.image_grid_thw.tolist() as bigint[][])[0] as bigint[]);
  const merge = (grid.image_processor.config.merge_size ?? 1) ** 2;
  let index = 0;
  let expanded = text;
  while (expanded.includes(token) && index < thw.length) {
    const patches = Number((thw[index++] as bigint[]).reduce((a, b) => a * b, 1n));
    expanded = expanded.replace(token, '<|placeholder|>'.repeat(Math.floor(patches / merge)));
  }
  expanded = expanded.replaceAll('<|placeholder|>', token);
  return {
    ...grid.tokenizer(expanded, { add_special_tokens: false }),
    pixel_values: cat(
      parts.map((p) => p.pixel_values),
      0,
    ),
    image_grid_thw: cat(
      parts.map((p) => p.image_grid_thw),
      0,
    ),
  };
}
