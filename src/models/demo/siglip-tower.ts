import type { GraphBuilder } from './onnx-graph.js';
import { Prng, nearConstant } from './prng.js';

/**
 * The vision tower shared by the demo VLMs: a SigLIP-style ViT (Conv patch embedding + learned positions, pre-norm
 * transformer layers with bidirectional attention, post LayerNorm), as Gemma 3 and SmolVLM both use. Each model
 * adds its own connector into the text embedding space.
 */

/** Shape of the vision tower and projector. */
export interface VisionShape {
  /** Square input size in pixels (the image processor resizes to it). */
  imageSize: number;
  /** Square patch size in pixels. */
  patchSize: number;
  /** Width of the vision transformer. */
  hidden: number;
  /** Attention heads of the vision transformer. */
  heads: number;
  /** Inner MLP width. */
  intermediate: number;
  /** Transformer layers. */
  layers: number;
  /** Side of the patch window merged into one token (Gemma 3 average-pools it, Idefics3 pixel-shuffles it). */
  pool: number;
  /** LayerNorm epsilon. */
  layerNormEps: number;
}

/** The demo VLMs' vision shape: 64-pixel images, 8-pixel patches (an 8×8 grid), merged 2×2 to 16 tokens per image. */
export const demoVisionShape: VisionShape = {
  imageSize: 64,
  patchSize: 8,
  hidden: 32,
  heads: 2,
  intermediate: 64,
  layers: 1,
  pool: 2,
  layerNormEps: 1e-6,
};

/** Soft tokens each image becomes in the text sequence. */
/** The HF `vision_config` of a SigLIP-style tower with this shape (Gemma 3 and SmolVLM name it differently). */
export function siglipVisionConfig(shape: VisionShape, modelType: string): Record<string, unknown> {
  return {
    model_type: modelType,
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_attention_heads: shape.heads,
    num_hidden_layers: shape.layers,
    image_size: shape.imageSize,
    patch_size: shape.patchSize,
    num_channels: 3,
    layer_norm_eps: shape.layerNormEps,
    hidden_act: 'gelu_pytorch_tanh',
  };
}

export function tokensPerImage(shape: VisionShape): number {
  return (shape.imageSize / shape.patchSize / shape.pool) ** 2;
}

/** Draws each named vision weight from its own fork of the seed and adds it to the graph. */
export class VisionWeights {
  constructor(private readonly prng: Prng) {}

  /** `x @ Wᵀ + b` with a PyTorch `[out, in]` weight. */

  linear(g: GraphBuilder, x: string, name: string, out: number, inp: number): string {
    const w = this.prng.fork(`${name}.weight`).floats(out * inp, Math.sqrt(3 / inp));
    const bias = this.prng.fork(`${name}.bias`).floats(out, 0.02);
    return g.op1('Add', [g.linear(x, `${name}.weight`, w, out, inp), g.weight(`${name}.bias`, bias, [out])]);
  }

  /** LayerNormalization over the last axis with learned scale and bias. */
  layerNorm(g: GraphBuilder, x: string, name: string, width: number, eps: number): string {
    const scale = g.weight(`${name}.weight`, nearConstant(this.prng.fork(`${name}.weight`), width, 1, 0.1), [width]);
    const bias = g.weight(`${name}.bias`, this.prng.fork(`${name}.bias`).floats(width, 0.02), [width]);
    return g.op1('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { float: eps } });
  }

  /** Raw values for a weight the caller places itself. */
  floats(label: string, count: number, scale: number): Float32Array {
    return this.prng.fork(label).floats(count, scale);
  }
}

/** Optional attention inputs of {@link addEncoderLayer}. */
export interface EncoderLayerOptions {
  /** Added to the attention scores, [images or 1, 1, patches, patches] (0 or -1e9). */
  bias?: string;
  /** Rotary tables [patches, head_dim/2] applied to queries and keys (rotate-half layout). */
  rotary?: { cos: string; sin: string };
}

/**
 * One pre-norm ViT layer on `x` [images, patches, hidden] (LayerNorm → attention → residual, LayerNorm → tanh-GELU
 * MLP → residual), with an optional attention bias and rotary position embedding.
 */
export function addEncoderLayer(
  g: GraphBuilder,
  w: VisionWeights,
  shape: VisionShape,
  x: string,
  i: number,
  options: EncoderLayerOptions = {},
): string {
  const p = `vision_tower.encoder.layers.${i}`;
  const d = shape.hidden;
  const hd = d / shape.heads;
  g.scope = `vision.layers.${i}`;
  const h = w.layerNorm(g, x, `${p}.layer_norm1`, d, shape.layerNormEps);
  const heads = (t: string): string =>
    g.op1('Transpose', [g.reshape(t, [0, 0, shape.heads, hd])], { perm: [0, 2, 1, 3] });
  const rotary = (t: string): string =>
    options.rotary ? g.rotateHalf(t, options.rotary.cos, options.rotary.sin, hd) : t;
  const q = rotary(heads(w.linear(g, h, `${p}.self_attn.q_proj`, d, d)));
  const k = rotary(heads(w.linear(g, h, `${p}.self_attn.k_proj`, d, d)));
  const v = heads(w.linear(g, h, `${p}.self_attn.v_proj`, d, d));
  // Bidirectional attention over the patches of one image; `bias` hides padding patches when the model has any.
  const raw = g.op1('Mul', [
    g.op1('MatMul', [q, g.op1('Transpose', [k], { perm: [0, 1, 3, 2] })]),
    g.floats([1 / Math.sqrt(hd)], []),
  ]);
  const scores = options.bias ? g.op1('Add', [raw, options.bias]) : raw;
  const mixed = g.op1('MatMul', [g.op1('Softmax', [scores], { axis: -1 }), v]);
  const merged = g.reshape(g.op1('Transpose', [mixed], { perm: [0, 2, 1, 3] }), [0, 0, d]);
  const x2 = g.op1('Add', [x, w.linear(g, merged, `${p}.self_attn.out_proj`, d, d)]);
  const h2 = w.layerNorm(g, x2, `${p}.layer_norm2`, d, shape.layerNormEps);
  const mlp = w.linear(
    g,
    g.gelu(w.linear(g, h2, `${p}.mlp.fc1`, shape.intermediate, d)),
    `${p}.mlp.fc2`,
    d,
    shape.intermediate,
  );
  return g.op1('Add', [x2, mlp]);
}

/**
 * Runs the tower on `pixels` [images, 3, size, size] and returns the normalised patch sequence
 * [images, grid², hidden]. `bias` [images, 1, 1, grid²] (0 or -1e9) masks key patches when given.
 */
export function addSiglipTower(
  g: GraphBuilder,
  w: VisionWeights,
  shape: VisionShape,
  pixels: string,
  bias?: string,
): string {
  const d = shape.hidden;
  const grid = shape.imageSize / shape.patchSize;
  g.scope = 'vision.embeddings';
  const kernel = g.weight(
    'vision_tower.embeddings.patch_embedding.weight',
    w.floats('patch.weight', d * 3 * shape.patchSize ** 2, Math.sqrt(3 / (3 * shape.patchSize ** 2))),
    [d, 3, shape.patchSize, shape.patchSize],
  );
  const kernelBias = g.weight('vision_tower.embeddings.patch_embedding.bias', w.floats('patch.bias', d, 0.02), [d]);
  const patches = g.op1('Conv', [pixels, kernel, kernelBias], {
    kernel_shape: [shape.patchSize, shape.patchSize],
    strides: [shape.patchSize, shape.patchSize],
  });
  const sequence = g.op1('Transpose', [g.reshape(patches, [0, d, -1])], { perm: [0, 2, 1] });
  const positions = g.weight(
    'vision_tower.embeddings.position_embedding.weight',
    w.floats('positions', grid * grid * d, 0.5),
    [grid * grid, d],
  );
  let x = g.op1('Add', [sequence, positions]);
  for (let i = 0; i < shape.layers; i++) x = addEncoderLayer(g, w, shape, x, i, { bias });
  g.scope = 'vision.post';
  return w.layerNorm(g, x, 'vision_tower.post_layernorm', d, shape.layerNormEps);
}
