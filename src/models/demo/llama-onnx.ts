import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chatmlToolsTemplate } from './chat-template.js';
import { writeHfTokenizerFiles } from './hf-tokenizer.js';
import { addLlamaDecoder } from './llama-graph.js';
import { demoLlamaShape, headDim, llamaWeights, type LlamaShape } from './llama-weights.js';
import { GraphBuilder } from './onnx-graph.js';
import { OnnxType } from './onnx-writer.js';
import { buildDemoTokenizer, tokenId, type DemoTokenizer } from './tokenizer.js';

/** The ONNX text decoder: `input_ids` → embedding Gather → llama blocks with KV cache → `logits`. */
export function buildLlamaOnnx(shape: LlamaShape, seed: number): Uint8Array {
  const weights = llamaWeights(shape, seed);
  const g = new GraphBuilder();
  const inputIds = g.input('input_ids', OnnxType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', OnnxType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', OnnxType.INT64, ['batch_size', 'sequence_length']);
  g.scope = 'embed';
  const hidden = g.op1('Gather', [
    g.weight('model.embed_tokens.weight', weights.embed, [shape.vocab, shape.embedding]),
    inputIds,
  ]);
  addLlamaDecoder(g, shape, weights, { hidden, attentionMask, positionIds });
  return g.encode('atelier-demo-llama', `atelier demo llama decoder, seed ${seed}`);
}

/** `config.json` of a Hugging Face `LlamaForCausalLM` with this shape (read by transformers.js and Python alike). */
export function llamaConfig(shape: LlamaShape, tokenizer: DemoTokenizer): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: shape.vocab,
    hidden_size: shape.embedding,
    intermediate_size: shape.feedForward,
    num_hidden_layers: shape.blocks,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    head_dim: headDim(shape),
    hidden_act: 'silu',
    max_position_embeddings: shape.contextLength,
    rms_norm_eps: shape.rmsEps,
    rope_theta: shape.ropeTheta,
    attention_bias: false,
    mlp_bias: false,
    tie_word_embeddings: false,
    bos_token_id: tokenId(tokenizer, tokenizer.bosToken),
    eos_token_id: tokenId(tokenizer, tokenizer.eosToken),
    pad_token_id: tokenId(tokenizer, tokenizer.padToken),
    torch_dtype: 'float32',
    use_cache: true,
    'transformers.js_config': { dtype: 'fp32', use_external_data_format: false },
  };
}

/** Writes a JSON file with a trailing newline. */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Writes the transformers.js folder of the demo text decoder into `targetDir` (config, generation config,
 * tokenizer files, `onnx/model.onnx`) and returns the folder. Same seed → same weights as the demo GGUF.
 */
export async function generateLlamaOnnx(targetDir: string, seed: number): Promise<string> {
  const tokenizer = buildDemoTokenizer();
  const shape = demoLlamaShape(tokenizer.tokens.length);
  await mkdir(join(targetDir, 'onnx'), { recursive: true });
  await writeJson(join(targetDir, 'config.json'), llamaConfig(shape, tokenizer));
  await writeJson(join(targetDir, 'generation_config.json'), {
    bos_token_id: tokenId(tokenizer, tokenizer.bosToken),
    eos_token_id: [tokenId(tokenizer, tokenizer.eosToken), tokenId(tokenizer, '<|endoftext|>')],
    pad_token_id: tokenId(tokenizer, tokenizer.padToken),
  });
  await writeHfTokenizerFiles(targetDir, tokenizer, {
    chatTemplate: chatmlToolsTemplate,
    modelMaxLength: shape.contextLength,
  });
  await writeFile(join(targetDir, 'onnx', 'model.onnx'), buildLlamaOnnx(shape, seed));
  return targetDir;
}
