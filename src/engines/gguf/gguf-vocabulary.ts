/**
 * The decoder's view of a GGUF tokenizer, read from the file's own metadata (`tokenizer.ggml.*`) rather than by
 * detokenizing each id, because detokenizing a lone token loses the raw bytes of partial UTF-8 sequences.
 */
import type { LlamaModel, Token } from 'node-llama-cpp';
import type { TokenVocabulary } from '../engine.js';
import { byteLevelTokenBytes, sentencePieceTokenBytes } from '../token-bytes.js';

/** GGUF token types (llama.cpp `llama_token_type`). */
const CONTROL = 3;
const USER_DEFINED = 4;
const UNUSED = 5;

interface GgmlTokenizerMetadata {
  model?: string;
  tokens?: readonly string[];
  token_type?: readonly number[];
}

/** Builds the vocabulary (bytes per id, special flags, end-of-generation ids) of a loaded GGUF model. */
export function ggufVocabulary(model: LlamaModel): TokenVocabulary {
  const meta = (model.fileInfo.metadata as { tokenizer?: { ggml?: GgmlTokenizerMetadata } }).tokenizer?.ggml;
  const pieces = meta?.tokens;
  if (!pieces) throw new Error('GGUF file has no tokenizer.ggml.tokens');
  const types = meta.token_type ?? [];
  const byteLevel = meta.model === 'gpt2';
  const bytes: Uint8Array[] = [];
  const special: boolean[] = [];
  const eog: number[] = [];
  const encoder = new TextEncoder();
  for (let id = 0; id < pieces.length; id++) {
    const piece = pieces[id] ?? '';
    const type = types[id] ?? 1;
    const isEog = model.isEogToken(id as Token);
    const isSpecial = type === CONTROL || type === UNUSED || isEog;
    special.push(isSpecial);
    if (isEog) eog.push(id);
    // Special tokens keep their text (`<|python_tag|>`) so call markers can be recognised; `special` hides the rest.
    if (isSpecial || type === USER_DEFINED) bytes.push(encoder.encode(piece));
    else if (byteLevel) bytes.push(byteLevelTokenBytes(piece) ?? encoder.encode(piece));
    else bytes.push(sentencePieceTokenBytes(piece));
  }
  return { bytes, special, eog };
}
