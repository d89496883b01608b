import { Prng } from './prng.js';

/**
 * Synthetic vocabulary padding for benchmark-size demo models. Real tokenizers have 32K–150K tokens and the cost of a
 * constrained decoding step grows with the vocabulary, so measuring on the demo tokenizer's ~630 tokens would flatter
 * it. The padding tokens are normal byte-level pieces shaped like real BPE entries — words with and without a leading
 * space (`Ġ`), capitalised words, digit runs, punctuation runs such as `",` — that no merge produces: tokenizing text
 * is unchanged, but the model can sample every one of them and the decoder must mask them.
 */

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
/** Printable ASCII punctuation (the byte-level alphabet writes these bytes as themselves). */
const PUNCT = '{}[]:,."\'()-_/;!?=<>*+#&|@$%';

function pick(prng: Prng, chars: string, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += chars[prng.nextUint32() % chars.length];
  return out;
}

function piece(prng: Prng): string {
  const kind = prng.nextUint32() % 100;
  const space = prng.nextUint32() % 2 === 0 ? 'Ġ' : '';
  if (kind < 75) {
    const word = pick(prng, LOWER, 2 + (prng.nextUint32() % 8));
    return space + (kind < 15 ? word.charAt(0).toUpperCase() + word.slice(1) : word);
  }
  if (kind < 85) return space + pick(prng, DIGITS, 2 + (prng.nextUint32() % 3));
  if (kind < 95) return pick(prng, PUNCT, 1 + (prng.nextUint32() % 3));
  return space + pick(prng, LOWER + DIGITS, 3 + (prng.nextUint32() % 5));
}

/** `count` distinct synthetic tokens not in `existing`, the same for the same `seed`. */
export function paddingTokens(existing: readonly string[], count: number, seed: number): string[] {
  const prng = new Prng(seed).fork('vocab-padding');
  const taken = new Set(existing);
  const out: string[] = [];
  while (out.length < count) {
    const token = piece(prng);
    if (taken.has(token)) continue;
    taken.add(token);
    out.push(token);
  }
  return out;
}
