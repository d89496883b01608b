import type { Ranges } from './regex-parser.js';
import type { WorkMeter } from './regex-budget.js';
import { rangesContain } from './regex-nfa.js';

/**
 * The input alphabet of one regex automaton, folded: code points are cut into intervals that lie in the same
 * character sets, and intervals in exactly the same sets share a class (`[^\s]` is one class, not ten), so DFA rows
 * have one entry per class rather than per code point.
 */
export class CharClasses {
  /** Interval boundaries: every code point of [bounds[i], bounds[i+1]) is in the same character sets. */
  private readonly bounds: number[];
  /** Class of each interval. */
  private readonly intervalClass: Int32Array;
  /** First code point of each class. */
  private readonly classFirst: number[] = [];
  private asciiTable: Int32Array | undefined;

  /** @param sets the character sets of the automaton's NFA (null for states that read none). */
  constructor(sets: readonly (Ranges | null)[], meter: WorkMeter) {
    const cuts = new Set<number>([0, 0xd800, 0xe000, 0x110000]);
    for (const r of sets) if (r) for (let i = 0; i < r.length; i += 2) cuts.add(r[i]!).add(r[i + 1]! + 1);
    this.bounds = [...cuts].sort((a, b) => a - b);
    this.intervalClass = this.classifyIntervals(sets, meter);
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
  private classifyIntervals(sets: readonly (Ranges | null)[], meter: WorkMeter): Int32Array {
    const distinct = [...new Set(sets.filter((r): r is Ranges => r !== null))];
    const ids = new Map<string, number>();
    const out = new Int32Array(this.bounds.length - 1);
    for (let i = 0; i < out.length; i++) {
      meter.spend(distinct.length + 1);
      const cp = this.bounds[i]!;
      const surrogate = cp >= 0xd800 && cp <= 0xdfff;
      const key = (surrogate ? 's' : '') + distinct.map((r) => (rangesContain(r, cp) ? 1 : 0)).join('');
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
  usableClass(c: number): boolean {
    const first = this.classFirst[c]!;
    return first < 0xd800 || first > 0xdfff;
  }
}
