import { GraphBuilder } from './onnx-graph.js';
import { OnnxType } from './onnx-writer.js';
import { Prng } from './prng.js';
import { addEncoderLayer, VisionWeights, type VisionShape } from './siglip-tower.js';

/** Shape of the Qwen2-VL style vision encoder. */
export interface Qwen2VlVisionShape extends VisionShape {
  /** Frames per temporal patch (a still image is repeated this many times by the processor). */
  temporalPatchSize: number;
}

/**
 * The demo's Qwen2-VL vision shape: 8-pixel patches, 2 frames each, 2×2 patches merged per text token. Images keep
 * their aspect ratio, so `imageSize` is only the side of the pixel budget (at most imageSize² pixels).
 */
export const demoQwen2VlVisionShape: Qwen2VlVisionShape = {
  imageSize: 64,
  patchSize: 8,
  temporalPatchSize: 2,
  hidden: 32,
  heads: 2,
  intermediate: 64,
  layers: 1,
  pool: 2,
  layerNormEps: 1e-6,
};

/**
 * Additive bias [1, 1, patches, patches] letting a patch attend only to patches of its own image: the images'
 * patch counts (t·h·w from `grid_thw`) mark where each image ends in the flat patch list.
 */
function sameImageBias(g: GraphBuilder, pixels: string, gridThw: string): string {
  const ends = g.op1('CumSum', [g.op1('ReduceProd', [gridThw], { axes: [1], keepdims: 0 }), g.ints([0], [])]);
  const count = g.op1('Gather', [g.op1('Shape', [pixels]), g.ints([0], [])], { axis: 0 });
  const index = g.op1('Range', [g.ints([0], []), count, g.ints([1], [])]);
  const passed = g.op1('GreaterOrEqual', [g.op1('Unsqueeze', [index, g.ints([1])]), g.op1('Unsqueeze', [ends, g.ints([0])])]);
  const imageOf = g.op1('ReduceSum', [g.op1('Cast', [passed], { to: OnnxType.INT64 }), g.ints([1])], { keepdims: 0 });
  const same = g.op1('Equal', [g.op1('Unsqueeze', [imageOf, g.ints([1])]), g.op1('Unsqueeze', [imageOf, g.ints([0])])]);
  return g.op1('Unsqueeze', [g.op1('Where', [same, g.floats([0], []), g.floats([-1e9], [])]), g.ints([0, 1])]);
}

/**
 * Qwen2-VL's `vision_encoder.onnx` with the I/O contract transformers.js drives: inputs `pixel_values`
 * [patches, 3·t·p·p] (the processor's flattened patches, each 2×2 merge block contiguous) and `grid_thw`
 * [images, 3]; output `image_features` [patches / 4, textEmbedding]. A linear patch embedding (Qwen2-VL's Conv3d
 * with stride = kernel), ViT layers with attention confined to each image, then Qwen2-VL's patch merger
 * (LayerNorm, concatenate each 2×2 block, two-layer GELU MLP). Unlike the real tower it has no 2-D rotary inside
 * the ViT; the text side's M-RoPE still gives image tokens their height/width positions.
 */
export function buildQwen2VlVisionEncoder(shape: Qwen2VlVisionShape, textEmbedding: number, seed: number): Uint8Array {
  const w = new VisionWeights(new Prng(seed).fork('vision'));
  const g = new GraphBuilder();
  const d = shape.hidden;
  const patchValues = 3 * shape.temporalPatchSize * shape.patchSize ** 2;
  const merged = d * shape.pool ** 2;
  const pixels = g.input('pixel_values', OnnxType.FLOAT, ['num_patches', patchValues]);
  const gridThw = g.input('grid_thw', OnnxType.INT64, ['num_images', 3]);
  g.scope = 'vision.embeddings';
  const embed = w.floats('patch_embed', d * patchValues, Math.sqrt(3 / patchValues));
  let x = g.op1('Unsqueeze', [g.linear(pixels, 'visual.patch_embed.proj.weight', embed, d, patchValues), g.ints([0])]);
  const bias = sameImageBias(g, pixels, gridThw);
  for (let i = 0; i < shape.layers; i++) x = addEncoderLayer(g, w, shape, x, i, bias);
  g.scope = 'merger';
  const normed = w.layerNorm(g, g.op1('Squeeze', [x, g.ints([0])]), 'visual.merger.ln_q', d, shape.layerNormEps);
  const blocks = g.reshape(normed, [-1, merged]);
  const hidden = g.gelu(w.linear(g, blocks, 'visual.merger.mlp.0', merged, merged));
  const features = w.linear(g, hidden, 'visual.merger.mlp.2', textEmbedding, merged);
  g.output(features, 'image_features', OnnxType.FLOAT, ['num_tokens', textEmbedding]);
  return g.encode('atelier-demo-qwen2vl-vision-encoder', `atelier demo Qwen2-VL style vision encoder, seed ${seed}`);
}
