import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { qwen2SplitRegex, type DemoTokenizer } from './tokenizer.js';

/**
 * Writers for the Hugging Face tokenizer files (`tokenizer.json`, `tokenizer_config.json`) that transformers.js
 * (through @huggingface/tokenizers) and the Python `tokenizers` library read.
 */

// The split happens in the Split step, so ByteLevel only maps bytes (use_regex false), as in Qwen2's own file.
const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
const preTokenizer = {
  type: 'Sequence',
  pretokenizers: [
    { type: 'Split', pattern: { Regex: qwen2SplitRegex }, behavior: 'Isolated', invert: false },
    byteLevel,
  ],
};

/** The `tokenizer.json` object: BPE model, Qwen2 split + ByteLevel pre-tokenizer, ByteLevel decoder, added tokens. */
export function hfTokenizerJson(tokenizer: DemoTokenizer): Record<string, unknown> {
  const addedIds = new Set(tokenizer.added.map((token) => token.id));
  const vocab: Record<string, number> = {};
  // Added tokens live in `added_tokens` only; the BPE model's vocabulary is the byte and merge tokens.
  tokenizer.tokens.forEach((token, id) => {
    if (!addedIds.has(id)) vocab[token] = id;
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tokenizer.added.map((token) => ({
      id: token.id,
      content: token.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: token.special,
    })),
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: tokenizer.merges.map(([left, right]) => [left, right]),
    },
  };
}

/** Options for {@link hfTokenizerConfig}. */
export interface HfTokenizerConfigOptions {
  /** Jinja chat template stored in `chat_template`. */
  chatTemplate: string;
  /** Longest input the model accepts, in tokens. */
  modelMaxLength: number;
  /** `tokenizer_class`; default `Qwen2Tokenizer` (byte-level BPE with ChatML markers). */
  tokenizerClass?: string;
  /** Extra top-level keys (for example a processor's `image_token`). */
  extra?: Record<string, unknown>;
}

/** The `tokenizer_config.json` object: special tokens, no automatic BOS/EOS, the chat template. */
export function hfTokenizerConfig(
  tokenizer: DemoTokenizer,
  options: HfTokenizerConfigOptions,
): Record<string, unknown> {
  const addedTokensDecoder: Record<string, unknown> = {};
  for (const token of tokenizer.added) {
    addedTokensDecoder[String(token.id)] = {
      content: token.content,
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
      special: token.special,
    };
  }
  return {
    add_bos_token: false,
    add_eos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: addedTokensDecoder,
    additional_special_tokens: tokenizer.added.filter((t) => t.special).map((t) => t.content),
    bos_token: tokenizer.bosToken,
    eos_token: tokenizer.eosToken,
    pad_token: tokenizer.padToken,
    unk_token: null,
    chat_template: options.chatTemplate,
    clean_up_tokenization_spaces: false,
    errors: 'replace',
    model_max_length: options.modelMaxLength,
    split_special_tokens: false,
    tokenizer_class: options.tokenizerClass ?? 'Qwen2Tokenizer',
    ...options.extra,
  };
}

/** Writes `tokenizer.json` and `tokenizer_config.json` into `dir` (which must exist). */
export async function writeHfTokenizerFiles(
  dir: string,
  tokenizer: DemoTokenizer,
  options: HfTokenizerConfigOptions,
): Promise<void> {
  await writeFile(join(dir, 'tokenizer.json'), `${JSON.stringify(hfTokenizerJson(tokenizer), null, 2)}\n`);
  await writeFile(
    join(dir, 'tokenizer_config.json'),
    `${JSON.stringify(hfTokenizerConfig(tokenizer, options), null, 2)}\n`,
  );
}
