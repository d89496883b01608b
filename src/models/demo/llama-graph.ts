import type { GraphBuilder } from './onnx-graph.js';
import { OnnxType } from './onnx-writer.js';
import { headDim, type LlamaShape, type LlamaWeights } from './llama-weights.js';

/**
 * The decoder half of a llama-style ONNX export with the I/O contract transformers.js drives:
 * inputs `attention_mask` [batch, past+seq], `position_ids` [batch, seq] and `past_key_values.{i}.key|value`
 * [batch, kv_heads, past, head_dim]; outputs `logits` [batch, seq, vocab] and `present.{i}.key|value`
 * [batch, kv_heads, past+seq, head_dim]. The caller supplies the input hidden states (from an embedding Gather,
 * or `inputs_embeds` for a VLM).
 */

/** Variations between families that share the llama block. */
export interface DecoderStyle {
  /** Added to every RMSNorm weight (Gemma multiplies by `1 + w`); 0 for llama. */
  normOffset: number;
  /** MLP gate activation: SiLU (llama) or tanh-approximated GELU (Gemma). */
  activation: 'silu' | 'gelu_tanh';
  /**
   * Qwen2-VL's multimodal rotary: `position_ids` is [3, batch, seq] (temporal, height, width) and the rotary
   * frequencies are split into these three consecutive sections, each rotated by its own position stream.
   * Absent: ordinary 1-D rotary with `position_ids` [batch, seq].
   */
  mropeSection?: readonly [number, number, number];
}

/** Llama's own choices. */
export const llamaStyle: DecoderStyle = { normOffset: 0, activation: 'silu' };

/**
 * Rotary tables `[contextLength + 1, head_dim/2]`, gathered by `position_ids` in the graph. The angle for position
 * p and frequency i is p·θ^(-2i/d) (Hugging Face's rotate-half convention). The spare row is there because
 * transformers.js counts Gemma-family positions from 1, so a full context reaches position `contextLength`.
 */
export function rotaryTables(shape: LlamaShape): { cos: Float32Array; sin: Float32Array; rows: number } {
  const half = headDim(shape) / 2;
  const rows = shape.contextLength + 1;
  const cos = new Float32Array(rows * half);
  const sin = new Float32Array(rows * half);
  for (let p = 0; p < rows; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * Math.pow(shape.ropeTheta, (-2 * i) / headDim(shape));
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin, rows };
}

/** Additive attention bias [batch, 1, 1, seq, total]: 0 where a query may attend, -1e9 elsewhere. */
function attentionBias(g: GraphBuilder, attentionMask: string, hidden: string): string {
  const scalar = (shape: string, index: number): string => g.op1('Gather', [shape, g.ints([index], [])], { axis: 0 });
  const total = scalar(g.op1('Shape', [attentionMask]), 1);
  const seq = scalar(g.op1('Shape', [hidden]), 1);
  const one = g.ints([1], []);
  // Queries sit at the end of the mask: with a KV cache the mask covers past + current tokens.
  const queryIndex = g.op1('Range', [g.op1('Sub', [total, seq]), total, one]);
  const keyIndex = g.op1('Range', [g.ints([0], []), total, one]);
  const causal = g.op1('LessOrEqual', [
    g.op1('Unsqueeze', [keyIndex, g.ints([0])]),
    g.op1('Unsqueeze', [queryIndex, g.ints([1])]),
  ]);
  const padding = g.op1('Unsqueeze', [g.op1('Cast', [attentionMask], { to: OnnxType.BOOL }), g.ints([1, 2, 3])]);
  const allowed = g.op1('And', [causal, padding]);
  // Finite rather than -inf, so a fully padded row gives a uniform softmax instead of NaN.
  return g.op1('Where', [allowed, g.floats([0], []), g.floats([-1e9], [])]);
}

/**
 * From rows gathered by 3-D positions [3, batch, seq, half], takes frequency section i from position stream i
 * (temporal, height, width) and joins them into [batch, seq, half], as Qwen2-VL's M-RoPE does.
 */
function mropeSelect(g: GraphBuilder, rows: string, section: readonly [number, number, number]): string {
  let offset = 0;
  const parts = section.map((size, stream) => {
    const part = g.op1('Slice', [rows, g.ints([stream, offset]), g.ints([stream + 1, offset + size]), g.ints([0, 3])]);
    offset += size;
    return part;
  });
  return g.op1('Squeeze', [g.op1('Concat', parts, { axis: 3 }), g.ints([0])]);
}

function activation(g: GraphBuilder, x: string, kind: DecoderStyle['activation']): string {
  if (kind === 'silu') return g.op1('Mul', [x, g.op1('Sigmoid', [x])]);
  return g.gelu(x);
}

interface BlockContext {
  shape: LlamaShape;
  cos: string;
  sin: string;
  bias: string;
}

function attention(
  g: GraphBuilder,
  ctx: BlockContext,
  i: number,
  h: string,
  w: LlamaWeights['blocks'][number],
): string {
  const { shape } = ctx;
  const d = shape.embedding;
  const hd = headDim(shape);
  const kvDim = shape.kvHeads * hd;
  const prefix = `model.layers.${i}.self_attn`;
  const heads = (x: string, n: number): string =>
    g.op1('Transpose', [g.reshape(x, [0, 0, n, hd])], { perm: [0, 2, 1, 3] });
  const q = g.rotateHalf(heads(g.linear(h, `${prefix}.q_proj.weight`, w.q, d, d), shape.heads), ctx.cos, ctx.sin, hd);
  const k = g.rotateHalf(
    heads(g.linear(h, `${prefix}.k_proj.weight`, w.k, kvDim, d), shape.kvHeads),
    ctx.cos,
    ctx.sin,
    hd,
  );
  const v = heads(g.linear(h, `${prefix}.v_proj.weight`, w.v, kvDim, d), shape.kvHeads);
  const cacheShape = ['batch_size', shape.kvHeads, 'past_sequence_length', hd];
  const presentShape = ['batch_size', shape.kvHeads, 'total_sequence_length', hd];
  const keys = g.op1('Concat', [g.input(`past_key_values.${i}.key`, OnnxType.FLOAT, cacheShape), k], { axis: 2 });
  const values = g.op1('Concat', [g.input(`past_key_values.${i}.value`, OnnxType.FLOAT, cacheShape), v], { axis: 2 });
  g.output(keys, `present.${i}.key`, OnnxType.FLOAT, presentShape);
  g.output(values, `present.${i}.value`, OnnxType.FLOAT, presentShape);
  // Grouped-query attention without copying K/V: queries are grouped [b, kv, rep, s, hd] and MatMul broadcasts
  // each KV head over its `rep` query heads (head h reads KV head ⌊h / rep⌋, as HF's repeat_kv does).
  const grouped = g.reshape(q, [0, shape.kvHeads, shape.heads / shape.kvHeads, -1, hd]);
  const keysT = g.op1('Transpose', [g.op1('Unsqueeze', [keys, g.ints([2])])], { perm: [0, 1, 2, 4, 3] });
  const scores = g.op1('Add', [
    g.op1('Mul', [g.op1('MatMul', [grouped, keysT]), g.floats([1 / Math.sqrt(hd)], [])]),
    ctx.bias,
  ]);
  const probs = g.op1('Softmax', [scores], { axis: -1 });
  const mixed = g.op1('MatMul', [probs, g.op1('Unsqueeze', [values, g.ints([2])])]);
  const merged = g.reshape(g.op1('Transpose', [g.reshape(mixed, [0, shape.heads, -1, hd])], { perm: [0, 2, 1, 3] }), [
    0,
    0,
    d,
  ]);
  return g.linear(merged, `${prefix}.o_proj.weight`, w.o, d, d);
}

/**
 * Adds the blocks, final norm and LM head after `hidden` [batch, seq, embedding], declaring the cache inputs and
 * the `logits`/`present.*` outputs. MatMul weights are stored `[in, out]` under their Hugging Face names.
 */
export function addLlamaDecoder(
  g: GraphBuilder,
  shape: LlamaShape,
  weights: LlamaWeights,
  io: { hidden: string; attentionMask: string; positionIds: string },
  style: DecoderStyle = llamaStyle,
): void {
  const tables = rotaryTables(shape);
  const half = headDim(shape) / 2;
  const gathered = (name: string, table: Float32Array): string => {
    const rows = g.op1('Gather', [g.weight(name, table, [tables.rows, half]), io.positionIds]);
    return g.op1('Unsqueeze', [style.mropeSection ? mropeSelect(g, rows, style.mropeSection) : rows, g.ints([1])]);
  };
  const ctx: BlockContext = {
    shape,
    cos: gathered('rotary.cos', tables.cos),
    sin: gathered('rotary.sin', tables.sin),
    bias: attentionBias(g, io.attentionMask, io.hidden),
  };
  let x = io.hidden;
  weights.blocks.forEach((w, i) => {
    g.scope = `layers.${i}`;
    const prefix = `model.layers.${i}`;
    const h = g.rmsNorm(x, `${prefix}.input_layernorm.weight`, w.attnNorm, shape.rmsEps, style.normOffset);
    x = g.op1('Add', [x, attention(g, ctx, i, h, w)]);
    const h2 = g.rmsNorm(x, `${prefix}.post_attention_layernorm.weight`, w.ffnNorm, shape.rmsEps, style.normOffset);
    const gate = activation(
      g,
      g.linear(h2, `${prefix}.mlp.gate_proj.weight`, w.gate, shape.feedForward, shape.embedding),
      style.activation,
    );
    const up = g.linear(h2, `${prefix}.mlp.up_proj.weight`, w.up, shape.feedForward, shape.embedding);
    x = g.op1('Add', [
      x,
      g.linear(g.op1('Mul', [gate, up]), `${prefix}.mlp.down_proj.weight`, w.down, shape.embedding, shape.feedForward),
    ]);
  });
  g.scope = 'head';
  const final = g.rmsNorm(x, 'model.norm.weight', weights.finalNorm, shape.rmsEps, style.normOffset);
  const logits = g.linear(final, 'lm_head.weight', weights.lmHead, shape.vocab, shape.embedding);
  g.output(logits, 'logits', OnnxType.FLOAT, ['batch_size', 'sequence_length', shape.vocab]);
}
