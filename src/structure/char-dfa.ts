import { CharClasses } from './char-classes.js';
import { MAX_REGEX_WORK, WorkMeter } from './regex-budget.js';
import { RegexNfa } from './regex-nfa.js';
import { parseRegex, RegexSyntaxError, type RegexNode } from './regex-parser.js';

/**
 * A deterministic automaton over Unicode code points, built lazily (subset construction on demand) from a regex
 * NFA, so large character classes and `{m,n}` counts cost only the states a document actually visits. State -1 is
 * dead. Used for `pattern`, `format` and property-name patterns inside the JSON string lexer. Every step of work is
 * charged to a `WorkMeter` (regex-budget.ts), so no pattern can hold the event loop.
 */
export class CharDfa {
  /** The initial state. */
  readonly start: number;
  /** The folded input alphabet: DFA rows have one entry per class. */
  readonly classes: CharClasses;
  private readonly nfa: RegexNfa;
  private readonly meter: WorkMeter;
  private readonly ids = new Map<string, number>();
  private readonly members: number[][] = [];
  private readonly accepting: boolean[] = [];
  private readonly table: Int32Array[] = [];
  private readonly liveness: (boolean | undefined)[] = [];
  private readonly distance: (number | undefined)[] = [];
  private readonly liveRows: (Int32Array | undefined)[] = [];
  private readonly openness: (boolean | undefined)[] = [];

  /**
   * @param node regex AST; `search` wraps it in `[^]*…[^]*` as JSON Schema's unanchored `pattern` requires.
   * @param maxStates refuse (throw RangeError) beyond this many NFA or DFA states.
   * @param maxWork refuse (throw RangeError) once this many steps of work are spent; default `MAX_REGEX_WORK`.
   */
  constructor(
    node: RegexNode,
    search: boolean,
    private readonly maxStates: number,
    maxWork = MAX_REGEX_WORK,
  ) {
    this.meter = new WorkMeter(maxWork);
    this.nfa = new RegexNfa(node, search, maxStates, this.meter);
    this.classes = new CharClasses(this.nfa.sets, this.meter);
    this.start = this.intern(this.nfa.closure([this.nfa.entry], true), true);
  }

  /** Compiles an ECMAScript pattern (u flag). Throws RegexSyntaxError or RangeError (too large or too costly). */
  static fromPattern(pattern: string, search: boolean, maxStates: number, maxWork = MAX_REGEX_WORK): CharDfa {
    // Parsing is linear in the source; the budget refuses a source too long to be worth parsing at all.
    if (pattern.length > maxWork)
      throw new RangeError(`regex automaton exceeds its work budget (${pattern.length} characters)`);
    return new CharDfa(parseRegex(pattern), search, maxStates, maxWork);
  }

  /** State after reading code point `cp`, or -1. */
  step(state: number, cp: number): number {
    return this.stepClass(state, this.classes.classOf(cp));
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
        this.meter.spend(this.classes.classCount);
        for (let c = 0; c < this.classes.classCount; c++) {
          const t = this.classes.usableClass(c) ? this.stepClass(s, c) : -1;
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
      row = new Int32Array(this.classes.classCount);
      this.meter.spend(row.length);
      for (let c = 0; c < row.length; c++) {
        const t = this.classes.usableClass(c) ? this.stepClass(state, c) : -1;
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
    this.meter.spend(reachable.length * this.classes.classCount);
    const open = reachable.every((s) => this.isLive(s) && this.neverDead(s));
    // Every state reachable from an open one is open too.
    if (open) for (const s of reachable) this.openness[s] = true;
    this.openness[state] = open;
    return open;
  }

  /** Whether no usable character leads from `state` to the dead state. */
  private neverDead(state: number): boolean {
    for (let c = 0; c < this.classes.classCount; c++)
      if (this.classes.usableClass(c) && this.stepClass(state, c) < 0) return false;
    return true;
  }

  /** Whether `state` accepts and every character keeps it there (the rest of the text cannot matter). */
  isUniversal(state: number): boolean {
    if (!this.accepting[state]) return false;
    for (let c = 0; c < this.classes.classCount; c++)
      if (this.classes.usableClass(c) && this.stepClass(state, c) !== state) return false;
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
      this.meter.spend(frontier.length * this.classes.classCount);
      for (const s of frontier) {
        for (let c = 0; c < this.classes.classCount; c++) {
          const t = this.classes.usableClass(c) ? this.stepClass(s, c) : -1;
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
    this.meter.spend(this.classes.classCount);
    const out = new Set<number>();
    for (let c = 0; c < this.classes.classCount; c++) {
      const t = this.classes.usableClass(c) ? this.stepClass(state, c) : -1;
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
    const targets = this.nfa.targets(this.members[state]!, this.classes.classStart(c));
    t = targets.length === 0 ? -1 : this.intern(this.nfa.closure(targets, false), false);
    row[c] = t;
    return t;
  }

  private intern(core: number[], atStart: boolean): number {
    if (core.length === 0) return -1;
    const key = (atStart ? 's' : '') + core.join(',');
    let id = this.ids.get(key);
    if (id !== undefined) return id;
    id = this.members.length;
    this.meter.spend(core.length + this.classes.classCount);
    if (id >= this.maxStates) throw new RangeError(`regex automaton exceeds ${this.maxStates} states`);
    this.ids.set(key, id);
    this.members.push(core);
    this.accepting.push(this.nfa.acceptsAtEnd(core, atStart));
    this.table.push(new Int32Array(this.classes.classCount).fill(-2));
    return id;
  }
}

export { RegexSyntaxError };
