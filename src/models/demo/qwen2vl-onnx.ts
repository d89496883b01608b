import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { qwen2VlTemplate } from './chat-template.js';
import { writeHfTokenizerFiles } from './hf-tokenizer.js';
import { llamaStyle, type DecoderStyle } from './llama-graph.js';
import { llamaConfig, writeJson } from './llama-onnx.js';
import { demoLlamaShape, llamaWeights, type LlamaShape } from './llama-weights.js';
import { buildQwen2VlVisionEncoder, demoQwen2VlVisionShape, type Qwen2VlVisionShape } from './qwen2vl-vision.js';
import { buildDemoTokenizer, tokenId, type DemoTokenizer } from './tokenizer.js';
import { writeVlmTextGraphs } from './vlm-text.js';

/**
 * The third demo VLM, laid out as a transformers.js Qwen2-VL (`Qwen2VLForConditionalGeneration`) export. Its
 * processor resizes each image to multiples of 16 pixels within a pixel budget, flattens it into 8-pixel patches
 * (two frames each), and writes one `<|image_pad|>` per 2×2 patch block between `<|vision_start|>` and
 * `<|vision_end|>`. transformers.js computes 3-D M-RoPE positions (temporal, height, width) for the decoder. The
 * template is the text models' ChatML with Hermes tools, plus image parts.
 */

/** Qwen2-VL's vision tokens, added after the shared ones. */
const qwenVisionTokens = ['<|vision_start|>', '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>'].map(
  (content) => ({ content, special: true }),
);

/** M-RoPE split of the 8 rotary frequencies of a 16-wide head: 2 temporal, 3 height, 3 width (Qwen2-VL: 16/24/24 of 64). */
const qwenStyle: DecoderStyle = { ...llamaStyle, mropeSection: [2, 3, 3] };

/** The Qwen2-VL demo's tokenizer: the shared vocabulary (ChatML, tool tags) plus the vision tokens. */
export function buildQwen2VlTokenizer(): DemoTokenizer {
  return buildDemoTokenizer({ extraTokens: qwenVisionTokens });
}

function qwen2VlConfig(
  shape: LlamaShape,
  vision: Qwen2VlVisionShape,
  tokenizer: DemoTokenizer,
): Record<string, unknown> {
  const text = llamaConfig(shape, tokenizer);
  return {
    ...text,
    architectures: ['Qwen2VLForConditionalGeneration'],
    model_type: 'qwen2_vl',
    eos_token_id: [tokenId(tokenizer, '<|im_end|>'), tokenId(tokenizer, '<|endoftext|>')],
    rope_scaling: { type: 'mrope', mrope_section: qwenStyle.mropeSection },
    image_token_id: tokenId(tokenizer, '<|image_pad|>'),
    video_token_id: tokenId(tokenizer, '<|video_pad|>'),
    vision_start_token_id: tokenId(tokenizer, '<|vision_start|>'),
    vision_end_token_id: tokenId(tokenizer, '<|vision_end|>'),
    vision_config: {
      model_type: 'qwen2_vl',
      depth: vision.layers,
      embed_dim: vision.hidden,
      num_heads: vision.heads,
      mlp_ratio: vision.intermediate / vision.hidden,
      hidden_size: shape.embedding,
      in_channels: 3,
      patch_size: vision.patchSize,
      temporal_patch_size: vision.temporalPatchSize,
      spatial_merge_size: vision.pool,
      hidden_act: 'gelu_pytorch_tanh',
    },
  };
}

async function writeProcessorFiles(dir: string, vision: Qwen2VlVisionShape): Promise<void> {
  const factor = vision.patchSize * vision.pool;
  await writeJson(join(dir, 'preprocessor_config.json'), {
    processor_class: 'Qwen2VLProcessor',
    image_processor_type: 'Qwen2VLImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    // At least one 2×2 block of patches, at most imageSize² pixels.
    min_pixels: factor * factor,
    max_pixels: vision.imageSize * vision.imageSize,
    patch_size: vision.patchSize,
    temporal_patch_size: vision.temporalPatchSize,
    merge_size: vision.pool,
    resample: 3,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  });
  await writeFile(join(dir, 'chat_template.jinja'), `${qwen2VlTemplate}\n`);
}

/** Writes the Qwen2-VL demo folder into `targetDir` and returns it. */
export async function generateQwen2VlOnnx(targetDir: string, seed: number): Promise<string> {
  const tokenizer = buildQwen2VlTokenizer();
  const shape = demoLlamaShape(tokenizer.tokens.length);
  const vision = demoQwen2VlVisionShape;
  await mkdir(join(targetDir, 'onnx'), { recursive: true });
  await writeJson(join(targetDir, 'config.json'), qwen2VlConfig(shape, vision, tokenizer));
  await writeJson(join(targetDir, 'generation_config.json'), {
    bos_token_id: tokenId(tokenizer, tokenizer.bosToken),
    eos_token_id: [tokenId(tokenizer, '<|im_end|>'), tokenId(tokenizer, '<|endoftext|>')],
    pad_token_id: tokenId(tokenizer, tokenizer.padToken),
  });
  await writeHfTokenizerFiles(targetDir, tokenizer, {
    chatTemplate: qwen2VlTemplate,
    modelMaxLength: shape.contextLength,
    extra: { processor_class: 'Qwen2VLProcessor' },
  });
  await writeProcessorFiles(targetDir, vision);
  await writeVlmTextGraphs(join(targetDir, 'onnx'), shape, llamaWeights(shape, seed), {
    embedScale: 1,
    style: qwenStyle,
    name: 'atelier-demo-qwen2vl',
  });
  await writeFile(
    join(targetDir, 'onnx', 'vision_encoder.onnx'),
    buildQwen2VlVisionEncoder(vision, shape.embedding, seed),
  );
  return targetDir;
}
