import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { idefics3Template } from './chat-template.js';
import { writeHfTokenizerFiles } from './hf-tokenizer.js';
import { buildIdefics3VisionEncoder } from './idefics3-vision.js';
import { llamaStyle } from './llama-graph.js';
import { llamaConfig, writeJson } from './llama-onnx.js';
import { demoLlamaShape, llamaWeights, type LlamaShape } from './llama-weights.js';
import { demoVisionShape, siglipVisionConfig, tokensPerImage, type VisionShape } from './siglip-tower.js';
import { buildDemoTokenizer, tokenId, type AddedToken, type DemoTokenizer } from './tokenizer.js';
import { writeVlmTextGraphs } from './vlm-text.js';

/**
 * The second demo VLM, laid out as a transformers.js SmolVLM (`SmolVLMForConditionalGeneration`, the Idefics3
 * family) export. Its processor splits each image into up to `maxTiles`×`maxTiles` tiles plus a global view,
 * writes `<fake_token_around_image><row_r_col_c><image>…` per tile, and sends every tile through the vision encoder
 * with a `pixel_attention_mask`. The text side is the plain llama block with unscaled embeddings.
 */

/** Tiles per side at most: the processor resizes the longest edge to this many vision-encoder images. */
const maxTiles = 2;

/** Idefics3's image tokens (one row/column marker per possible tile) and SmolVLM's end-of-turn token. */
function smolvlmTokens(): AddedToken[] {
  const tiles: AddedToken[] = [];
  for (let r = 1; r <= maxTiles; r++)
    for (let c = 1; c <= maxTiles; c++) tiles.push({ content: `<row_${r}_col_${c}>`, special: true });
  return [
    { content: '<fake_token_around_image>', special: true },
    { content: '<image>', special: true },
    { content: '<global-img>', special: true },
    ...tiles,
    { content: '<end_of_utterance>', special: true },
  ];
}

/** The SmolVLM demo's tokenizer: the shared vocabulary plus Idefics3's tokens, ending turns with `<end_of_utterance>`. */
export function buildSmolvlmTokenizer(): DemoTokenizer {
  return buildDemoTokenizer({ extraTokens: smolvlmTokens(), eosToken: '<end_of_utterance>' });
}

function smolvlmConfig(shape: LlamaShape, vision: VisionShape, tokenizer: DemoTokenizer): Record<string, unknown> {
  const { architectures: _a, 'transformers.js_config': jsConfig, ...text } = llamaConfig(shape, tokenizer);
  const eos = [tokenId(tokenizer, '<end_of_utterance>'), tokenId(tokenizer, '<|endoftext|>')];
  return {
    architectures: ['SmolVLMForConditionalGeneration'],
    model_type: 'smolvlm',
    image_token_id: tokenId(tokenizer, '<image>'),
    scale_factor: vision.pool,
    bos_token_id: text.bos_token_id,
    eos_token_id: eos,
    pad_token_id: text.pad_token_id,
    tie_word_embeddings: false,
    text_config: { ...text, eos_token_id: eos },
    vision_config: siglipVisionConfig(vision, 'smolvlm_vision'),
    torch_dtype: 'float32',
    'transformers.js_config': jsConfig,
  };
}

async function writeProcessorFiles(dir: string, vision: VisionShape): Promise<void> {
  await writeJson(join(dir, 'preprocessor_config.json'), {
    processor_class: 'SmolVLMProcessor',
    image_processor_type: 'SmolVLMImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { longest_edge: vision.imageSize * maxTiles },
    max_image_size: { longest_edge: vision.imageSize },
    do_image_splitting: true,
    resample: 1,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
    do_pad: true,
  });
  await writeJson(join(dir, 'processor_config.json'), {
    processor_class: 'SmolVLMProcessor',
    image_seq_len: tokensPerImage(vision),
  });
  await writeFile(join(dir, 'chat_template.jinja'), `${idefics3Template}\n`);
}

/** Writes the SmolVLM demo folder into `targetDir` and returns it. */
export async function generateSmolvlmOnnx(targetDir: string, seed: number): Promise<string> {
  const tokenizer = buildSmolvlmTokenizer();
  const shape = demoLlamaShape(tokenizer.tokens.length);
  const vision = demoVisionShape;
  const eos = [tokenId(tokenizer, '<end_of_utterance>'), tokenId(tokenizer, '<|endoftext|>')];
  await mkdir(join(targetDir, 'onnx'), { recursive: true });
  await writeJson(join(targetDir, 'config.json'), smolvlmConfig(shape, vision, tokenizer));
  await writeJson(join(targetDir, 'generation_config.json'), {
    bos_token_id: tokenId(tokenizer, tokenizer.bosToken),
    eos_token_id: eos,
    pad_token_id: tokenId(tokenizer, tokenizer.padToken),
  });
  await writeHfTokenizerFiles(targetDir, tokenizer, {
    chatTemplate: idefics3Template,
    modelMaxLength: shape.contextLength,
    extra: { processor_class: 'SmolVLMProcessor' },
  });
  await writeProcessorFiles(targetDir, vision);
  await writeVlmTextGraphs(join(targetDir, 'onnx'), shape, llamaWeights(shape, seed), {
    embedScale: 1,
    style: llamaStyle,
    name: 'atelier-demo-smolvlm',
  });
  await writeFile(
    join(targetDir, 'onnx', 'vision_encoder.onnx'),
    buildIdefics3VisionEncoder(vision, shape.embedding, seed),
  );
  return targetDir;
}
