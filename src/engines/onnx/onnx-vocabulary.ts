/**
 * The decoder's view of a Hugging Face `tokenizer.json` (the file transformers.js loads): byte-level BPE vocabularies
 * (GPT-2, Llama 3, Qwen) or SentencePiece-style ones (`▁`, `<0xAB>` byte fallback), plus added tokens.
 */
import type { TokenVocabulary } from '../engine.js';
import { byteLevelTokenBytes, longestTokenBytes, sentencePieceTokenBytes } from '../token-bytes.js';

interface Normalizer {
  type?: string;
  normalizers?: Normalizer[];
}

interface TokenizerJson {
  model: {
    type: string;
    vocab: Record<string, number> | [string, number][];
    unk_token?: string | null;
    byte_fallback?: boolean;
  };
  normalizer?: Normalizer | null;
  decoder?: { type?: string; decoders?: { type?: string }[] } | null;
  added_tokens?: { id: number; content: string; special: boolean }[];
}

function isByteLevel(json: TokenizerJson): boolean {
  const d = json.decoder;
  return d?.type === 'ByteLevel' || (d?.decoders ?? []).some((x) => x.type === 'ByteLevel');
}

/**
 * Unicode normalisers and how far they can shrink UTF-8 text: composition merges at most three code points into one
 * of the same width (Hangul L+V+T), compatibility folding maps a 4-byte character to at least one byte (𝐀 → A),
 * case folding likewise; prepending only grows text. Any other normaliser (accent stripping, replacements, strip)
 * can delete unbounded text.
 */
const NORMALISER_SHRINK: Record<string, number> = { NFC: 4, NFD: 4, NFKC: 4, NFKD: 4, Lowercase: 4, Prepend: 1 };

function normaliserShrink(n: Normalizer | null | undefined): number {
  if (!n) return 1;
  if (n.type === 'Sequence')
    return (n.normalizers ?? []).reduce((most, inner) => Math.max(most, normaliserShrink(inner)), 1);
  return NORMALISER_SHRINK[n.type ?? ''] ?? Infinity;
}

/**
 * The `EngineModelInfo.promptBytesPerToken` bound of a tokenizer.json and its vocabulary: the longest token's bytes
 * (a token spells at most that much of the text, unknown characters included, as long as byte-level BPE or byte
 * fallback means unknowns are never fused into one token), times what the normaliser can shrink.
 */
export function promptBytesPerToken(json: TokenizerJson, vocabulary: TokenVocabulary): number {
  const bytes =
    json.model.type === 'BPE' && (isByteLevel(json) || json.model.byte_fallback === true || !json.model.unk_token);
  if (!bytes) return Infinity;
  // An unknown character becomes one token of at most 4 bytes.
  return Math.max(longestTokenBytes(vocabulary.bytes), 4) * normaliserShrink(json.normalizer);
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
