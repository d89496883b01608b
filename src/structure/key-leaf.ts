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
export type KeyRoute =
  | { kind: 'declared'; index: number }
  | { kind: 'pattern'; index: number }
  | { kind: 'additional' };

/**
 * A key leaf state: the declared-name trie node (-1 once off it) with the allowed names below it, the pattern
 * leaves' states and the additional leaf's state (-1 = dead).
 */
interface Part {
  trie: number;
  /** Allowed declared indices below `trie`, ascending. */
  allow: readonly number[];
  pat: readonly number[];
  add: number;
}

/**
 * The JSON string of an object key, quotes included, read as one lexeme over all the key languages at once: the
 * declared names still allowed, the pattern keys and the additional keys. Being a leaf lets the matcher cache its
 * masks like any string's. Final states are keys with exactly one destination (`route`); a key that would match two
 * patterns is refused.
 *
 * One leaf serves every point of an object, whichever names are still allowed there (`startFor`): a state keeps
 * only the allowed names below its trie node, so once a key prefix has narrowed to a few names — or left the
 * declared names — the states, and their cached masks, are shared by every allowed set that agrees there.
 */
export class KeyLeaf extends Leaf {
  private readonly parts: Part[] = [];

  /** State 0 is the start with every declared name allowed. */
  constructor(
    private readonly keys: KeyTable,
    stateLimit: number,
  ) {
    super(stateLimit);
    this.startFor(keys.trieBelow[0]!.map(() => true));
  }

  /** The start state (before the opening quote) when `allowed[i]` says which declared names may come. */
  startFor(allowed: readonly boolean[]): number {
    const allow = this.keys.trieBelow[0]!.filter((i) => allowed[i]);
    return this.add({
      trie: 0,
      allow,
      pat: this.keys.patterns.map((p) => p.start),
      add: this.keys.additional ? this.keys.additional.start : -1,
    });
  }

  private add(p: Part): number {
    const id = this.intern(`${p.trie}|${p.allow.join(',')}|${p.pat.join(',')}|${p.add}`, this.routeOf(p) !== null);
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
    return add >= 0 && additional instanceof StringLeaf && additional.unconstrained
      ? { leaf: additional, state: add }
      : null;
  }

  /** The destination of a final state. */
  route(state: number): KeyRoute {
    return this.routeOf(this.parts[state]!)!;
  }

  private routeOf(p: Part): KeyRoute | null {
    const declared = p.trie >= 0 ? this.keys.trieEnd[p.trie]! : -1;
    // A declared key's schema already includes any matching patternProperties (merged at compile time).
    if (declared >= 0) return p.allow.includes(declared) ? { kind: 'declared', index: declared } : null;
    const hits = p.pat.flatMap((s, i) => (s >= 0 && this.keys.patterns[i]!.isFinal(s) ? [i] : []));
    if (hits.length === 1) return { kind: 'pattern', index: hits[0]! };
    if (hits.length === 0 && p.add >= 0 && this.keys.additional!.isFinal(p.add)) return { kind: 'additional' };
    return null;
  }

  protected compute(state: number, b: number): number {
    const p = this.parts[state]!;
    if (this.isFinal(state)) return -1;
    // The trie node is kept even when no allowed name is left below it: a key spelling a declared name that is not
    // allowed must die, not pass as an additional key.
    const trie = p.trie >= 0 ? (this.keys.trieNext[p.trie]!.get(b) ?? -1) : -1;
    const below = trie >= 0 ? this.keys.trieBelow[trie]! : [];
    const q: Part = {
      trie,
      allow: p.allow.filter((i) => below.includes(i)),
      pat: p.pat.map((s, i) => (s >= 0 ? this.keys.patterns[i]!.next(s, b) : -1)),
      add: p.add >= 0 ? this.keys.additional!.next(p.add, b) : -1,
    };
    if (q.allow.length === 0 && !q.pat.some((s) => s >= 0) && q.add < 0) return -1;
    const closed =
      (q.trie >= 0 && this.keys.trieEnd[q.trie]! >= 0) ||
      q.pat.some((s, i) => s >= 0 && this.keys.patterns[i]!.isFinal(s)) ||
      (q.add >= 0 && this.keys.additional!.isFinal(q.add));
    // After the closing quote every component has finished or died; a key without a single destination is dead.
    if (closed && this.routeOf(q) === null) return -1;
    return this.add(q);
  }
}
