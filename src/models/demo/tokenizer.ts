import { tokenizerCorpus } from './corpus.js';

/**
 * The demo models' shared tokenizer: byte-level BPE as in GPT-2 and Qwen2. Ids 0–255 are the 256 single bytes (in byte
 * order, written with GPT-2's printable byte↔unicode mapping), then the tokens created by merges learned from the
 * built-in corpus, then the added tokens (ChatML markers, Hermes tool tags, and whatever a model adds, such as image
 * tokens). The same lists feed both the HF `tokenizer.json` and the GGUF `tokenizer.ggml.*` keys, so both engines
 * split text into the same ids.
 */

/**
 * Qwen2's pre-tokenizer split, as Hugging Face writes it (Oniguruma syntax, in `tokenizer.json`). llama.cpp's
 * `qwen2` pre-tokenizer uses the same split, and unlike its `gpt-2` one it does not "clean up" spaces before
 * punctuation when detokenizing, so text round-trips byte for byte in both engines. Letters absorb one leading
 * non-letter (`"name`), digits stand alone, punctuation runs (`{"`, `":`) stay together.
 */
export const qwen2SplitRegex = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

/** {@link qwen2SplitRegex} for JavaScript, which has no inline `(?i:…)` group: the same split, cases spelled out. */
const qwen2SplitPattern =
  /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** A token added after the BPE vocabulary, matched whole before BPE runs. */
export interface AddedToken {
  content: string;
  /** true: a control token (ChatML markers, EOS), hidden by skip_special_tokens; false: user-defined text token. */
  special: boolean;
}

/** A built vocabulary, ready to be written in either format. */
export interface DemoTokenizer {
  /** Token strings by id, in the byte-level alphabet (a space is `Ġ`); added tokens appear verbatim. */
  tokens: string[];
  /** Merges in rank order, each as `[left, right]`. */
  merges: Array<[string, string]>;
  /** The added tokens with their ids (all ids ≥ the BPE vocabulary size). */
  added: Array<AddedToken & { id: number }>;
  /** Token that begins a document (Qwen-style: `<|endoftext|>`, not prepended automatically). */
  bosToken: string;
  /** Token that ends an assistant turn. */
  eosToken: string;
  /** Token used for padding. */
  padToken: string;
}

/** Options for {@link buildDemoTokenizer}. */
export interface DemoTokenizerOptions {
  /** Number of merges to learn (fewer if the corpus runs out of repeated pairs). Default 400. */
  mergeCount?: number;
  /** Added tokens after the shared ones (for example a VLM's image tokens). */
  extraTokens?: AddedToken[];
  /** End-of-turn token; default `<|im_end|>`. Must be one of the added tokens. */
  eosToken?: string;
}

/** The added tokens every demo model has: ChatML, Hermes/Qwen tool-call tags, end of text. */
export const sharedAddedTokens: readonly AddedToken[] = [
  { content: '<|endoftext|>', special: true },
  { content: '<|im_start|>', special: true },
  { content: '<|im_end|>', special: true },
  { content: '<tool_call>', special: false },
  { content: '</tool_call>', special: false },
  { content: '<tool_response>', special: false },
  { content: '</tool_response>', special: false },
];

/** GPT-2's byte → printable character table: printable Latin-1 bytes map to themselves, the rest to U+0100 on. */
export function byteToUnicode(): string[] {
  const table: string[] = new Array<string>(256);
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCodePoint(printable ? b : next++);
  }
  return table;
}

/** Splits text into pre-tokens and writes each in the byte-level alphabet. */
export function byteLevelWords(text: string, table: string[] = byteToUnicode()): string[] {
  const encoder = new TextEncoder();
  return (text.match(qwen2SplitPattern) ?? []).map((word) =>
    Array.from(encoder.encode(word), (b) => table[b] ?? '').join(''),
  );
}

/**
 * Learns BPE merges from a corpus: repeatedly joins the most frequent adjacent pair. Ties go to the pair whose
 * `left + ' ' + right` sorts first, so the result depends only on the corpus, never on Map iteration order.
 */
export function learnMerges(corpus: readonly string[], mergeCount: number): Array<[string, string]> {
  const table = byteToUnicode();
  const counts = new Map<string, number>();
  for (const line of corpus) {
    for (const word of byteLevelWords(line, table)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const words = [...counts.entries()].map(([word, freq]) => ({ symbols: Array.from(word), freq }));
  const merges: Array<[string, string]> = [];
  while (merges.length < mergeCount) {
    const pairs = new Map<string, number>();
    for (const { symbols, freq } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + freq);
      }
    }
    let best: string | undefined;
    let bestCount = 1; // a pair seen once teaches nothing
    for (const [key, count] of pairs) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split(' ') as [string, string];
    merges.push([left, right]);
    for (const word of words) word.symbols = applyMerge(word.symbols, left, right);
  }
  return merges;
}

function applyMerge(symbols: string[], left: string, right: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === left && symbols[i + 1] === right) {
      out.push(left + right);
      i++;
    } else {
      out.push(symbols[i] ?? '');
    }
  }
  return out;
}

/** Builds the demo vocabulary: bytes, learned merges, shared added tokens, then `extraTokens`. */
export function buildDemoTokenizer(options: DemoTokenizerOptions = {}): DemoTokenizer {
  const tokens = byteToUnicode();
  const known = new Set(tokens);
  const merges = learnMerges(tokenizerCorpus, options.mergeCount ?? 400);
  for (const [left, right] of merges) {
    const joined = left + right;
    if (!known.has(joined)) {
      known.add(joined);
      tokens.push(joined);
    }
  }
  const added = [...sharedAddedTokens, ...(options.extraTokens ?? [])].map((token) => {
    if (known.has(token.content)) throw new Error(`added token ${token.content} collides with the BPE vocabulary`);
    known.add(token.content);
    tokens.push(token.content);
    return { ...token, id: tokens.length - 1 };
  });
  const eosToken = options.eosToken ?? '<|im_end|>';
  if (!added.some((token) => token.content === eosToken)) throw new Error(`eos token ${eosToken} is not added`);
  return { tokens, merges, added, bosToken: '<|endoftext|>', eosToken, padToken: '<|endoftext|>' };
}

/** Id of a token string; throws when absent (callers ask only for tokens they added). */
export function tokenId(tokenizer: DemoTokenizer, content: string): number {
  const id = tokenizer.tokens.indexOf(content);
  if (id < 0) throw new Error(`token ${content} is not in the demo vocabulary`);
  return id;
}
