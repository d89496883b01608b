import { GraphBuilder } from './onnx-graph.js';
import { OnnxType } from './onnx-writer.js';
import { Prng } from './prng.js';
import { addSiglipTower, tokensPerImage, VisionWeights, type VisionShape } from './siglip-tower.js';

/**
 * Gemma 3's `vision_encoder.onnx`: the SigLIP-style tower, then Gemma 3's multimodal projector (average-pool the
 * patch grid, RMSNorm with `1 + w`, project into the text embedding space).
 * Input `pixel_values` [images, 3, size, size]; output `image_features` [images, tokensPerImage, textEmbedding].
 */
export function buildGemmaVisionEncoder(
  shape: VisionShape,
  textEmbedding: number,
  textRmsEps: number,
  seed: number,
): Uint8Array {
  const w = new VisionWeights(new Prng(seed).fork('vision'));
  const g = new GraphBuilder();
  const d = shape.hidden;
  const grid = shape.imageSize / shape.patchSize;
  const pixels = g.input('pixel_values', OnnxType.FLOAT, ['num_images', 3, shape.imageSize, shape.imageSize]);
  const x = addSiglipTower(g, w, shape, pixels);
  g.scope = 'projector';
  // Back to the patch grid, then pool: Gemma 3 turns 64×64 patches into 256 tokens the same way.
  const gridded = g.reshape(g.op1('Transpose', [x], { perm: [0, 2, 1] }), [0, d, grid, grid]);
  const pooled = g.op1('AveragePool', [gridded], {
    kernel_shape: [shape.pool, shape.pool],
    strides: [shape.pool, shape.pool],
  });
  const tokens = g.op1('Transpose', [g.reshape(pooled, [0, d, -1])], { perm: [0, 2, 1] });
  const normed = g.rmsNorm(
    tokens,
    'multi_modal_projector.mm_soft_emb_norm.weight',
    w.floats('soft_emb_norm', d, 0.1),
    textRmsEps,
    1,
  );
  const projection = w.floats('projection', textEmbedding * d, Math.sqrt(3 / d));
  const features = g.linear(normed, 'multi_modal_projector.mm_input_projection_weight', projection, textEmbedding, d);
  g.output(features, 'image_features', OnnxType.FLOAT, ['num_images', tokensPerImage(shape), textEmbedding]);
  return g.encode(
    'atelier-demo-vision-encoder',
    `atelier demo SigLIP-style vision tower + Gemma 3 projector, seed ${seed}`,
  );
}
