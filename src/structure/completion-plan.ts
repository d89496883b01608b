import { DEAD } from './parse-space.js';
import type { Runtime } from './runtime.js';
import { oneByteTokens, shortestCompletion } from './shortest-completion.js';
import type { TokenTrie } from './token-trie.js';
import type { Vocabulary } from './vocabulary.js';

/** The longest vocabulary token that `bytes` starts with at `from`: its id, byte length and trie node (-1 if none). */
export function longestToken(
  trie: TokenTrie,
  bytes: ArrayLike<number>,
  from: number,
): { token: number; length: number; node: number } {
  let node = 0;
  let best = { token: -1, length: 0, node: -1 };
  for (let j = from; j < bytes.length; j++) {
    let child = node + 1;
    while (child < trie.end[node]! && trie.byte[child] !== bytes[j]) child = trie.end[child]!;
    if (child >= trie.end[node]!) break;
    node = child;
    if (trie.tokenStart[node + 1]! > trie.tokenStart[node]!)
      best = { token: trie.tokenIds[trie.tokenStart[node]!]!, length: j - from + 1, node };
  }
  return best;
}

/**
 * The shortest completion from parse set `set` as tokens, or null when there is none: its bytes, the least byte at
 * every step (so from any point of it the plan is its own rest), split greedily into the longest tokens (so from any
 * token boundary, too). A budget with fewer tokens left than the completion has bytes follows it token by token.
 */
export function completionPlan(runtime: Runtime, vocab: Vocabulary, set: number): number[] | null {
  const sc = shortestCompletion(runtime, vocab);
  const usable = oneByteTokens(vocab);
  const bytes: number[] = [];
  let d = sc.ofSet(set);
  if (!Number.isFinite(d)) return null;
  while (d > 0) {
    let next = DEAD;
    for (const b of usable) {
      const t = runtime.step(set, b);
      if (t !== DEAD && sc.ofSet(t) < d) {
        bytes.push(b);
        next = t;
        break;
      }
    }
    if (next === DEAD) return null;
    set = next;
    d = sc.ofSet(set);
  }
  const tokens: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const { token, length } = longestToken(vocab.trie, bytes, i);
    tokens.push(token);
    i += length;
  }
  return tokens;
}
