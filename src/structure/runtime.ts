import { leafMask, type LeafMask } from './leaf-masks.js';
import { CachedMask, MaskCache, mark } from './mask-cache.js';
import { DEAD, type Lexeme, ParseSpace } from './parse-space.js';
import type { TokenTrie } from './token-trie.js';
import { TypedPool } from './typed-pool.js';
import type { Vocabulary } from './vocabulary.js';

/**
 * The running parser of one grammar, shared by all its matchers: over its parse space (parse-space.ts) it caches
 * each set's byte transitions and token masks. A set is the whole parser state, so a matcher is just a set id, and
 * stepping is a table lookup once warm — in effect a lazily determinised pushdown automaton (docs/structure.md).
 */
export class Runtime extends ParseSpace {
  private readonly setRows: (Int32Array | undefined)[] = [];
  private readonly masks = new WeakMap<Vocabulary, MaskCache>();
  private readonly pool = new TypedPool();

  /** The set after byte `b` (DEAD if none). */
  step(set: number, b: number): number {
    let row = this.setRows[set];
    if (!row) this.setRows[set] = row = this.pool.int32Array(256, -1);
    let t = row[b]!;
    if (t >= 0) return t;
    const configs = this.setConfigs[set]!;
    // Most bytes kill a set of one configuration: answer those without building a seed list.
    if (configs.length === 1 && this.machines[this.cMachine[configs[0]!]!]!.next(this.cState[configs[0]!]!, b) < 0) {
      row[b] = DEAD;
      return DEAD;
    }
    const seeds: number[] = [];
    for (const c of configs) {
      const m = this.cMachine[c]!;
      const s = this.machines[m]!.next(this.cState[c]!, b);
      if (s >= 0) seeds.push(this.config(m, s, this.cFrame[c]!));
    }
    t = seeds.length === 0 ? DEAD : this.closure(seeds);
    row[b] = t;
    return t;
  }

  /** Writes the token mask of `set` into `out` (EOS bits included when accepting). Cached per set. */
  fillMask(set: number, vocab: Vocabulary, out: Uint32Array): void {
    let cache = this.masks.get(vocab);
    if (!cache) this.masks.set(vocab, (cache = new MaskCache()));
    const known = cache.get(set);
    if (known) {
      known.fill(out);
      return;
    }
    cache.add(set, this.computeMask(set, vocab, out));
  }

  /**
   * Computes the mask of `set` into `out` and returns it in a form worth keeping: a set that reads one lexeme
   * keeps a reference to that lexeme's shared mask plus the few tokens its exits and structural part add, so the
   * thousands of sets inside keys and string bodies cost no 16 KB copy each.
   */
  private computeMask(set: number, vocab: Vocabulary, out: Uint32Array): CachedMask {
    const lexical = new Set<number>();
    const lexemes: { info: LeafMask; lexeme: Lexeme }[] = [];
    for (const c of this.setConfigs[set]!) {
      const lexeme = this.lexemeOf(c);
      if (!lexeme) continue;
      lexical.add(c);
      lexemes.push({ info: leafMask(lexeme.leaf, vocab, lexeme.state), lexeme });
    }
    const base = lexemes.length === 1 ? lexemes[0]!.info.inside : null;
    if (base) out.set(base);
    else {
      out.fill(0);
      for (const { info } of lexemes) for (let i = 0; i < out.length; i++) out[i]! |= info.inside[i]!;
    }
    const added: number[] = [];
    for (const { info, lexeme } of lexemes) {
      for (let i = 0; i < info.exits.length; i += 2) {
        // Where the lexeme ends inside a token, the rest of the token is read by whatever follows it.
        const after = lexeme.after(info.exits[i + 1]!);
        if (after !== DEAD) this.walk(info.trie, info.exits[i]!, after, out, added);
      }
    }
    const rest = this.structuralPart(set, lexical);
    if (rest !== DEAD) this.walk(vocab.trie, 0, rest, out, added);
    if (this.setAccepting[set]) for (const id of vocab.eosTokenIds) mark(out, id, added);
    // A token list beats a copy while it is shorter than the mask's words.
    if ((lexemes.length === 0 || base) && added.length < out.length)
      return new CachedMask(base, Int32Array.from(added));
    return new CachedMask(out.slice(), null);
  }

  /** Marks every token below `node` that `set` can read (bytes after the node's own); new ones also go to `added`. */
  private walk(trie: TokenTrie, node: number, set: number, mask: Uint32Array, added: number[]): void {
    const { byte, end, tokenStart, tokenIds } = trie;
    const stop = end[node]!;
    for (let c = node + 1; c < stop; c = end[c]!) {
      const row = this.setRows[set];
      const known = row ? row[byte[c]!]! : -1;
      const t = known >= 0 ? known : this.step(set, byte[c]!);
      if (t === DEAD) continue;
      for (let k = tokenStart[c]!, e = tokenStart[c + 1]!; k < e; k++) mark(mask, tokenIds[k]!, added);
      if (end[c]! <= c + 1) continue;
      const sole = this.soleLeaf(t);
      if (sole) this.walkInLeaf(trie, c, sole, sole.state, mask, added);
      else this.walk(trie, c, t, mask, added);
    }
  }

  /**
   * `walk` for a set that is one lexeme in progress: the leaf's own transition table reads the bytes, so the walk
   * creates no parse sets until the lexeme ends — an object key reached mid-token (`,"name`) would otherwise make
   * one set per key prefix for every token that starts a key.
   */
  private walkInLeaf(
    trie: TokenTrie,
    node: number,
    sole: Lexeme,
    state: number,
    mask: Uint32Array,
    added: number[],
  ): void {
    const { byte, end, tokenStart, tokenIds } = trie;
    const leaf = sole.leaf;
    const stop = end[node]!;
    for (let c = node + 1; c < stop; c = end[c]!) {
      const t = leaf.next(state, byte[c]!);
      if (t < 0) continue;
      for (let k = tokenStart[c]!, e = tokenStart[c + 1]!; k < e; k++) mark(mask, tokenIds[k]!, added);
      if (end[c]! <= c + 1) continue;
      if (leaf.isFinal(t)) {
        const after = sole.after(t);
        if (after !== DEAD) this.walk(trie, c, after, mask, added);
      }
      this.walkInLeaf(trie, c, sole, t, mask, added);
    }
  }

  /** The lexeme `set` consists of, when it is exactly one leaf (or leaf view) configuration. */
  private soleLeaf(set: number): Lexeme | null {
    const configs = this.setConfigs[set]!;
    return configs.length === 1 ? this.lexemeOf(configs[0]!) : null;
  }
}
