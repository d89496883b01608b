import { parseRegex, RegexSyntaxError, type RegexNode, type Ranges } from './regex-parser.js';

const CHAR = 0;
const SPLIT = 1;
const EPS = 2;
const BOL = 3;
const EOL = 4;
const MATCH = 5;
const ANY: Ranges = [0, 0x10ffff];

/**
 * Steps of automaton work (NFA nodes built or walked, DFA states and transitions made, states visited by the
 * liveness and distance searches) one pattern may spend over its lifetime. Counting steps rather than time keeps
 * the refusal deterministic; at roughly 10–20 M steps/s on one core of a small server this caps any pattern, refused
 * or accepted, at about 10–20 ms of the event loop. Work already done (cached states and rows) is free. Of the 9,311
 * MaskBench schemas, 9 have a pattern over it (1 M steps would admit 6 of them at ~5× the cost).
 */
export const MAX_REGEX_WORK = 200_000;

/**
 * Steps all the automata built while compiling one request's grammars may spend together (`withRegexBudget`): as
 * much as one pattern, so a request costs no more than its most expensive pattern could.
 */
export const MAX_REQUEST_REGEX_WORK = MAX_REGEX_WORK;

/** The budget shared by every automaton while `withRegexBudget` runs; null outside it. */
let shared: { left: number; total: number } | null = null;

/**
 * Runs `compile` with every regex automaton it builds or explores also charged to one shared budget of `steps`
 * (default `MAX_REQUEST_REGEX_WORK`): a schema with hundreds of patterns, each under its own budget, cannot add up
 * to seconds. The automaton that crosses it throws the same RangeError as one over its own budget (the word
 * `exceeds` is what the compiler turns into a CompileError rather than an unsatisfiable subschema).
 */
export function withRegexBudget<T>(compile: () => T, steps = MAX_REQUEST_REGEX_WORK): T {
  const outer = shared;
  shared = { left: steps, total: steps };
  try {
    return compile();
  } finally {
    shared = outer;
  }
}

/**
 * A deterministic automaton over Unicode code points, built lazily (subset construction on demand) from a regex
 * NFA, so large character classes and `{m,n}` counts cost only the states a document actually visits. State -1 is
 * dead. Used for `pattern`, `format` and property-name patterns inside the JSON string lexer.
 */
export class CharDfa {
  /** The initial state. */
  readonly start: number;
  private readonly kind: number[] = [];
  private readonly next: number[] = [];
  private readonly alt: number[] = [];
  private readonly sets: (Ranges | null)[] = [];
  /** Interval boundaries: every code point of [bounds[i], bounds[i+1]) is in the same character sets. */
  private readonly bounds: number[];
  /** Class of each interval: intervals in exactly the same sets share a class (`[^\s]` is one class, not ten). */
  private readonly intervalClass: Int32Array;
  /** First code point of each class. */
  private readonly classFirst: number[] = [];
  private readonly ids = new Map<string, number>();
  private readonly members: number[][] = [];
  private readonly accepting: boolean[] = [];
  private readonly table: Int32Array[] = [];
  private readonly liveness: (boolean | undefined)[] = [];
  private readonly distance: (number | undefined)[] = [];
  private readonly liveRows: (Int32Array | undefined)[] = [];
  private readonly openness: (boolean | undefined)[] = [];
  private asciiTable: Int32Array | undefined;
  /** Steps spent so far (see `MAX_REGEX_WORK`). */
  private work = 0;

  /**
   * @param node regex AST; `search` wraps it in `[^]*…[^]*` as JSON Schema's unanchored `pattern` requires.
   * @param maxStates refuse (throw RangeError) beyond this many NFA or DFA states.
   * @param maxWork refuse (throw RangeError) once this many steps of work are spent; default `MAX_REGEX_WORK`.
   */
  constructor(
    node: RegexNode,
    search: boolean,
    private readonly maxStates: number,
    private readonly maxWork = MAX_REGEX_WORK,
  ) {
    const match = this.add(MATCH, -1, -1, null);
    let body: RegexNode = node;
    if (search) body = { t: 'cat', items: [{ t: 'rep', item: { t: 'set', ranges: ANY }, min: 0, max: -1 }, node, { t: 'rep', item: { t: 'set', ranges: ANY }, min: 0, max: -1 }] };
    const entry = this.build(body, match);
    const cuts = new Set<number>([0, 0xd800, 0xe000, 0x110000]);
    for (const r of this.sets) if (r) for (let i = 0; i < r.length; i += 2) cuts.add(r[i]!).add(r[i + 1]! + 1);
    this.bounds = [...cuts].sort((a, b) => a - b);
    this.intervalClass = this.classifyIntervals();
    this.start = this.intern(this.closure([entry], true), true);
  }

  /** Compiles an ECMAScript pattern (u flag). Throws RegexSyntaxError or RangeError (too large or too costly). */
  static fromPattern(pattern: string, search: boolean, maxStates: number, maxWork = MAX_REGEX_WORK): CharDfa {
    // Parsing is linear in the source; the budget refuses a source too long to be worth parsing at all.
    if (pattern.length > maxWork) throw new RangeError(`regex automaton exceeds its work budget (${pattern.length} characters)`);
    return new CharDfa(parseRegex(pattern), search, maxStates, maxWork);
  }

  /** Charges `steps` of work; throws RangeError past the budget (the message says `exceeds`, as size limits do). */
  private spend(steps: number): void {
    this.work += steps;
    if (this.work > this.maxWork) throw new RangeError(`regex automaton exceeds its work budget of ${this.maxWork} steps`);
    if (shared && (shared.left -= steps) < 0) {
      throw new RangeError(`regex automaton exceeds the work budget its request shares (${shared.total} steps)`);
    }
  }

  /** Number of input classes; every code point in one class behaves alike. */
  get classCount(): number {
    return this.classFirst.length;
  }

  /** The class of a code point. */
  classOf(cp: number): number {
    return this.intervalClass[this.intervalOf(cp)]!;
  }

  /** A code point of class `c` (its first). */
  classStart(c: number): number {
    return this.classFirst[c]!;
  }

  /** Whether every code point in [lo, hi] is of one class. */
  oneClass(lo: number, hi: number): boolean {
    const first = this.intervalOf(lo);
    const last = this.intervalOf(hi);
    for (let i = first + 1; i <= last; i++) if (this.intervalClass[i] !== this.intervalClass[first]) return false;
    return true;
  }

  /** The first code point after the interval holding `cp` (0x110000 past the end); code points of one interval behave alike. */
  nextIntervalStart(cp: number): number {
    return this.bounds[this.intervalOf(cp) + 1]!;
  }

  /** The class of each ASCII code point, as a table (walks look them up per trie node). */
  get asciiClasses(): Int32Array {
    this.asciiTable ??= Int32Array.from({ length: 128 }, (_, cp) => this.classOf(cp));
    return this.asciiTable;
  }

  /** The class every non-ASCII code point a JSON string can carry falls in, or -1 when they fall in several. */
  get nonAsciiClass(): number {
    let cls: number | undefined;
    for (let i = this.intervalOf(0x80); i < this.bounds.length - 1; i++) {
      const c = this.intervalClass[i]!;
      if (!this.usableClass(c)) continue;
      if (cls === undefined) cls = c;
      else if (cls !== c) return -1;
    }
    return cls ?? -1;
  }

  /** The first code point of every interval: enough letters to tell apart what any two automata can. */
  intervalStarts(): number[] {
    return this.bounds.slice(0, -1);
  }

  private intervalOf(cp: number): number {
    let lo = 0;
    let hi = this.bounds.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.bounds[mid]! <= cp) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Gives intervals that lie in exactly the same character sets one class. Surrogates (which no JSON string
   * carries) stay apart so `usableClass` can leave them out.
   */
  private classifyIntervals(): Int32Array {
    const distinct = [...new Set(this.sets.filter((r): r is Ranges => r !== null))];
    const ids = new Map<string, number>();
    const out = new Int32Array(this.bounds.length - 1);
    for (let i = 0; i < out.length; i++) {
      this.spend(distinct.length + 1);
      const cp = this.bounds[i]!;
      const surrogate = cp >= 0xd800 && cp <= 0xdfff;
      const key = (surrogate ? 's' : '') + distinct.map((r) => (contains(r, cp) ? 1 : 0)).join('');
      let c = ids.get(key);
      if (c === undefined) {
        ids.set(key, (c = this.classFirst.length));
        this.classFirst.push(cp);
      }
      out[i] = c;
    }
    return out;
  }

  /** Whether a class holds characters a JSON string can carry (surrogate code points cannot). */
  private usableClass(c: number): boolean {
    const first = this.classFirst[c]!;
    return first < 0xd800 || first > 0xdfff;
  }

  /** State after reading code point `cp`, or -1. */
  step(state: number, cp: number): number {
    return this.stepClass(state, this.classOf(cp));
  }

  /** Whether the text read so far is in the language. */
  isAccepting(state: number): boolean {
    return this.accepting[state]!;
  }

  /** Whether some continuation reaches an accepting state. */
  isLive(state: number): boolean {
    const known = this.liveness[state];
    if (known !== undefined) return known;
    const seen = this.explore(state);
    // Fixpoint over the explored subgraph: live if accepting or some successor is live.
    let changed = true;
    const live = new Map<number, boolean>(seen.map((s) => [s, this.accepting[s]! || this.liveness[s] === true]));
    while (changed) {
      changed = false;
      for (const s of seen) {
        if (live.get(s)) continue;
        this.spend(this.classCount);
        for (let c = 0; c < this.classCount; c++) {
          const t = this.usableClass(c) ? this.stepClass(s, c) : -1;
          if (t >= 0 && live.get(t)) {
            live.set(s, true);
            changed = true;
            break;
          }
        }
      }
    }
    for (const [s, v] of live) this.liveness[s] = v;
    return live.get(state)!;
  }

  /** The state after each class, -1 where that is dead or can no longer reach acceptance; cached per state. */
  liveSteps(state: number): Int32Array {
    let row = this.liveRows[state];
    if (!row) {
      row = new Int32Array(this.classCount);
      this.spend(row.length);
      for (let c = 0; c < row.length; c++) {
        const t = this.usableClass(c) ? this.stepClass(state, c) : -1;
        row[c] = t >= 0 && this.isLive(t) ? t : -1;
      }
      this.liveRows[state] = row;
    }
    return row;
  }

  /**
   * Whether from `state` every text stays live: no character is ever dead in any state reachable from it (an
   * unanchored pattern, or one whose every continuation can still match). A string there accepts any text.
   */
  isOpen(state: number): boolean {
    const known = this.openness[state];
    if (known !== undefined) return known;
    const reachable = this.explore(state);
    this.spend(reachable.length * this.classCount);
    const open = reachable.every((s) => this.isLive(s) && this.classFirst.every((_, c) => !this.usableClass(c) || this.stepClass(s, c) >= 0));
    // Every state reachable from an open one is open too.
    if (open) for (const s of reachable) this.openness[s] = true;
    this.openness[state] = open;
    return open;
  }

  /** Whether `state` accepts and every character keeps it there (the rest of the text cannot matter). */
  isUniversal(state: number): boolean {
    if (!this.accepting[state]) return false;
    for (let c = 0; c < this.classCount; c++) if (this.usableClass(c) && this.stepClass(state, c) !== state) return false;
    return true;
  }

  /** Fewest characters from `state` to an accepting state (Infinity if none). */
  shortestAccept(state: number): number {
    const known = this.distance[state];
    if (known !== undefined) return known;
    let frontier = [state];
    const seen = new Set(frontier);
    for (let d = 0; frontier.length > 0; d++) {
      if (frontier.some((s) => this.accepting[s])) {
        this.distance[state] = d;
        return d;
      }
      const next: number[] = [];
      this.spend(frontier.length * this.classCount);
      for (const s of frontier) {
        for (let c = 0; c < this.classCount; c++) {
          const t = this.usableClass(c) ? this.stepClass(s, c) : -1;
          if (t >= 0 && !seen.has(t)) {
            seen.add(t);
            next.push(t);
          }
        }
      }
      frontier = next;
    }
    this.distance[state] = Infinity;
    return Infinity;
  }

  /** Distinct successor states (over usable classes) — for searches that combine the DFA with a length. */
  successors(state: number): number[] {
    this.spend(this.classCount);
    const out = new Set<number>();
    for (let c = 0; c < this.classCount; c++) {
      const t = this.usableClass(c) ? this.stepClass(state, c) : -1;
      if (t >= 0) out.add(t);
    }
    return [...out];
  }

  private explore(state: number): number[] {
    const seen = new Set([state]);
    const stack = [state];
    while (stack.length > 0) {
      for (const t of this.successors(stack.pop()!)) {
        if (!seen.has(t)) {
          seen.add(t);
          stack.push(t);
        }
      }
    }
    return [...seen];
  }

  /** State after reading any code point of class `c`, or -1. */
  stepClass(state: number, c: number): number {
    const row = this.table[state]!;
    let t = row[c]!;
    if (t !== -2) return t;
    const cp = this.classFirst[c]!;
    this.spend(this.members[state]!.length);
    const targets: number[] = [];
    for (const n of this.members[state]!) {
      if (this.kind[n] === CHAR && contains(this.sets[n]!, cp)) targets.push(this.next[n]!);
    }
    t = targets.length === 0 ? -1 : this.intern(this.closure(targets, false), false);
    row[c] = t;
    return t;
  }

  private intern(core: number[], atStart: boolean): number {
    if (core.length === 0) return -1;
    const key = (atStart ? 's' : '') + core.join(',');
    let id = this.ids.get(key);
    if (id !== undefined) return id;
    id = this.members.length;
    this.spend(core.length + this.classCount);
    if (id >= this.maxStates) throw new RangeError(`regex automaton exceeds ${this.maxStates} states`);
    this.ids.set(key, id);
    this.members.push(core);
    this.accepting.push(this.acceptsAtEnd(core, atStart));
    this.table.push(new Int32Array(this.classCount).fill(-2));
    return id;
  }

  /** Core states (CHAR, EOL, MATCH) reachable by epsilon moves; `^` passes only at the start of input. */
  private closure(roots: number[], atStart: boolean): number[] {
    const seen = new Set<number>();
    const core: number[] = [];
    const stack = [...roots];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      this.spend(1);
      const k = this.kind[n];
      if (k === SPLIT) stack.push(this.next[n]!, this.alt[n]!);
      else if (k === EPS) stack.push(this.next[n]!);
      else if (k === BOL) {
        if (atStart) stack.push(this.next[n]!);
      } else core.push(n);
    }
    return core.sort((a, b) => a - b);
  }

  private acceptsAtEnd(core: number[], atStart: boolean): boolean {
    const stack = [...core];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      this.spend(1);
      const k = this.kind[n];
      if (k === MATCH) return true;
      if (k === EOL || k === EPS) stack.push(this.next[n]!);
      else if (k === SPLIT) stack.push(this.next[n]!, this.alt[n]!);
      else if (k === BOL && atStart) stack.push(this.next[n]!);
    }
    return false;
  }

  private add(kind: number, next: number, alt: number, set: Ranges | null): number {
    if (this.kind.length >= this.maxStates) throw new RangeError(`regex NFA exceeds ${this.maxStates} states`);
    this.spend(1);
    this.kind.push(kind);
    this.next.push(next);
    this.alt.push(alt);
    this.sets.push(set);
    return this.kind.length - 1;
  }

  /** Thompson construction, back to front: returns the entry state of `node` whose exit leads to `out`. */
  private build(node: RegexNode, out: number): number {
    switch (node.t) {
      case 'set':
        return this.add(CHAR, out, -1, node.ranges);
      case 'bol':
        return this.add(BOL, out, -1, null);
      case 'eol':
        return this.add(EOL, out, -1, null);
      case 'cat':
        return node.items.reduceRight((next, item) => this.build(item, next), out);
      case 'alt': {
        const entries = node.items.map((item) => this.build(item, out));
        return entries.reduceRight((rest, entry) => this.add(SPLIT, entry, rest, null));
      }
      case 'rep': {
        let cur = out;
        if (node.max === -1) {
          const loop = this.add(SPLIT, -1, out, null);
          this.next[loop] = this.build(node.item, loop);
          cur = loop;
        } else {
          for (let i = node.min; i < node.max; i++) cur = this.add(SPLIT, this.build(node.item, cur), out, null);
        }
        for (let i = 0; i < node.min; i++) cur = this.build(node.item, cur);
        return cur;
      }
    }
  }
}

function contains(r: Ranges, cp: number): boolean {
  for (let i = 0; i < r.length; i += 2) {
    if (cp < r[i]!) return false;
    if (cp <= r[i + 1]!) return true;
  }
  return false;
}

export { RegexSyntaxError };
