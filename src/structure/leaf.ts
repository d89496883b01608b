import type { CharDfa } from './char-dfa.js';

/**
 * A lexeme automaton: a deterministic, lazily built DFA over bytes (strings, numbers, literals). Leaves never call
 * other machines, which is what lets the matcher cache, per leaf state, the mask of tokens that stay inside the
 * lexeme (see docs/structure.md, "lexeme masks"). Invariant every leaf keeps: a state that is not dead (-1) can
 * still reach a final state, so a token the mask allows never leads into a dead end.
 */
export abstract class Leaf {
  private static nextId = 0;
  /** Process-unique id; caches key on it. */
  readonly uid = Leaf.nextId++;
  /** The initial state. */
  readonly start = 0;
  private table = new Int32Array(256 * 2).fill(-2);
  private finals = new Uint8Array(2);
  private ids = new Map<string, number>();
  private count = 0;

  constructor(protected readonly maxStates: number) {}

  /** State after byte `b`, or -1 (dead). */
  next(state: number, b: number): number {
    const i = state * 256 + b;
    let t = this.table[i]!;
    if (t === -2) {
      t = this.compute(state, b);
      this.table[i] = t;
    }
    return t;
  }

  /**
   * The transition table, state * 256 + byte → next state (-1 dead, -2 not computed yet: call `next`). For hot loops
   * that want to skip the method call; re-read it after any `next` call, since growing replaces the array.
   */
  get transitions(): Int32Array {
    return this.table;
  }

  /** Whether the lexeme may end in this state. */
  isFinal(state: number): boolean {
    return this.finals[state] === 1;
  }

  /**
   * Mask fast path: in `state`, every token made of plain string characters (see `plainChars`) with at most this
   * many code points stays inside the lexeme; -1 when that does not hold. Leaves that are not string bodies say -1.
   */
  plainRoom(state: number): number {
    void state;
    return -1;
  }

  /**
   * Mask fast path for string bodies under a pattern (see `PlainPattern`); null where it does not apply. Leaves
   * that are not patterned string bodies say null.
   */
  plainPattern(state: number): PlainPattern | null {
    void state;
    return null;
  }

  /**
   * Mask shortcut for object keys: a state that, on bytes without a `"`, accepts exactly what `leaf` accepts from
   * `state`, so only tokens holding a quote (where the key closes and its destination matters) need a walk of their
   * own; the rest comes from `leaf`'s cached mask. Null where that does not hold.
   */
  quoteFreeTwin(state: number): { leaf: Leaf; state: number } | null {
    void state;
    return null;
  }

  /**
   * Mask shortcut for the tokens that are not plain (quotes, escapes, partial characters): a state of a leaf
   * without length bounds that reads every such token exactly as this state does, given that none adds more than
   * `reach` characters — so the walk of those tokens is shared by every length. Null where that does not hold.
   * The twin's final states then stand in for this leaf's in mask exits, which is sound because what follows a
   * value lexeme does not depend on which final state ended it (object keys, whose finals route, offer no twin).
   */
  boundFreeTwin(state: number, reach: number): { leaf: Leaf; state: number } | null {
    void state;
    void reach;
    return null;
  }

  /** Number of states created so far. */
  get stateCount(): number {
    return this.count;
  }

  /** Successor of `state` on `b`; called once per (state, byte) pair. */
  protected abstract compute(state: number, b: number): number;

  /** Interns a state by its description key. */
  protected intern(key: string, final: boolean): number {
    let id = this.ids.get(key);
    if (id !== undefined) return id;
    id = this.count++;
    if (id >= this.maxStates) throw new RangeError(`lexer automaton exceeds ${this.maxStates} states`);
    if (id * 256 >= this.table.length) {
      const grown = new Int32Array(this.table.length * 2).fill(-2);
      grown.set(this.table);
      this.table = grown;
      const finals = new Uint8Array(this.finals.length * 2);
      finals.set(this.finals);
      this.finals = finals;
    }
    this.finals[id] = final ? 1 : 0;
    this.ids.set(key, id);
    return id;
  }
}

/**
 * A patterned string body at a character boundary, split into what plain tokens depend on and what they do not.
 * Which plain tokens (see `plainChars`) the pattern lets through depends only on the pattern's state, so it is
 * walked once per pattern state and shared by every length and every leaf with that pattern; length bounds are
 * then applied per token from the pattern state it ends in and its character count, with `fits`.
 */
export interface PlainPattern {
  /** The pattern's automaton. */
  dfa: CharDfa;
  /** Its state here. */
  state: number;
  /** True when no token length can matter here (no maximum and the minimum already reached). */
  unbounded: boolean;
  /** Whether a plain token of `chars` code points that leaves the pattern in `end` keeps the string satisfiable. */
  fits(end: number, chars: number): boolean;
}

/** A fixed set of byte strings (JSON literals: `true`, `null`, enum members, keys). */
export class LiteralLeaf extends Leaf {
  private readonly nodes: Map<number, number>[] = [];
  private readonly ends: boolean[] = [];

  /** @param literals the exact byte strings accepted; must be non-empty. */
  constructor(literals: readonly Uint8Array[], maxStates: number) {
    super(maxStates);
    if (literals.length === 0) throw new RangeError('a literal set needs at least one member');
    const root = this.node();
    for (const lit of literals) {
      let n = root;
      for (const b of lit) {
        let child = this.nodes[n]!.get(b);
        if (child === undefined) {
          child = this.node();
          this.nodes[n]!.set(b, child);
        }
        n = child;
      }
      this.ends[n] = true;
    }
    for (let n = 0; n < this.nodes.length; n++) this.intern(String(n), this.ends[n]!);
  }

  private node(): number {
    this.nodes.push(new Map());
    this.ends.push(false);
    return this.nodes.length - 1;
  }

  protected compute(state: number, b: number): number {
    return this.nodes[state]!.get(b) ?? -1;
  }
}
