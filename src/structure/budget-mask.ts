import { leafMask } from './leaf-masks.js';
import { LexemeCuts } from './lexeme-cuts.js';
import { DEAD, type Lexeme } from './parse-space.js';
import type { Runtime } from './runtime.js';
import { shortestCompletion, type ShortestCompletion } from './shortest-completion.js';
import type { TokenTrie } from './token-trie.js';
import type { Vocabulary } from './vocabulary.js';

/** One walk of the token trie: with a mask, tokens whose shortest completion exceeds `limit` are cleared from it. */
interface Walk {
  trie: TokenTrie;
  mask: Uint32Array | null;
  limit: number;
  removed: boolean;
}

/**
 * Budget-aware masking over one runtime and vocabulary. `reach(set)` is an upper bound, cached per parse set, on the
 * shortest completion after any one token the grammar allows there; while the tokens left cover it, the plain mask
 * is already safe and nothing more is done. Only when they do not does `restrict` walk the allowed tokens and drop
 * those after which the shortest completion no longer fits (docs/structure.md, "Valid JSON at any token budget").
 */
export class BudgetMasks {
  private readonly sc: ShortestCompletion;
  private readonly cuts: LexemeCuts;
  private readonly reached: number[] = [];
  private readonly tokenMost: number[] = [];
  private readonly exitScans = new Map<TokenTrie, Map<string, number>>();

  constructor(
    private readonly runtime: Runtime,
    private readonly vocab: Vocabulary,
  ) {
    this.sc = shortestCompletion(runtime, vocab);
    this.cuts = new LexemeCuts(runtime, vocab);
  }

  /**
   * Clears from `mask` (the grammar's mask of `set`) every token after which the shortest completion would take more
   * than `limit` bytes. Returns whether any token was cleared (the budget shaped this step).
   */
  apply(set: number, mask: Uint32Array, limit: number): boolean {
    if (limit < 0) return this.onlyEos(mask);
    if (this.reach(set) <= limit) return false;
    const w: Walk = { trie: this.vocab.trie, mask, limit, removed: false };
    const configs = this.runtime.setConfigs[set]!;
    const lexeme = configs.length === 1 ? this.runtime.lexemeOf(configs[0]!) : null;
    const inside = lexeme && this.insideBound(configs[0]!) > limit ? this.sc.insideDistances(configs[0]!) : null;
    if (!lexeme) this.scan(w, 0, set);
    else if (this.insideBound(configs[0]!) <= limit) this.lexemeExits(w, lexeme);
    else if (inside) {
      // One lexeme (a string body, a number, a key): which tokens inside it to drop depends only on its state and
      // the room left for it, so that cut is cached; the tokens that leave the lexeme are scanned as usual.
      const cut = this.cuts.insideCut(
        configs[0]!,
        lexeme,
        limit - this.sc.ofFrame(this.runtime.cFrame[configs[0]!]!),
        inside.distance,
      );
      for (let i = 0; i < mask.length; i++) {
        if (mask[i]! & cut[i]!) w.removed = true;
        mask[i]! &= ~cut[i]!;
      }
      this.lexemeExits(w, lexeme);
    } else this.scan(w, 0, set);
    return w.removed;
  }

  /**
   * `ShortestCompletion.insideBound`, or where a value leaf has too many states for one (Infinity), the exact most
   * over the tokens its state can read — a walk of the few tokens a number takes, cached per configuration.
   */
  private insideBound(c: number): number {
    const bound = this.sc.insideBound(c);
    const inside = bound < Infinity ? null : this.sc.insideDistances(c);
    const lexeme = inside && this.runtime.machines[this.runtime.cMachine[c]!]!.leaf ? this.runtime.lexemeOf(c) : null;
    if (!inside || !lexeme) return bound;
    let most = this.tokenMost[c];
    if (most === undefined) {
      const w: Walk = { trie: this.vocab.trie, mask: null, limit: Infinity, removed: false };
      most = this.inLeaf(w, 0, c, lexeme, lexeme.state, inside.distance);
      this.tokenMost[c] = most;
    }
    return most;
  }

  /** An upper bound on the shortest completion after any one allowed token from `set`. Cached per set. */
  reach(set: number): number {
    let bound = this.reached[set];
    if (bound !== undefined) return bound;
    const w: Walk = { trie: this.vocab.trie, mask: null, limit: Infinity, removed: false };
    bound = this.split(w, 0, set, (lexeme) => this.lexemeExits(w, lexeme));
    this.reached[set] = bound;
    return bound;
  }

  /**
   * An upper bound over tokens below `node` read from `set`, taken apart as the runtime's masks are: a token read by a
   * lexeme configuration stays inside it (its inside bound) or leaves at an exit (`exits`); one read by the rest
   * is scanned on the set of the other configurations, which holds fewer ways (the parse after it is a superset).
   */
  private split(w: Walk, node: number, set: number, exits: (lexeme: Lexeme) => number): number {
    const lexical = new Set<number>();
    let best = -Infinity;
    for (const c of this.runtime.setConfigs[set]!) {
      const lexeme = this.runtime.lexemeOf(c);
      if (!lexeme) continue;
      lexical.add(c);
      best = Math.max(best, this.insideBound(c), exits(lexeme));
    }
    if (lexical.size === 0) return this.scan(w, node, set);
    const rest = this.runtime.structuralPart(set, lexical);
    return rest === DEAD ? best : Math.max(best, this.scan(w, node, rest));
  }

  /** The tokens that end `lexeme` inside themselves (its leaf mask's exits): the rest is read by what follows. */
  private lexemeExits(w: Walk, lexeme: Lexeme): number {
    const info = leafMask(lexeme.leaf, this.vocab, lexeme.state);
    let best = -Infinity;
    for (let i = 0; i < info.exits.length; i += 2) {
      const after = lexeme.after(info.exits[i + 1]!);
      if (after !== DEAD) best = Math.max(best, this.exitScan({ ...w, trie: info.trie }, info.exits[i]!, after, w));
    }
    return best;
  }

  /** `scan` from an exit node; without a mask the result depends only on (trie, node, set) and is cached. */
  private exitScan(w: Walk, node: number, set: number, outer: Walk): number {
    if (w.mask) {
      const d = this.scan(w, node, set);
      outer.removed ||= w.removed;
      return d;
    }
    let byTrie = this.exitScans.get(w.trie);
    if (!byTrie) this.exitScans.set(w.trie, (byTrie = new Map()));
    const key = `${node},${set}`;
    let d = byTrie.get(key);
    if (d === undefined) byTrie.set(key, (d = this.scan(w, node, set)));
    return d;
  }

  /** The most shortest completion over tokens strictly below `node`, read from `set` (parse sets, byte by byte). */
  private scan(w: Walk, node: number, set: number): number {
    const { byte, end, tokenStart } = w.trie;
    let best = -Infinity;
    for (let c = node + 1, stop = end[node]!; c < stop; c = end[c]!) {
      const t = this.runtime.step(set, byte[c]!);
      if (t === DEAD) continue;
      if (tokenStart[c + 1]! > tokenStart[c]!) {
        const d = this.sc.ofSet(t);
        best = Math.max(best, d);
        if (d > w.limit) this.clear(w, c);
      }
      if (end[c]! > c + 1) best = Math.max(best, this.below(w, c, t));
    }
    return best;
  }

  /**
   * Tokens below `node` once the parse is `set`. When that is one lexeme whose inside bound fits, only its exits
   * need a look; one that does not fit is walked on the leaf's own table (no parse sets); else `scan`.
   */
  private below(w: Walk, node: number, set: number): number {
    if (!w.mask) return this.split(w, node, set, (lexeme) => this.exitsBelow(w, node, lexeme, lexeme.state));
    const configs = this.runtime.setConfigs[set]!;
    if (configs.length === 1) {
      const c = configs[0]!;
      const lexeme = this.runtime.lexemeOf(c);
      if (lexeme) {
        const inside = this.insideBound(c);
        if (inside <= w.limit) return Math.max(inside, this.exitsBelow(w, node, lexeme, lexeme.state));
        const distances = this.sc.insideDistances(c);
        if (distances) return this.inLeaf(w, node, c, lexeme, lexeme.state, distances.distance);
      }
    }
    return this.scan(w, node, set);
  }

  /** Walks the leaf from state `x` below `node` for the places where it may end mid-token, and scans what follows. */
  private exitsBelow(w: Walk, node: number, lexeme: Lexeme, x: number): number {
    const points = this.cuts.exitPoints(w.trie, node, lexeme.leaf, x);
    let best = -Infinity;
    for (let i = 0; i < points.length; i += 2) {
      const after = lexeme.after(points[i + 1]!);
      if (after !== DEAD) best = Math.max(best, this.exitScan(w, points[i]!, after, w));
    }
    return best;
  }

  /** Exact walk inside lexeme configuration `c` from leaf state `x`: a token ending in y leaves distance(y) + the frames. */
  private inLeaf(
    w: Walk,
    node: number,
    c: number,
    lexeme: Lexeme,
    x: number,
    distance: (leafState: number) => number,
  ): number {
    const { byte, end, tokenStart } = w.trie;
    const rest = this.sc.ofFrame(this.runtime.cFrame[c]!);
    let best = -Infinity;
    for (let k = node + 1, stop = end[node]!; k < stop; k = end[k]!) {
      const y = lexeme.leaf.next(x, byte[k]!);
      if (y < 0) continue;
      if (tokenStart[k + 1]! > tokenStart[k]!) {
        const d = distance(y) + rest;
        best = Math.max(best, d);
        if (d > w.limit) this.clear(w, k);
      }
      if (end[k]! <= k + 1) continue;
      if (lexeme.leaf.isFinal(y)) {
        const after = lexeme.after(y);
        if (after !== DEAD) best = Math.max(best, this.scan(w, k, after));
      }
      best = Math.max(best, this.inLeaf(w, k, c, lexeme, y, distance));
    }
    return best;
  }

  /** No token left: only EOS (which the grammar's mask holds exactly when the document may end) stays. */
  private onlyEos(mask: Uint32Array): boolean {
    let removed = false;
    for (let i = 0; i < mask.length; i++) {
      let keep = 0;
      for (const id of this.vocab.eosTokenIds) if (id >>> 5 === i) keep |= 1 << (id & 31);
      removed ||= (mask[i]! & ~keep) !== 0;
      mask[i]! &= keep;
    }
    return removed;
  }

  /** Clears the tokens at trie node `node` from the walk's mask. */
  private clear(w: Walk, node: number): void {
    if (!w.mask) return;
    const { tokenStart, tokenIds } = w.trie;
    for (let k = tokenStart[node]!; k < tokenStart[node + 1]!; k++) {
      const id = tokenIds[k]!;
      const bit = 1 << (id & 31);
      if (w.mask[id >>> 5]! & bit) {
        w.mask[id >>> 5]! &= ~bit;
        w.removed = true;
      }
    }
  }
}

const masks = new WeakMap<Runtime, WeakMap<Vocabulary, BudgetMasks>>();

/** The budget masks of `runtime` over `vocab` (one per pair: their caches are shared by every matcher). */
export function budgetMasks(runtime: Runtime, vocab: Vocabulary): BudgetMasks {
  let byVocab = masks.get(runtime);
  if (!byVocab) masks.set(runtime, (byVocab = new WeakMap()));
  let b = byVocab.get(vocab);
  if (!b) byVocab.set(vocab, (b = new BudgetMasks(runtime, vocab)));
  return b;
}
