import { Prng, nearConstant } from './prng.js';

/**
 * The tiny llama network behind the demo GGUF and ONNX text models. Both formats are written from the same
 * weights (in PyTorch's `[out, in]` row-major layout), so one seed gives the same model in both engines.
 */

/** Hyperparameters of a llama-architecture decoder. */
export interface LlamaShape {
  /** Vocabulary size (rows of the embedding and of the LM head). */
  vocab: number;
  /** Hidden size. */
  embedding: number;
  /** Number of transformer blocks. */
  blocks: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  /** Inner size of the SiLU-gated MLP. */
  feedForward: number;
  /** Longest sequence the model is declared for, in tokens (also the length of the ONNX rotary tables). */
  contextLength: number;
  /** Rotary embedding base θ. */
  ropeTheta: number;
  /** RMSNorm epsilon. */
  rmsEps: number;
}

/** The demo text models' shape: 64 wide, 2 blocks, 4 query heads over 2 KV heads, 4096 tokens of context. */
export function demoLlamaShape(vocab: number): LlamaShape {
  return {
    vocab,
    embedding: 64,
    blocks: 2,
    heads: 4,
    kvHeads: 2,
    feedForward: 128,
    contextLength: 4096,
    ropeTheta: 10000,
    rmsEps: 1e-5,
  };
}

/** Size of one attention head. */
export function headDim(shape: LlamaShape): number {
  return shape.embedding / shape.heads;
}

/** One transformer block's weights; matrices are `[out, in]` row-major. */
export interface LlamaBlockWeights {
  attnNorm: Float32Array;
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  o: Float32Array;
  ffnNorm: Float32Array;
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
}

/** All weights of the network. `embed` and `lmHead` are `[vocab, embedding]`. */
export interface LlamaWeights {
  embed: Float32Array;
  blocks: LlamaBlockWeights[];
  finalNorm: Float32Array;
  lmHead: Float32Array;
}

/**
 * Draws the weights from `seed`. Linear layers are uniform with unit-variance gain (±√(3/in)) so activations keep
 * their scale through the blocks; the LM head is wider (±0.5) so greedy decoding does not collapse onto one token.
 * Each tensor comes from its own forked stream, so changing one shape never reshuffles the others.
 */
export function llamaWeights(shape: LlamaShape, seed: number): LlamaWeights {
  const root = new Prng(seed);
  const d = shape.embedding;
  const kvDim = shape.kvHeads * headDim(shape);
  const linear = (label: string, out: number, inp: number): Float32Array =>
    root.fork(label).floats(out * inp, Math.sqrt(3 / inp));
  const blocks = Array.from({ length: shape.blocks }, (_, i) => ({
    attnNorm: nearConstant(root.fork(`blk.${i}.attn_norm`), d, 1, 0.1),
    q: linear(`blk.${i}.q`, d, d),
    k: linear(`blk.${i}.k`, kvDim, d),
    v: linear(`blk.${i}.v`, kvDim, d),
    o: linear(`blk.${i}.o`, d, d),
    ffnNorm: nearConstant(root.fork(`blk.${i}.ffn_norm`), d, 1, 0.1),
    gate: linear(`blk.${i}.gate`, shape.feedForward, d),
    up: linear(`blk.${i}.up`, shape.feedForward, d),
    down: linear(`blk.${i}.down`, d, shape.feedForward),
  }));
  return {
    embed: root.fork('embed').floats(shape.vocab * d, 1),
    blocks,
    finalNorm: nearConstant(root.fork('final_norm'), d, 1, 0.1),
    lmHead: root.fork('lm_head').floats(shape.vocab * d, 0.5),
  };
}
