import type { Leaf } from './leaf.js';
import { StringLeaf } from './string-leaf.js';
import { addPatternedPlain } from './pattern-masks.js';
import { TokenTrie } from './token-trie.js';
import type { Vocabulary } from './vocabulary.js';
import { sharedPool } from './typed-pool.js';

/** Per leaf state: the tokens that stay inside the lexeme, and where inside a token the lexeme may end. */
export interface LeafMask {
  /** Bitmask of tokens whose every byte the leaf accepts from this state. */
  inside: Uint32Array;
  /** The trie `exits` refers to. */
  trie: TokenTrie;
  /** Pairs (trie node, leaf state) where the leaf is final and the node has longer tokens below it. */
  exits: Int32Array;
}

/** Per vocabulary: tokens made only of plain string characters, by character count, and a trie of all others. */
export interface PlainIndex {
  /** atMost[c] = mask of plain tokens with at most c code points (c up to the longest plain token). */
  atMost: Uint32Array[];
  /** Code points of each token when plain, else -1. */
  chars: Int32Array;
  /** Trie of the tokens that are not plain (quotes, escapes, controls, partial UTF-8). */
  rest: TokenTrie;
  /** The most characters one of those tokens can add to a string (see `Leaf.boundFreeTwin`). */
  reach: number;
}

const cache = new WeakMap<Leaf, WeakMap<Vocabulary, Map<number, LeafMask>>>();
const plainIndexes = new WeakMap<Vocabulary, PlainIndex>();
const quoteIndexes = new WeakMap<Vocabulary, { mask: Uint32Array; trie: TokenTrie }>();

/**
 * The lexeme mask of `leaf` in `state`, computed once per (leaf, vocabulary, state) by a depth-first walk of the
 * token trie that follows only the leaf's own DFA. Leaves are shared between grammars, so a string body's mask is
 * paid for once per tokenizer, not once per schema or request. Free string bodies take a faster path: plain tokens
 * come from precomputed masks by length, and only the few tokens holding quotes or escapes are walked.
 */
export function leafMask(leaf: Leaf, vocab: Vocabulary, state: number): LeafMask {
  let byVocab = cache.get(leaf);
  if (!byVocab) cache.set(leaf, (byVocab = new WeakMap()));
  let byState = byVocab.get(vocab);
  if (!byState) byVocab.set(vocab, (byState = new Map()));
  let info = byState.get(state);
  if (!info) {
    const twin = leaf.quoteFreeTwin(state);
    const room = twin ? -1 : leaf.plainRoom(state);
    const pattern = twin || room >= 0 ? null : leaf.plainPattern(state);
    if (twin) {
      const quotes = quoteIndex(vocab);
      info = walk(leaf, vocab, quotes.trie, state);
      const body = leafMask(twin.leaf, vocab, twin.state).inside;
      for (let i = 0; i < body.length; i++) info.inside[i]! |= body[i]! & ~quotes.mask[i]!;
    } else if (room >= 0 || pattern) {
      // Only the few tokens that are not plain are walked byte by byte (once for every length where a bound-free
      // twin reads them alike); plain ones come from the precomputed masks.
      const index = plainIndex(vocab);
      const far = leaf.boundFreeTwin(state, index.reach);
      if (far) {
        // The shared walk is kept as it is; this state's mask adds its own plain tokens to a copy.
        const rest = restWalk(far.leaf, vocab, far.state, index);
        info = { inside: sharedPool.uint32Array(vocab.maskWords), trie: rest.trie, exits: rest.exits };
        info.inside.set(rest.inside);
      } else info = walk(leaf, vocab, index.rest, state);
      if (pattern) addPatternedPlain(pattern, vocab, index, info.inside);
      else {
        const plain = index.atMost[Math.min(room, index.atMost.length - 1)]!;
        for (let i = 0; i < plain.length; i++) info.inside[i]! |= plain[i]!;
      }
    } else info = walk(leaf, vocab, vocab.trie, state);
    byState.set(state, info);
  }
  return info;
}

const restWalks = new WeakMap<Leaf, WeakMap<Vocabulary, Map<number, LeafMask>>>();

/** The walk of the tokens that are not plain from `state`, cached per (leaf, vocabulary, state). */
function restWalk(leaf: Leaf, vocab: Vocabulary, state: number, index: PlainIndex): LeafMask {
  let byVocab = restWalks.get(leaf);
  if (!byVocab) restWalks.set(leaf, (byVocab = new WeakMap()));
  let byState = byVocab.get(vocab);
  if (!byState) byVocab.set(vocab, (byState = new Map()));
  let info = byState.get(state);
  if (!info) byState.set(state, (info = walk(leaf, vocab, index.rest, state)));
  return info;
}

/** Per vocabulary: the tokens holding a `"` byte, as a mask and as a trie of their own. */
function quoteIndex(vocab: Vocabulary): { mask: Uint32Array; trie: TokenTrie } {
  let index = quoteIndexes.get(vocab);
  if (index) return index;
  const quoted = vocab.tokens.map((t) => (t && t.includes(0x22) ? t : null));
  const mask = new Uint32Array(vocab.maskWords);
  quoted.forEach((t, id) => {
    if (t) mask[id >>> 5]! |= 1 << (id & 31);
  });
  index = { mask, trie: new TokenTrie(quoted) };
  quoteIndexes.set(vocab, index);
  return index;
}

function plainIndex(vocab: Vocabulary): PlainIndex {
  let index = plainIndexes.get(vocab);
  if (index) return index;
  const chars = Int32Array.from(vocab.tokens, (t) => (t ? plainChars(t) : -1));
  const longest = chars.reduce((a, b) => Math.max(a, b), 0);
  const byCount: number[][] = Array.from({ length: longest + 1 }, () => []);
  chars.forEach((n, id) => {
    if (n > 0) byCount[n]!.push(id);
  });
  const atMost: Uint32Array[] = [];
  for (let c = 0; c <= longest; c++) {
    const mask = c > 0 ? atMost[c - 1]!.slice() : new Uint32Array(vocab.maskWords);
    for (const id of byCount[c]!) mask[id >>> 5]! |= 1 << (id & 31);
    atMost.push(mask);
  }
  const rest = new TokenTrie(vocab.tokens.map((t, id) => (chars[id]! > 0 ? null : t)));
  index = { atMost, chars, rest, reach: charsPerToken(rest) };
  plainIndexes.set(vocab, index);
  return index;
}

function walk(leaf: Leaf, vocab: Vocabulary, trie: TokenTrie, start: number): LeafMask {
  const { byte, end, tokenStart, tokenIds } = trie;
  const inside = sharedPool.uint32Array(vocab.maskWords);
  const exits: number[] = [];
  let table = leaf.transitions;
  const visit = (node: number, state: number): void => {
    const stop = end[node]!;
    const row = state * 256;
    for (let c = node + 1; c < stop; c = end[c]!) {
      // Inline table lookup: this loop runs once per trie node of the walk, the method call is measurable.
      let t = table[row + byte[c]!]!;
      if (t === -2) {
        t = leaf.next(state, byte[c]!);
        table = leaf.transitions;
      }
      if (t < 0) continue;
      for (let k = tokenStart[c]!, e = tokenStart[c + 1]!; k < e; k++) {
        const id = tokenIds[k]!;
        inside[id >>> 5]! |= 1 << (id & 31);
      }
      if (end[c]! > c + 1) {
        if (leaf.isFinal(t)) exits.push(c, t);
        visit(c, t);
      }
    }
  };
  visit(0, start);
  return { inside, trie, exits: Int32Array.from(exits) };
}

/**
 * Code points in `bytes` if every byte is a plain string-body byte (not `"`, `\\` or a control) and the bytes are
 * whole, valid UTF-8 characters; -1 otherwise. Mirrors `StringLeaf`'s `bodyByte`/`continuation` exactly.
 */
export function plainChars(bytes: Uint8Array): number {
  let chars = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b < 0x80) {
      if (b < 0x20 || b === 0x22 || b === 0x5c) return -1;
      need = 0;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return -1;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < lo || c > hi) return -1;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
    chars++;
  }
  return chars;
}

/**
 * The most characters a JSON string body can read from one token of `trie` that it accepts or closes on (a
 * character or escape begun counts), for `boundFreeTwin`'s `reach`: a walk of the trie on a string that counts up
 * to a length no token reaches.
 */
export function charsPerToken(trie: TokenTrie): number {
  const leaf = new StringLeaf({ dfa: null, minLength: 0, maxLength: 1 << 20 }, 1 << 20);
  let most = 0;
  const visit = (node: number, state: number): void => {
    for (let c = node + 1; c < trie.end[node]!; c = trie.end[c]!) {
      const t = leaf.next(state, trie.byte[c]!);
      if (t < 0) continue;
      // Only where a token ends or the string closes does a length check change the mask (bytes that merely pass
      // through on the way to a rejected token do not).
      if (leaf.isFinal(t) || trie.tokenStart[c + 1]! > trie.tokenStart[c]!) most = Math.max(most, leaf.charsRead(t));
      if (!leaf.isFinal(t)) visit(c, t);
    }
  };
  visit(0, leaf.next(leaf.start, 0x22));
  return most;
}
