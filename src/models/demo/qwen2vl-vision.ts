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

/** Where each flat patch sits: its image, and its row and column within that image's patch grid (int64 [patches]). */
export interface PatchLayout {
  imageOf: string;
  row: string;
  column: string;
}

/**
 * Derives each patch's image, row and column from `grid_thw` alone. The images' patch counts (t·h·w) mark where
 * each image ends in the flat list. Within an image the processor orders patches by (t, h/2, w/2, 2, 2), so the
 * local index ℓ decodes as column = 2·((ℓ/4) mod w/2) + ℓ mod 2, row = 2·((ℓ/4)/(w/2) mod h/2) + (ℓ/2) mod 2.
 */
export function patchLayout(g: GraphBuilder, pixels: string, gridThw: string, merge: number): PatchLayout {
  const i64 = (v: number): string => g.ints([v], []);
  const counts = g.op1('ReduceProd', [gridThw], { axes: [1], keepdims: 0 });
  const ends = g.op1('CumSum', [counts, i64(0)]);
  const index = g.op1('Range', [i64(0), g.op1('Gather', [g.op1('Shape', [pixels]), i64(0)], { axis: 0 }), i64(1)]);
  const passed = g.op1('GreaterOrEqual', [
    g.op1('Unsqueeze', [index, g.ints([1])]),
    g.op1('Unsqueeze', [ends, g.ints([0])]),
  ]);
  const imageOf = g.op1('ReduceSum', [g.op1('Cast', [passed], { to: OnnxType.INT64 }), g.ints([1])], { keepdims: 0 });
  const perPatch = (values: string): string => g.op1('Gather', [values, imageOf], { axis: 0 });
  const local = g.op1('Sub', [index, perPatch(g.op1('Sub', [ends, counts]))]);
  const side = (axis: number): string =>
    g.op1('Div', [perPatch(g.op1('Gather', [gridThw, i64(axis)], { axis: 1 })), i64(merge)]);
  const [blocksHigh, blocksWide] = [side(1), side(2)];
  const block = g.op1('Div', [local, i64(merge * merge)]);
  const within = (v: string, n: string): string => g.op1('Mod', [v, n]);
  const column = g.op1('Add', [g.op1('Mul', [within(block, blocksWide), i64(merge)]), within(local, i64(merge))]);
  const blockRow = within(g.op1('Div', [block, blocksWide]), blocksHigh);
  const row = g.op1('Add', [
    g.op1('Mul', [blockRow, i64(merge)]),
    within(g.op1('Div', [local, i64(merge)]), i64(merge)),
  ]);
  return { imageOf, row, column };
}

/** Additive bias [1, 1, patches, patches] letting a patch attend only to patches of its own image. */
function sameImageBias(g: GraphBuilder, layout: PatchLayout): string {
  const same = g.op1('Equal', [
    g.op1('Unsqueeze', [layout.imageOf, g.ints([1])]),
    g.op1('Unsqueeze', [layout.imageOf, g.ints([0])]),
  ]);
  return g.op1('Unsqueeze', [g.op1('Where', [same, g.floats([0], []), g.floats([-1e9], [])]), g.ints([0, 1])]);
}

/**
 * Qwen2-VL's 2-D vision rotary, [patches, head_dim/2]: the first half of the frequencies turn with the patch's row,
 * the second half with its column (θ = 10000 over head_dim/2 dimensions, as VisionRotaryEmbedding does).
 */
function patchRotary(g: GraphBuilder, layout: PatchLayout, headDim: number): { cos: string; sin: string } {
  const dim = headDim / 2;
  const inv = Array.from({ length: dim / 2 }, (_, i) => Math.pow(10000, (-2 * i) / dim));
  const angles = (position: string): string =>
    g.op1('Mul', [
      g.op1('Unsqueeze', [g.op1('Cast', [position], { to: OnnxType.FLOAT }), g.ints([1])]),
      g.floats(inv, [1, inv.length]),
    ]);
  const both = g.op1('Concat', [angles(layout.row), angles(layout.column)], { axis: 1 });
  return { cos: g.op1('Cos', [both]), sin: g.op1('Sin', [both]) };
}

/**
 * Qwen2-VL's `vision_encoder.onnx` with the I/O contract transformers.js drives: inputs `pixel_values`
 * [patches, 3·t·p·p] (the processor's flattened patches, each 2×2 merge block contiguous) and `grid_thw`
 * [images, 3]; output `image_features` [patches / 4, textEmbedding]. A linear patch embedding (Qwen2-VL's Conv3d
 * with stride = kernel), ViT layers with 2-D rotary positions and attention confined to each image, then
 * Qwen2-VL's patch merger (LayerNorm, concatenate each 2×2 block, two-layer GELU MLP).
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
  const layout = patchLayout(g, pixels, gridThw, shape.pool);
  const options = { bias: sameImageBias(g, layout), rotary: patchRotary(g, layout, d / shape.heads) };
  for (let i = 0; i < shape.layers; i++) x = addEncoderLayer(g, w, shape, x, i, options);
  g.scope = 'merger';
  const normed = w.layerNorm(g, g.op1('Squeeze', [x, g.ints([0])]), 'visual.merger.ln_q', d, shape.layerNormEps);
  const blocks = g.reshape(normed, [-1, merged]);
  const hidden = g.gelu(w.linear(g, blocks, 'visual.merger.mlp.0', merged, merged));
  const features = w.linear(g, hidden, 'visual.merger.mlp.2', textEmbedding, merged);
  g.output(features, 'image_features', OnnxType.FLOAT, ['num_tokens', textEmbedding]);
  return g.encode('atelier-demo-qwen2vl-vision-encoder', `atelier demo Qwen2-VL style vision encoder, seed ${seed}`);
}
