import { Leaf } from './leaf.js';
import { StringLeaf } from './string-leaf.js';

/** The key alphabet of one object: declared names (a byte trie over canonical spellings) plus key leaves. */
export interface KeyTable {
  trieNext: readonly Map<number, number>[];
  /** Declared index whose spelling ends at each trie node, or -1. */
  trieEnd: readonly number[];
  /** Declared indices below each trie node. */
  trieBelow: readonly number[][];
  /** `patternProperties` key leaves. */
  patterns: readonly Leaf[];
  /** Key leaf for other keys, or null when they are forbidden. */
  additional: Leaf | null;
}

/** Where a finished key goes: a declared index, a pattern index, or the additional schema. */
export type KeyRoute = { kind: 'declared'; index: number } | { kind: 'pattern'; index: number } | { kind: 'additional' };

/**
 * The JSON string of an object key, quotes included, read as one lexeme over all the key languages at once: the
 * declared names still allowed (`allowed`), the pattern keys and the additional keys. Being a leaf lets the matcher
 * cache its masks like any string's. Final states are keys with exactly one destination (`route`); a key that would
 * match two patterns is refused.
 */
export class KeyLeaf extends Leaf {
  private readonly parts: { trie: number; pat: number[]; add: number }[] = [];

  constructor(private readonly keys: KeyTable, private readonly allowed: readonly boolean[], stateLimit: number) {
    super(stateLimit);
    this.add({ trie: 0, pat: keys.patterns.map((p) => p.start), add: keys.additional ? keys.additional.start : -1 });
  }

  private add(p: { trie: number; pat: number[]; add: number }): number {
    const id = this.intern(`${p.trie}|${p.pat.join(',')}|${p.add}`, this.routeOf(p) !== null);
    if (id === this.parts.length) this.parts.push(p);
    return id;
  }

  /** Plain tokens keep a key alive whenever the additional-key string would accept them. */
  override plainRoom(state: number): number {
    const add = this.parts[state]!.add;
    return add >= 0 ? this.keys.additional!.plainRoom(add) : -1;
  }

  /**
   * While other keys are allowed and are any string, a quote-free byte run keeps the key alive exactly when that
   * string would accept it (declared names and patterns only ever accept string content too), so the additional
   * leaf's shared mask serves every key leaf of every object for those tokens.
   */
  override quoteFreeTwin(state: number): { leaf: Leaf; state: number } | null {
    const add = this.parts[state]!.add;
    const additional = this.keys.additional;
    return add >= 0 && additional instanceof StringLeaf && additional.unconstrained ? { leaf: additional, state: add } : null;
  }

  /** The destination of a final state. */
  route(state: number): KeyRoute {
    return this.routeOf(this.parts[state]!)!;
  }

  private routeOf(p: { trie: number; pat: number[]; add: number }): KeyRoute | null {
    const declared = p.trie >= 0 ? this.keys.trieEnd[p.trie]! : -1;
    // A declared key's schema already includes any matching patternProperties (merged at compile time).
    if (declared >= 0) return this.allowed[declared] ? { kind: 'declared', index: declared } : null;
    const hits = p.pat.flatMap((s, i) => (s >= 0 && this.keys.patterns[i]!.isFinal(s) ? [i] : []));
    if (hits.length === 1) return { kind: 'pattern', index: hits[0]! };
    if (hits.length === 0 && p.add >= 0 && this.keys.additional!.isFinal(p.add)) return { kind: 'additional' };
    return null;
  }

  protected compute(state: number, b: number): number {
    const p = this.parts[state]!;
    if (this.isFinal(state)) return -1;
    const q = {
      trie: p.trie >= 0 ? (this.keys.trieNext[p.trie]!.get(b) ?? -1) : -1,
      pat: p.pat.map((s, i) => (s >= 0 ? this.keys.patterns[i]!.next(s, b) : -1)),
      add: p.add >= 0 ? this.keys.additional!.next(p.add, b) : -1,
    };
    const live = (q.trie >= 0 && this.keys.trieBelow[q.trie]!.some((i) => this.allowed[i])) || q.pat.some((s) => s >= 0) || q.add >= 0;
    if (!live) return -1;
    const closed = (q.trie >= 0 && this.keys.trieEnd[q.trie]! >= 0) || q.pat.some((s, i) => s >= 0 && this.keys.patterns[i]!.isFinal(s)) || (q.add >= 0 && this.keys.additional!.isFinal(q.add));
    // After the closing quote every component has finished or died; a key without a single destination is dead.
    if (closed && this.routeOf(q) === null) return -1;
    return this.add(q);
  }
}
