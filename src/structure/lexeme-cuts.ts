import type { Leaf } from './leaf.js';
import type { Lexeme } from './parse-space.js';
import type { Runtime } from './runtime.js';
import type { TokenTrie } from './token-trie.js';
import type { Vocabulary } from './vocabulary.js';

/** Inside cuts kept per runtime and vocabulary. */
const MAX_CUTS = 256;

/**
 * The budget walks that look at one lexeme alone, not at the parse around it, cached per runtime and vocabulary for
 * BudgetMasks (budget-mask.ts): which tokens inside a lexeme leave too little room to finish it, and where below a
 * trie node it may end mid-token.
 */
export class LexemeCuts {
  private readonly points = new Map<TokenTrie, Map<string, number[]>>();
  /** Per (leaf machine, leaf state, threshold): the tokens inside the lexeme that leave more than the threshold. */
  private readonly insideCuts = new Map<string, Uint32Array>();

  constructor(
    private readonly runtime: Runtime,
    private readonly vocab: Vocabulary,
  ) {}

  /** The tokens read wholly inside lexeme configuration `c` after which it needs more than `room` bytes to end. */
  insideCut(c: number, lexeme: Lexeme, room: number, distance: (leafState: number) => number): Uint32Array {
    const key = `${this.runtime.cMachine[c]!},${this.runtime.cState[c]!},${room}`;
    let cut = this.insideCuts.get(key);
    if (cut) return cut;
    cut = new Uint32Array(this.vocab.maskWords);
    const { byte, end, tokenStart, tokenIds } = this.vocab.trie;
    const leaf = lexeme.leaf;
    const visit = (node: number, x: number): void => {
      for (let k = node + 1, stop = end[node]!; k < stop; k = end[k]!) {
        const y = leaf.next(x, byte[k]!);
        if (y < 0) continue;
        if (distance(y) > room)
          for (let i = tokenStart[k]!; i < tokenStart[k + 1]!; i++)
            cut[tokenIds[i]! >>> 5]! |= 1 << (tokenIds[i]! & 31);
        if (end[k]! > k + 1) visit(k, y);
      }
    };
    visit(0, lexeme.state);
    // Kept first in, first out: a few hundred cuts of 16 KB (Llama 3) bound the memory.
    if (this.insideCuts.size >= MAX_CUTS) this.insideCuts.delete(this.insideCuts.keys().next().value!);
    this.insideCuts.set(key, cut);
    return cut;
  }

  /**
   * Where below `node` the leaf, from state `x`, is final with longer tokens below: [node, final state, …]. It
   * depends on the leaf alone, not on the parse around it, so it is found once per (trie, leaf, state, node).
   */
  exitPoints(trie: TokenTrie, node: number, leaf: Leaf, x: number): number[] {
    let byTrie = this.points.get(trie);
    if (!byTrie) this.points.set(trie, (byTrie = new Map()));
    const key = `${leaf.uid},${x},${node}`;
    let out = byTrie.get(key);
    if (out) return out;
    const found: number[] = [];
    const { byte, end } = trie;
    const visit = (n: number, state: number): void => {
      for (let c = n + 1, stop = end[n]!; c < stop; c = end[c]!) {
        if (end[c]! <= c + 1) continue;
        const y = leaf.next(state, byte[c]!);
        if (y < 0) continue;
        if (leaf.isFinal(y)) found.push(c, y);
        visit(c, y);
      }
    };
    visit(node, x);
    byTrie.set(key, (out = found));
    return out;
  }
}
