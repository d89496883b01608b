/**
 * The decoder's view of a Hugging Face `tokenizer.json` (the file transformers.js loads): byte-level BPE vocabularies
 * (GPT-2, Llama 3, Qwen) or SentencePiece-style ones (`▁`, `<0xAB>` byte fallback), plus added tokens.
 */
import type { TokenVocabulary } from '../engine.js';
import { byteLevelTokenBytes, sentencePieceTokenBytes } from '../token-bytes.js';

interface TokenizerJson {
  model: { type: string; vocab: Record<string, number> | [string, number][] };
  decoder?: { type?: string; decoders?: { type?: string }[] } | null;
  added_tokens?: { id: number; content: string; special: boolean }[];
}

function isByteLevel(json: TokenizerJson): boolean {
  const d = json.decoder;
  return d?.type === 'ByteLevel' || (d?.decoders ?? []).some((x) => x.type === 'ByteLevel');
}

/**
 * Builds the vocabulary of `size` ids (the model's logits width) from a parsed tokenizer.json; ids the tokenizer
 * does not define are special (never allowed by a mask). `eog` lists the end-of-generation ids.
 */
export function tokenizerVocabulary(json: TokenizerJson, size: number, eog: readonly number[]): TokenVocabulary {
  const encoder = new TextEncoder();
  const bytes: Uint8Array[] = Array.from({ length: size }, () => new Uint8Array(0));
  const special: boolean[] = new Array<boolean>(size).fill(true);
  const byteLevel = isByteLevel(json);
  const entries = Array.isArray(json.model.vocab)
    ? json.model.vocab.map(([piece], id) => [piece, id] as const)
    : Object.entries(json.model.vocab);
  for (const [piece, id] of entries) {
    if (id >= size) continue;
    bytes[id] = byteLevel ? (byteLevelTokenBytes(piece) ?? encoder.encode(piece)) : sentencePieceTokenBytes(piece);
    special[id] = false;
  }
  for (const added of json.added_tokens ?? []) {
    if (added.id >= size) continue;
    bytes[added.id] = encoder.encode(added.content);
    special[added.id] = added.special;
  }
  for (const id of eog) if (id < size) special[id] = true;
  return { bytes, special, eog: eog.filter((id) => id < size) };
}
