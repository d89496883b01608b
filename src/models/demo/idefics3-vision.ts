import { GraphBuilder } from './onnx-graph.js';
import { OnnxType } from './onnx-writer.js';
import { Prng } from './prng.js';
import { addSiglipTower, tokensPerImage, VisionWeights, type VisionShape } from './siglip-tower.js';

/**
 * Idefics3/SmolVLM's `vision_encoder.onnx`, with the I/O contract transformers.js drives:
 * inputs `pixel_values` [batch, frames, 3, size, size] (each image split into tiles plus a global view, batches
 * padded with all-zero frames) and `pixel_attention_mask` [batch, frames, size, size]; output `image_features`
 * [real frames, tokensPerImage, textEmbedding]. As in the Hugging Face model, all-zero padding frames are dropped
 * and a patch with no valid pixel is hidden from attention. The connector is Idefics3's pixel shuffle (each
 * pool×pool block of patches becomes one token of pool²·hidden features) followed by a bias-free projection.
 */
export function buildIdefics3VisionEncoder(shape: VisionShape, textEmbedding: number, seed: number): Uint8Array {
  const w = new VisionWeights(new Prng(seed).fork('vision'));
  const g = new GraphBuilder();
  const { imageSize: size, patchSize: patch, hidden: d, pool } = shape;
  const grid = size / patch;
  const pixels = g.input('pixel_values', OnnxType.FLOAT, ['batch_size', 'num_images', 3, size, size]);
  const pixelMask = g.input('pixel_attention_mask', OnnxType.BOOL, ['batch_size', 'num_images', size, size]);
  g.scope = 'vision.frames';
  const frames = g.reshape(pixels, [-1, 3, size, size]);
  const real = g.op1('Greater', [
    g.op1('ReduceMax', [g.op1('Abs', [frames])], { axes: [1, 2, 3], keepdims: 0 }),
    g.floats([0], []),
  ]);
  const kept = g.op1('Compress', [frames, real], { axis: 0 });
  const keptMask = g.op1('Compress', [g.reshape(pixelMask, [-1, size, size]), real], { axis: 0 });
  // A patch counts when any of its pixels is valid; invalid patches get -1e9 as attention keys.
  const patchMask = g.op1(
    'ReduceMax',
    [g.reshape(g.op1('Cast', [keptMask], { to: OnnxType.FLOAT }), [0, grid, patch, grid, patch])],
    { axes: [2, 4], keepdims: 0 },
  );
  const bias = g.op1('Mul', [
    g.op1('Sub', [g.reshape(patchMask, [0, 1, 1, grid * grid]), g.floats([1], [])]),
    g.floats([1e9], []),
  ]);
  const x = addSiglipTower(g, w, shape, kept, bias);
  g.scope = 'connector';
  // Pixel shuffle, step for step as Idefics3Connector does it: [n, h, w, d] → [n, h, w/p, d·p] → swap → … →
  // [n, (h/p)·(w/p), d·p²].
  const s1 = g.reshape(x, [0, grid, grid / pool, d * pool]);
  const s2 = g.reshape(g.op1('Transpose', [s1], { perm: [0, 2, 1, 3] }), [
    0,
    grid / pool,
    grid / pool,
    d * pool * pool,
  ]);
  const shuffled = g.reshape(g.op1('Transpose', [s2], { perm: [0, 2, 1, 3] }), [0, -1, d * pool * pool]);
  const projection = w.floats('modality_projection', textEmbedding * d * pool * pool, Math.sqrt(3 / (d * pool * pool)));
  const features = g.linear(
    shuffled,
    'connector.modality_projection.proj.weight',
    projection,
    textEmbedding,
    d * pool * pool,
  );
  g.output(features, 'image_features', OnnxType.FLOAT, ['num_real_images', tokensPerImage(shape), textEmbedding]);
  return g.encode(
    'atelier-demo-idefics3-vision-encoder',
    `atelier demo SigLIP-style tower + Idefics3 connector, seed ${seed}`,
  );
}
