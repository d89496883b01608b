import { MatcherError } from './errors.js';
import type { Leaf } from './leaf.js';
import { leafMask, type LeafMask } from './leaf-masks.js';
import { CachedMask, MaskCache, mark } from './mask-cache.js';
import type { Limits } from './limits.js';
import type { Machine } from './machine.js';
import type { TokenTrie } from './token-trie.js';
import { TypedPool } from './typed-pool.js';
import type { Vocabulary } from './vocabulary.js';

/** A lexeme in progress: its leaf, the leaf's state, and the parse set once the lexeme has ended (DEAD if none). */
export interface Lexeme {
  leaf: Leaf;
  state: number;
  after(final: number): number;
}

/** Set id 0 is the empty set: a dead parse. */
export const DEAD = 0;

/**
 * The parse state space of one grammar, shared by all its matchers: interned parse stacks (frames), configurations
 * (machine, state, stack) and closed configuration sets, with each set's byte transitions and token masks cached.
 * A set is the whole parser state, so a matcher is just a set id, and stepping is a table lookup once warm — in
 * effect a lazily determinised pushdown automaton (docs/structure.md).
 */
export class Runtime {
  // Frames, configurations and sets by id: read (never written) by the budget analyses (shortest-completion.ts).
  readonly fMachine: number[] = [-1];
  readonly fRet: number[] = [-1];
  readonly fParent: number[] = [-1];
  private readonly fDepth: number[] = [0];
  private readonly frameIds = new Map<string, number>();
  readonly cMachine: number[] = [];
  readonly cState: number[] = [];
  readonly cFrame: number[] = [];
  private readonly configIds = new Map<string, number>();
  readonly setConfigs: Int32Array[] = [new Int32Array(0)];
  private readonly setIds = new Map<string, number>([['', 0]]);
  private readonly setAccepting: boolean[] = [false];
  private readonly setRows: (Int32Array | undefined)[] = [];
  private readonly structural: number[] = [];
  private readonly returnSets = new Map<number, number>();
  private readonly lexemes: (Lexeme | null | undefined)[] = [];
  private readonly masks = new WeakMap<Vocabulary, MaskCache>();
  private readonly pool = new TypedPool();
  /** Set id of the initial state. */
  readonly initial: number;

  constructor(readonly machines: readonly Machine[], root: number, private readonly limits: Limits) {
    this.initial = this.closure([this.config(root, machines[root]!.start, 0)]);
  }

  /** Whether the document may end in this set (a root-level final state). */
  isAccepting(set: number): boolean {
    return this.setAccepting[set]!;
  }

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
    if ((lexemes.length === 0 || base) && added.length < out.length) return new CachedMask(base, Int32Array.from(added));
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
  private walkInLeaf(trie: TokenTrie, node: number, sole: Lexeme, state: number, mask: Uint32Array, added: number[]): void {
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

  /** The lexeme configuration `c` is reading (a leaf machine or a leaf view), or null; cached per configuration. */
  lexemeOf(c: number): Lexeme | null {
    let lexeme = this.lexemes[c];
    if (lexeme !== undefined) return lexeme;
    const m = this.cMachine[c]!;
    const machine = this.machines[m]!;
    const frame = this.cFrame[c]!;
    const view = machine.leaf ? null : (machine.leafView?.(this.cState[c]!) ?? null);
    const afterSets = new Map<number, number>();
    // Once the lexeme is complete the parse goes on where the leaf view resumes, or in the caller's frame (at the
    // root, nothing may follow).
    const after = (final: number): number => {
      let id = afterSets.get(final);
      if (id === undefined) {
        id = view ? this.closure([this.config(m, view.resume(final), frame)]) : frame === 0 ? DEAD : this.returnSet(frame);
        afterSets.set(final, id);
      }
      return id;
    };
    if (machine.leaf) lexeme = { leaf: machine.leaf, state: this.cState[c]!, after };
    else if (view) lexeme = { leaf: view.leaf, state: view.state, after };
    else lexeme = null;
    this.lexemes[c] = lexeme;
    return lexeme;
  }

  /** The configurations of `set` outside leaves and leaf views, as a set of their own (those use lexeme caches). */
  structuralPart(set: number, lexical: Set<number>): number {
    let id = this.structural[set];
    if (id === undefined) {
      const keep = [...this.setConfigs[set]!].filter((c) => !lexical.has(c));
      id = this.intern(keep);
      this.structural[set] = id;
    }
    return id;
  }

  /** Where the parse continues when the lexeme on top of `frame` ends. */
  private returnSet(frame: number): number {
    let id = this.returnSets.get(frame);
    if (id === undefined) {
      id = this.closure([this.config(this.fMachine[frame]!, this.fRet[frame]!, this.fParent[frame]!)]);
      this.returnSets.set(frame, id);
    }
    return id;
  }

  private frame(parent: number, machine: number, ret: number): number {
    const key = `${parent},${machine},${ret}`;
    let id = this.frameIds.get(key);
    if (id === undefined) {
      id = this.fMachine.length;
      this.fMachine.push(machine);
      this.fRet.push(ret);
      this.fParent.push(parent);
      this.fDepth.push(this.fDepth[parent]! + 1);
      this.frameIds.set(key, id);
    }
    return id;
  }

  private config(machine: number, state: number, frame: number): number {
    const key = `${machine},${state},${frame}`;
    let id = this.configIds.get(key);
    if (id === undefined) {
      id = this.cMachine.length;
      this.cMachine.push(machine);
      this.cState.push(state);
      this.cFrame.push(frame);
      this.configIds.set(key, id);
    }
    return id;
  }

  /** Adds everything reachable by calls and returns without reading a byte, and interns the result. */
  private closure(seeds: number[]): number {
    const out = new Set<number>();
    const stack = seeds;
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (out.has(c)) continue;
      out.add(c);
      const m = this.cMachine[c]!;
      const s = this.cState[c]!;
      const f = this.cFrame[c]!;
      const machine = this.machines[m]!;
      const calls = machine.calls(s);
      // A stack deeper than the limit is dropped rather than followed: stricter, never looser.
      if (calls.length > 0 && this.fDepth[f]! < this.limits.maxStackDepth) {
        for (let i = 0; i < calls.length; i += 2) {
          const callee = calls[i]!;
          stack.push(this.config(callee, this.machines[callee]!.start, this.frame(f, m, calls[i + 1]!)));
        }
      }
      if (f !== 0 && machine.isFinal(s)) stack.push(this.config(this.fMachine[f]!, this.fRet[f]!, this.fParent[f]!));
    }
    if (out.size > this.limits.maxParallelStacks) throw new MatcherError(`more than ${this.limits.maxParallelStacks} parallel parse stacks`);
    return this.intern([...out]);
  }

  private intern(configs: number[]): number {
    configs.sort((a, b) => a - b);
    const key = configs.join(',');
    let id = this.setIds.get(key);
    if (id === undefined) {
      id = this.setConfigs.length;
      this.setConfigs.push(Int32Array.from(configs));
      this.setAccepting.push(configs.some((c) => this.cFrame[c] === 0 && this.machines[this.cMachine[c]!]!.isFinal(this.cState[c]!)));
      this.setIds.set(key, id);
    }
    return id;
  }
}

