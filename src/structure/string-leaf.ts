import type { CharDfa } from './char-dfa.js';
import { Leaf, type PlainPattern } from './leaf.js';
import { StringFinish } from './string-finish.js';

/** What a JSON string's decoded text must satisfy. Lengths count code points, as JSON Schema (and ajv) do. */
export interface StringConstraints {
  /** Patterns the decoded text must match (all of them), as lazily built DFAs; empty = any text. */
  dfa: CharDfa | null;
  /** Minimum code points. Default 0. */
  minLength: number;
  /** Maximum code points; undefined = unbounded. */
  maxLength: number | undefined;
}

const START = 0;
const BODY = 1;
const ESCAPE = 2;
const HEX = 3; // inside \u00XX, `count` hex digits read so far
const CLOSED = 4;

interface S {
  mode: number;
  /** UTF-8 continuation bytes still expected (BODY) or hex digits read (HEX, LOW_HEX). */
  count: number;
  /** Code point bits accumulated so far. */
  acc: number;
  /** Allowed range of the next UTF-8 continuation byte. */
  lo: number;
  hi: number;
  /** Char DFA state (-1 when unconstrained). */
  cs: number;
  /** Code points so far, capped where the cap no longer matters. */
  len: number;
}

/** Escape letter → code point, for the escapes JSON.stringify writes (so not `\/`). */
const SIMPLE_ESCAPES = new Map([
  [0x22, 0x22],
  [0x5c, 0x5c],
  [0x62, 8],
  [0x66, 12],
  [0x6e, 10],
  [0x72, 13],
  [0x74, 9],
]);
/** Control characters that have a short escape and so never take the `\u` form. */
const SHORT_FORM = new Set([8, 9, 10, 12, 13]);

/**
 * A JSON string lexeme, quotes included, over bytes: UTF-8 validated byte by byte, escapes decoded (canonical
 * spelling only, see `hexDigit`), and the decoded code points fed to the constraint DFA and length counter.
 * Every partial character (a UTF-8 lead byte, a half-read `\u` escape) is checked for some completion that keeps
 * the string satisfiable, so the mask never leads into a dead end.
 */
export class StringLeaf extends Leaf {
  private readonly states: S[] = [];
  private readonly lenCap: number;
  private readonly finish: StringFinish;

  constructor(
    private readonly c: StringConstraints,
    maxStates: number,
  ) {
    super(maxStates);
    this.finish = new StringFinish(c.dfa, c.minLength, c.maxLength);
    // Past max(minLength, maxLength) the count no longer changes any decision; without bounds it is not tracked.
    this.lenCap = c.maxLength !== undefined ? c.maxLength + 1 : c.minLength;
    this.add({ mode: START, count: 0, acc: 0, lo: 0, hi: 0, cs: c.dfa ? c.dfa.start : -1, len: 0 });
    if (!this.finish.canFinish(c.dfa ? c.dfa.start : -1, 0))
      throw new RangeError('no string satisfies these constraints');
  }

  /**
   * For the mask fast path: in a string body at a character boundary with no pattern (or a pattern already
   * satisfied whatever follows), how many more code points
   * fit (Infinity when unbounded); -1 where the fast path does not apply. Any token of plain characters (see
   * `plainChars`) that fits is then allowed, whatever its bytes.
   */
  override plainRoom(state: number): number {
    const s = this.states[state]!;
    if (s.mode !== BODY || s.count !== 0) return -1;
    // A pattern state that accepts and loops on every character (an unanchored match already found) adds nothing.
    if (this.c.dfa && !this.c.dfa.isUniversal(s.cs)) return -1;
    return this.c.maxLength === undefined ? Infinity : this.c.maxLength - s.len;
  }

  /**
   * A length-bounded string reads the tokens that are not plain like the same pattern without bounds once its
   * minimum is reached and the room left covers `reach` more characters plus whatever the pattern may still need
   * from any state those characters reach: every length check on the way then passes.
   */
  override boundFreeTwin(state: number, reach: number): { leaf: Leaf; state: number } | null {
    const s = this.states[state]!;
    const { dfa, minLength, maxLength } = this.c;
    if ((minLength === 0 && maxLength === undefined) || s.mode !== BODY || s.count !== 0 || s.len < minLength)
      return null;
    if (maxLength !== undefined && maxLength - s.len - reach < (dfa ? this.finish.needWithin(s.cs, reach) : 0))
      return null;
    const twin = unboundedString(dfa, this.maxStates);
    return { leaf: twin, state: twin.add({ mode: BODY, count: 0, acc: 0, lo: 0, hi: 0, cs: s.cs, len: 0 }) };
  }

  /** Characters read so far, counting a character (or escape) begun but not finished. */
  charsRead(state: number): number {
    const s = this.states[state]!;
    return s.len + ((s.mode === BODY && s.count > 0) || s.mode === ESCAPE || s.mode === HEX ? 1 : 0);
  }

  /** Whether every JSON string is accepted (no pattern, no length bounds). */
  get unconstrained(): boolean {
    return !this.c.dfa && this.c.minLength === 0 && this.c.maxLength === undefined;
  }

  override plainPattern(state: number): PlainPattern | null {
    const s = this.states[state]!;
    const dfa = this.c.dfa;
    if (s.mode !== BODY || s.count !== 0 || !dfa) return null;
    const { minLength, maxLength } = this.c;
    return {
      dfa,
      state: s.cs,
      unbounded: maxLength === undefined && s.len >= minLength,
      fits: (end, chars) => this.finish.canFinish(end, Math.min(s.len + chars, this.lenCap)),
    };
  }

  private add(s: S): number {
    const key = `${s.mode},${s.count},${s.acc},${s.lo},${s.hi},${s.cs},${s.len}`;
    const id = this.intern(key, s.mode === CLOSED);
    if (id === this.states.length) this.states.push(s);
    return id;
  }

  protected compute(state: number, b: number): number {
    const s = this.states[state]!;
    switch (s.mode) {
      case START:
        return b === 0x22 ? this.add({ ...s, mode: BODY }) : -1;
      case BODY:
        return s.count > 0 ? this.continuation(s, b) : this.bodyByte(s, b);
      case ESCAPE: {
        if (b === 0x75)
          return this.unicodeEscapeLive(s, 0, 0x1f) ? this.add({ ...s, mode: HEX, count: 0, acc: 0 }) : -1;
        const cp = SIMPLE_ESCAPES.get(b);
        return cp === undefined ? -1 : this.char(s, cp);
      }
      case HEX:
        return this.hexDigit(s, b);
      default:
        return -1;
    }
  }

  private bodyByte(s: S, b: number): number {
    if (b === 0x22) {
      const ok = (s.cs < 0 || this.c.dfa!.isAccepting(s.cs)) && s.len >= this.c.minLength;
      return ok ? this.add({ ...s, mode: CLOSED }) : -1;
    }
    if (b === 0x5c) {
      const ok = this.partialLive(s, 0x22, 0x22) || this.partialLive(s, 0x5c, 0x5c) || this.partialLive(s, 0, 0x1f);
      return ok ? this.add({ ...s, mode: ESCAPE }) : -1;
    }
    if (b < 0x20) return -1; // control characters must be escaped
    if (b < 0x80) return this.char(s, b);
    // UTF-8 lead bytes: count of continuation bytes and the allowed range of the first one (RFC 3629 table).
    let count: number;
    let acc: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) [count, acc] = [1, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) {
      [count, acc] = [2, b & 0x0f];
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      [count, acc] = [3, b & 0x07];
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return -1;
    // Overlong forms are invalid, so an n-byte character is at least 0x80 / 0x800 / 0x10000.
    const least = [0, 0x80, 0x800, 0x10000][count]!;
    return this.partial(
      { ...s, count, lo, hi },
      acc,
      Math.max(least, acc << (6 * count)),
      ((acc + 1) << (6 * count)) - 1,
    );
  }

  private continuation(s: S, b: number): number {
    if (b < s.lo || b > s.hi) return -1;
    const fixed = s.acc < 0;
    const acc = fixed ? s.acc : (s.acc << 6) | (b & 0x3f);
    if (s.count === 1)
      return this.char(
        { ...s, count: 0, acc: 0, lo: 0, hi: 0 },
        fixed ? this.c.dfa!.classes.classStart(-1 - acc) : acc,
      );
    const count = s.count - 1;
    const shift = 6 * count;
    const least = count === 1 ? 0x800 : 0x10000;
    const next = { ...s, count, lo: 0x80, hi: 0xbf };
    if (fixed) return this.add({ ...next, acc });
    return this.partial(next, acc, Math.max(least, acc << shift), ((acc + 1) << shift) - 1);
  }

  /**
   * A partly read character whose code point will lie in [lo, hi]: kept if some completion keeps the string
   * satisfiable. The bits read so far are kept only while they can matter: without a pattern never, and once the
   * whole range falls in one pattern class only that class is kept (as -1 - class) — so the many partial tokens of
   * a byte-level vocabulary map to a few states instead of one per byte prefix.
   */
  private partial(next: S, acc: number, lo: number, hi: number): number {
    if (!this.partialLive(next, lo, hi)) return -1;
    const dfa = this.c.dfa;
    if (!dfa) return this.add({ ...next, acc: 0 });
    return this.add({ ...next, acc: dfa.classes.oneClass(lo, hi) ? -1 - dfa.classes.classOf(lo) : acc });
  }

  /**
   * A digit of a `\u00XX` escape. Only the canonical spelling (JSON.stringify's) is admitted: `\u` escapes exist
   * just for control characters without a short form, lowercase hex. One spelling per text is what lets object keys
   * be told apart byte-wise (no `"\u0061"` posing as `"a"`).
   */
  private hexDigit(s: S, b: number): number {
    const d = hexValue(b);
    if (d < 0 || (b >= 0x41 && b <= 0x46)) return -1;
    const acc = s.acc * 16 + d;
    const count = s.count + 1;
    if (count <= 2 && d !== 0) return -1;
    if (count === 3 && d > 1) return -1;
    if (count < 4) {
      const next = { ...s, acc, count };
      return count < 3 || this.unicodeEscapeLive(next, acc * 16, acc * 16 + 15) ? this.add(next) : -1;
    }
    if (SHORT_FORM.has(acc)) return -1;
    return this.char({ ...s, mode: BODY, count: 0, acc: 0 }, acc);
  }

  /** Whether a `\u00XX` escape with a code point in [lo, hi] (short forms excluded) keeps the string satisfiable. */
  private unicodeEscapeLive(s: S, lo: number, hi: number): boolean {
    for (let cp = lo; cp <= hi; cp++) if (!SHORT_FORM.has(cp) && this.partialLive(s, cp, cp)) return true;
    return false;
  }

  /** Completes a decoded code point: feeds the DFA and the counter, keeping only satisfiable states. */
  private char(s: S, cp: number): number {
    const cs = s.cs < 0 ? -1 : this.c.dfa!.step(s.cs, cp);
    if (s.cs >= 0 && cs < 0) return -1;
    const len = Math.min(s.len + 1, this.lenCap);
    if (!this.finish.canFinish(cs, len)) return -1;
    return this.add({ ...s, mode: BODY, count: 0, acc: 0, lo: 0, hi: 0, cs, len });
  }

  /** Whether some code point in [lo, hi] (a partly read character) leads to a satisfiable state. */
  private partialLive(s: S, lo: number, hi: number): boolean {
    const len = Math.min(s.len + 1, this.lenCap);
    const dfa = this.c.dfa;
    if (!dfa) return this.finish.canFinish(-1, len);
    const top = Math.min(hi, 0x10ffff);
    for (let cp = lo; cp <= top; ) {
      if (cp >= 0xd800 && cp <= 0xdfff) {
        cp = 0xe000;
        continue;
      }
      const cs = dfa.step(s.cs, cp);
      if (cs >= 0 && this.finish.canFinish(cs, len)) return true;
      cp = dfa.classes.nextIntervalStart(cp);
    }
    return false;
  }
}

const unbounded = new Map<number, StringLeaf>();
const unboundedPatterns = new WeakMap<CharDfa, StringLeaf>();

/** The string leaf of `dfa` (or of any text) without length bounds, one per automaton and state limit. */
function unboundedString(dfa: CharDfa | null, maxStates: number): StringLeaf {
  let leaf = dfa ? unboundedPatterns.get(dfa) : unbounded.get(maxStates);
  if (!leaf) {
    leaf = new StringLeaf({ dfa, minLength: 0, maxLength: undefined }, maxStates);
    if (dfa) unboundedPatterns.set(dfa, leaf);
    else unbounded.set(maxStates, leaf);
  }
  return leaf;
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}
