import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gemmaVisionTemplate } from './chat-template.js';
import { writeHfTokenizerFiles } from './hf-tokenizer.js';
import type { DecoderStyle } from './llama-graph.js';
import { llamaConfig, writeJson } from './llama-onnx.js';
import { demoLlamaShape, llamaWeights, type LlamaShape } from './llama-weights.js';
import { buildDemoTokenizer, tokenId, type DemoTokenizer } from './tokenizer.js';
import { buildGemmaVisionEncoder } from './gemma-vision.js';
import { demoVisionShape, siglipVisionConfig, tokensPerImage, type VisionShape } from './siglip-tower.js';
import { writeVlmTextGraphs } from './vlm-text.js';

/**
 * The demo vision-language model, laid out as a transformers.js Gemma 3 (`Gemma3ForConditionalGeneration`) export:
 * `onnx/vision_encoder.onnx` (pixels → image soft tokens), `onnx/embed_tokens.onnx` (ids → scaled embeddings),
 * `onnx/decoder_model_merged.onnx` (embeddings + KV cache → logits), Gemma 3's processor files and turn template.
 * The processor expands each `<start_of_image>` into `<image_soft_token>` × tokens-per-image, and transformers.js
 * swaps those positions' embeddings for the vision encoder's output.
 */

/** Gemma 3's turn and image tokens, added after the shared ones. */
const gemmaTokens = [
  { content: '<start_of_turn>', special: true },
  { content: '<end_of_turn>', special: true },
  { content: '<start_of_image>', special: true },
  { content: '<image_soft_token>', special: true },
  { content: '<end_of_image>', special: true },
];

/** Gemma's choices on top of the llama block: RMSNorm scales by `1 + w`, the MLP gate uses tanh-GELU. */
const gemmaStyle: DecoderStyle = { normOffset: 1, activation: 'gelu_tanh' };

/** The VLM's tokenizer: the shared vocabulary plus Gemma 3's tokens, ending turns with `<end_of_turn>`. */
export function buildVlmTokenizer(): DemoTokenizer {
  return buildDemoTokenizer({ extraTokens: gemmaTokens, eosToken: '<end_of_turn>' });
}

function vlmConfig(shape: LlamaShape, vision: VisionShape, tokenizer: DemoTokenizer): Record<string, unknown> {
  const {
    architectures: _a,
    model_type: _m,
    hidden_act: _h,
    'transformers.js_config': jsConfig,
    ...text
  } = llamaConfig(shape, tokenizer);
  return {
    architectures: ['Gemma3ForConditionalGeneration'],
    model_type: 'gemma3',
    boi_token_index: tokenId(tokenizer, '<start_of_image>'),
    eoi_token_index: tokenId(tokenizer, '<end_of_image>'),
    image_token_index: tokenId(tokenizer, '<image_soft_token>'),
    mm_tokens_per_image: tokensPerImage(vision),
    bos_token_id: text.bos_token_id,
    eos_token_id: [tokenId(tokenizer, '<end_of_turn>'), tokenId(tokenizer, '<|endoftext|>')],
    pad_token_id: text.pad_token_id,
    text_config: {
      ...text,
      model_type: 'gemma3_text',
      hidden_activation: 'gelu_pytorch_tanh',
      query_pre_attn_scalar: text.head_dim,
      // Every layer attends globally: the window is the whole context.
      sliding_window: shape.contextLength,
    },
    vision_config: siglipVisionConfig(vision, 'siglip_vision_model'),
    torch_dtype: 'float32',
    'transformers.js_config': jsConfig,
  };
}

async function writeProcessorFiles(dir: string, vision: VisionShape): Promise<void> {
  await writeJson(join(dir, 'preprocessor_config.json'), {
    processor_class: 'Gemma3Processor',
    image_processor_type: 'Gemma3ImageProcessor',
    do_convert_rgb: true,
    do_resize: true,
    size: { height: vision.imageSize, width: vision.imageSize },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
    do_pan_and_scan: false,
  });
  await writeJson(join(dir, 'processor_config.json'), {
    processor_class: 'Gemma3Processor',
    image_seq_length: tokensPerImage(vision),
  });
  await writeFile(join(dir, 'chat_template.jinja'), `${gemmaVisionTemplate}\n`);
}

/** Writes the demo VLM folder into `targetDir` and returns it. Text weights match the demo llama of the same seed. */
export async function generateVlmOnnx(targetDir: string, seed: number): Promise<string> {
  const tokenizer = buildVlmTokenizer();
  const shape = demoLlamaShape(tokenizer.tokens.length);
  const vision = demoVisionShape;
  await mkdir(join(targetDir, 'onnx'), { recursive: true });
  await writeJson(join(targetDir, 'config.json'), vlmConfig(shape, vision, tokenizer));
  await writeJson(join(targetDir, 'generation_config.json'), {
    bos_token_id: tokenId(tokenizer, tokenizer.bosToken),
    eos_token_id: [tokenId(tokenizer, '<end_of_turn>'), tokenId(tokenizer, '<|endoftext|>')],
    pad_token_id: tokenId(tokenizer, tokenizer.padToken),
  });
  await writeHfTokenizerFiles(targetDir, tokenizer, {
    chatTemplate: gemmaVisionTemplate,
    modelMaxLength: shape.contextLength,
    extra: {
      boi_token: '<start_of_image>',
      image_token: '<image_soft_token>',
      eoi_token: '<end_of_image>',
      processor_class: 'Gemma3Processor',
    },
  });
  await writeProcessorFiles(targetDir, vision);
  const weights = llamaWeights(shape, seed);
  // Gemma multiplies token embeddings by √hidden; image features arrive unscaled from the projector.
  await writeVlmTextGraphs(join(targetDir, 'onnx'), shape, weights, {
    embedScale: Math.sqrt(shape.embedding),
    style: gemmaStyle,
    name: 'atelier-demo-vlm',
  });
  await writeFile(
    join(targetDir, 'onnx', 'vision_encoder.onnx'),
    buildGemmaVisionEncoder(vision, shape.embedding, shape.rmsEps, seed),
  );
  return targetDir;
}
