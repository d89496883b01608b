import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { addLlamaDecoder, type DecoderStyle } from './llama-graph.js';
import type { LlamaShape, LlamaWeights } from './llama-weights.js';
import { GraphBuilder } from './onnx-graph.js';
import { OnnxType } from './onnx-writer.js';

/**
 * The text half of a transformers.js image-text-to-text export, shared by the demo VLMs:
 * `onnx/embed_tokens.onnx` (`input_ids` → `inputs_embeds`) and `onnx/decoder_model_merged.onnx` (`inputs_embeds`,
 * `attention_mask`, `position_ids`, cache → `logits`, `present.*`). transformers.js runs the first, overwrites the
 * image-token positions with the vision encoder's features, then drives the second.
 */

/** Options for {@link writeVlmTextGraphs}. */
export interface VlmTextOptions {
  /** Factor applied to token embeddings (Gemma: √hidden; llama-family: 1). Image features are never scaled. */
  embedScale: number;
  /** Decoder block variant. */
  style: DecoderStyle;
  /** Model name for the graphs' doc strings. */
  name: string;
}

function embedTokens(shape: LlamaShape, embed: Float32Array, scale: number): Uint8Array {
  const g = new GraphBuilder();
  const ids = g.input('input_ids', OnnxType.INT64, ['batch_size', 'sequence_length']);
  const table = g.weight('model.embed_tokens.weight', embed, [shape.vocab, shape.embedding]);
  const gathered = g.op1('Gather', [table, ids]);
  const scaled = scale === 1 ? gathered : g.op1('Mul', [gathered, g.floats([scale], [])]);
  g.output(scaled, 'inputs_embeds', OnnxType.FLOAT, ['batch_size', 'sequence_length', shape.embedding]);
  return g.encode('embed_tokens', 'token embedding of an atelier demo VLM');
}

function decoder(shape: LlamaShape, weights: LlamaWeights, style: DecoderStyle, docString: string): Uint8Array {
  const g = new GraphBuilder();
  const hidden = g.input('inputs_embeds', OnnxType.FLOAT, ['batch_size', 'sequence_length', shape.embedding]);
  const attentionMask = g.input('attention_mask', OnnxType.INT64, ['batch_size', 'total_sequence_length']);
  // Qwen2-VL's M-RoPE takes three position streams (temporal, height, width).
  const positionShape = style.mropeSection ? [3, 'batch_size', 'sequence_length'] : ['batch_size', 'sequence_length'];
  const positionIds = g.input('position_ids', OnnxType.INT64, positionShape);
  addLlamaDecoder(g, shape, weights, { hidden, attentionMask, positionIds }, style);
  return g.encode('decoder_model_merged', docString);
}

/** Writes `embed_tokens.onnx` and `decoder_model_merged.onnx` into `onnxDir`. */
export async function writeVlmTextGraphs(
  onnxDir: string,
  shape: LlamaShape,
  weights: LlamaWeights,
  options: VlmTextOptions,
): Promise<void> {
  await writeFile(join(onnxDir, 'embed_tokens.onnx'), embedTokens(shape, weights.embed, options.embedScale));
  await writeFile(
    join(onnxDir, 'decoder_model_merged.onnx'),
    decoder(shape, weights, options.style, `${options.name} text decoder`),
  );
}
