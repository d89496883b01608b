import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chatmlToolsTemplate } from './chat-template.js';
import { GGML_TYPE_F32, GGML_TYPE_Q8_0, gguf, writeGguf, type GgufTensor, type GgufValue } from './gguf-writer.js';
import { demoLlamaShape, headDim, llamaWeights, type LlamaShape } from './llama-weights.js';
import { buildDemoTokenizer, tokenId, type DemoTokenizer } from './tokenizer.js';
import { paddingTokens } from './vocab-padding.js';

/** llama.cpp token types (`llama_token_type`): normal text, control (special), user-defined (added text). */
const TOKEN_TYPE = { normal: 1, control: 3, userDefined: 4 } as const;

/** File name of the demo GGUF inside its target folder. */
export const demoGgufFileName = 'atelier-demo-llama.gguf';

/** Options of {@link buildLlamaGguf}: all default to the tiny demo model. */
export interface LlamaGgufOptions {
  /** `general.name`; default `atelier-demo-gguf`. */
  name?: string;
  /** Overrides of the demo shape (`demoLlamaShape`), e.g. `{ embedding: 512, blocks: 8 }` for a benchmark-size model. */
  shape?: Partial<Omit<LlamaShape, 'vocab'>>;
  /**
   * Vocabulary size: the demo tokenizer padded with synthetic word tokens (`paddingTokens`) up to this many, so
   * per-step mask costs scale like a real tokenizer's. Default (or anything smaller): the demo tokenizer as is.
   */
  vocabSize?: number;
  /** Storage of the weight matrices (norms stay F32); default `f32`. `q8_0` needs a width divisible by 32. */
  weights?: 'f32' | 'q8_0';
}

/**
 * Reorders the rows of a q/k projection from Hugging Face's rotate-half rotary layout to llama.cpp's, which
 * rotates adjacent pairs: within each head, row `half·(d/2) + j` moves to `2j + half` (what llama.cpp's own HF
 * converter does). With it, the GGUF computes the same function as the ONNX export of the same weights.
 */
export function permuteForGgufRope(weight: Float32Array, heads: number, inDim: number): Float32Array {
  const rows = weight.length / inDim;
  const dim = rows / heads;
  const out = new Float32Array(weight.length);
  for (let h = 0; h < heads; h++) {
    for (let half = 0; half < 2; half++) {
      for (let j = 0; j < dim / 2; j++) {
        const from = (h * dim + half * (dim / 2) + j) * inDim;
        const to = (h * dim + 2 * j + half) * inDim;
        out.set(weight.subarray(from, from + inDim), to);
      }
    }
  }
  return out;
}

function tokenizerMetadata(tokenizer: DemoTokenizer, padding: readonly string[]): Array<[string, GgufValue]> {
  const types = [...tokenizer.tokens, ...padding].map(() => TOKEN_TYPE.normal as number);
  for (const token of tokenizer.added) types[token.id] = token.special ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
  return [
    ['tokenizer.ggml.model', gguf.str('gpt2')],
    // llama.cpp's Qwen2 split: the same as the HF tokenizer.json's, and no space clean-up when detokenizing.
    ['tokenizer.ggml.pre', gguf.str('qwen2')],
    ['tokenizer.ggml.tokens', gguf.strings([...tokenizer.tokens, ...padding])],
    ['tokenizer.ggml.token_type', gguf.i32s(types)],
    ['tokenizer.ggml.merges', gguf.strings(tokenizer.merges.map(([l, r]) => `${l} ${r}`))],
    ['tokenizer.ggml.bos_token_id', gguf.u32(tokenId(tokenizer, tokenizer.bosToken))],
    ['tokenizer.ggml.eos_token_id', gguf.u32(tokenId(tokenizer, tokenizer.eosToken))],
    ['tokenizer.ggml.padding_token_id', gguf.u32(tokenId(tokenizer, tokenizer.padToken))],
    ['tokenizer.ggml.add_bos_token', gguf.bool(false)],
    ['tokenizer.ggml.add_eos_token', gguf.bool(false)],
    ['tokenizer.chat_template', gguf.str(chatmlToolsTemplate)],
  ];
}

function hyperparameters(name: string, shape: LlamaShape, quantized: boolean): Array<[string, GgufValue]> {
  return [
    ['general.architecture', gguf.str('llama')],
    ['general.name', gguf.str(name)],
    ['general.alignment', gguf.u32(32)],
    ['general.file_type', gguf.u32(quantized ? 7 : 0)], // LLAMA_FTYPE_MOSTLY_Q8_0 or LLAMA_FTYPE_ALL_F32
    ['llama.vocab_size', gguf.u32(shape.vocab)],
    ['llama.context_length', gguf.u32(shape.contextLength)],
    ['llama.embedding_length', gguf.u32(shape.embedding)],
    ['llama.block_count', gguf.u32(shape.blocks)],
    ['llama.feed_forward_length', gguf.u32(shape.feedForward)],
    ['llama.attention.head_count', gguf.u32(shape.heads)],
    ['llama.attention.head_count_kv', gguf.u32(shape.kvHeads)],
    ['llama.rope.dimension_count', gguf.u32(headDim(shape))],
    ['llama.rope.freq_base', gguf.f32(shape.ropeTheta)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(shape.rmsEps)],
  ];
}

/** The bytes of the demo llama GGUF for `seed`: metadata, tokenizer, chat template and F32 tensors. */
export function buildLlamaGguf(seed: number, options: LlamaGgufOptions = {}): Buffer {
  const tokenizer = buildDemoTokenizer();
  const padding = paddingTokens(
    tokenizer.tokens,
    Math.max(0, (options.vocabSize ?? 0) - tokenizer.tokens.length),
    seed,
  );
  const shape = { ...demoLlamaShape(tokenizer.tokens.length + padding.length), ...options.shape };
  const w = llamaWeights(shape, seed);
  const d = shape.embedding;
  const kvDim = shape.kvHeads * headDim(shape);
  const matrix = options.weights === 'q8_0' ? GGML_TYPE_Q8_0 : GGML_TYPE_F32;
  const t = (tensorName: string, dims: number[], data: Float32Array): GgufTensor => ({
    name: tensorName,
    dims,
    data,
    type: dims.length > 1 ? matrix : GGML_TYPE_F32,
  });
  const tensors: GgufTensor[] = [
    t('token_embd.weight', [d, shape.vocab], w.embed),
    t('output_norm.weight', [d], w.finalNorm),
    t('output.weight', [d, shape.vocab], w.lmHead),
  ];
  w.blocks.forEach((b, i) => {
    tensors.push(
      t(`blk.${i}.attn_norm.weight`, [d], b.attnNorm),
      t(`blk.${i}.attn_q.weight`, [d, d], permuteForGgufRope(b.q, shape.heads, d)),
      t(`blk.${i}.attn_k.weight`, [d, kvDim], permuteForGgufRope(b.k, shape.kvHeads, d)),
      t(`blk.${i}.attn_v.weight`, [d, kvDim], b.v),
      t(`blk.${i}.attn_output.weight`, [d, d], b.o),
      t(`blk.${i}.ffn_norm.weight`, [d], b.ffnNorm),
      t(`blk.${i}.ffn_gate.weight`, [d, shape.feedForward], b.gate),
      t(`blk.${i}.ffn_up.weight`, [d, shape.feedForward], b.up),
      t(`blk.${i}.ffn_down.weight`, [shape.feedForward, d], b.down),
    );
  });
  const name = options.name ?? 'atelier-demo-gguf';
  return writeGguf(
    [...hyperparameters(name, shape, matrix === GGML_TYPE_Q8_0), ...tokenizerMetadata(tokenizer, padding)],
    tensors,
  );
}

/** Writes the demo GGUF (`options` as in {@link buildLlamaGguf}) into `targetDir` and returns the file's path. */
export async function generateLlamaGguf(
  targetDir: string,
  seed: number,
  options: LlamaGgufOptions = {},
): Promise<string> {
  await mkdir(targetDir, { recursive: true });
  const path = join(targetDir, demoGgufFileName);
  await writeFile(path, buildLlamaGguf(seed, options));
  return path;
}
