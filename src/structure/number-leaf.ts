import {
  ceilInt,
  cmp,
  floorInt,
  integersOf,
  MAX_CONSTRAINED_DIGITS,
  negate,
  parseDec,
  tighter,
  zero,
  type Dec,
  type Interval,
} from './decimal-bounds.js';
import { Leaf } from './leaf.js';

/** Numeric constraints, bounds as exact decimal strings (the schema's own spelling). */
export interface NumberConstraints {
  /** No fraction and no exponent. */
  integer: boolean;
  minimum?: string;
  maximum?: string;
  exclusiveMinimum?: string;
  exclusiveMaximum?: string;
  /** Positive integer divisor (integers only). */
  multipleOf?: bigint;
}

// Syntax phases of a JSON number.
const START = 0;
const MINUS = 1;
const ZERO = 2;
const INT = 3;
const DOT = 4;
const FRAC = 5;
const EXP = 6;
const EXP_SIGN = 7;
const EXP_DIGITS = 8;
const FINAL = new Set([ZERO, INT, FRAC, EXP_DIGITS]);

/**
 * A JSON number lexeme. Unconstrained numbers are a 9-state syntax DFA. With bounds or `multipleOf` the state is the
 * text read so far, and each digit is admitted only if some completion lands in range (exact decimal arithmetic),
 * so ranges are enforced while generating, not checked after the fact; exponents are then not offered.
 */
export class NumberLeaf extends Leaf {
  private readonly texts: string[] = [];
  private readonly constrained: boolean;
  private readonly lo: Dec | undefined;
  private readonly hi: Dec | undefined;
  private readonly loStrict: boolean;
  private readonly hiStrict: boolean;

  constructor(
    private readonly c: NumberConstraints,
    maxStates: number,
  ) {
    super(maxStates);
    this.constrained = [c.minimum, c.maximum, c.exclusiveMinimum, c.exclusiveMaximum, c.multipleOf].some(
      (v) => v !== undefined,
    );
    [this.lo, this.loStrict] = tighter(c.minimum, c.exclusiveMinimum, 1);
    [this.hi, this.hiStrict] = tighter(c.maximum, c.exclusiveMaximum, -1);
    this.add('', START);
    // Some first digit must lead somewhere: intervals of a digit prefix only reach numbers of at most
    // MAX_CONSTRAINED_DIGITS digits, so bounds beyond 10^15 or an empty grid range leave nothing to write.
    const empty =
      this.lo &&
      this.hi &&
      (cmp(this.lo, this.hi) > 0 || (cmp(this.lo, this.hi) === 0 && (this.loStrict || this.hiStrict)));
    const startable = [...'0123456789'].some((d) => this.feasible(d) || this.feasible(`-${d}`));
    if (empty || !startable) throw new RangeError('no number of at most 15 significant digits satisfies these bounds');
  }

  private add(text: string, phase: number): number {
    const key = this.constrained ? this.stateKey(text, phase) : String(phase);
    const id = this.intern(key, FINAL.has(phase) && (!this.constrained || this.inRange(text)));
    if (id === this.texts.length) this.texts.push(text);
    return id;
  }

  protected compute(state: number, b: number): number {
    const text = this.texts[state]!;
    const phase = phaseOf(text);
    const ch = String.fromCharCode(b);
    const digit = b >= 0x30 && b <= 0x39;
    let next: number;
    if (digit) next = [INT, INT, -1, INT, FRAC, FRAC, EXP_DIGITS, EXP_DIGITS, EXP_DIGITS][phase]!;
    else if (ch === '-') next = phase === START ? MINUS : phase === EXP ? EXP_SIGN : -1;
    else if (ch === '+') next = phase === EXP ? EXP_SIGN : -1;
    else if (ch === '.') next = (phase === ZERO || phase === INT) && !this.c.integer ? DOT : -1;
    else if (ch === 'e' || ch === 'E')
      next = FINAL.has(phase) && phase !== EXP_DIGITS && !this.c.integer && !this.constrained ? EXP : -1;
    else next = -1;
    if (next === INT && b === 0x30 && (phase === START || phase === MINUS)) next = ZERO;
    if (next < 0) return -1;
    const grown = text + ch;
    // Trailing zeros are not significant: 1e20 written out has one significant digit.
    if (
      this.constrained &&
      (significantDigits(grown.replace(/0+$/, '')) > MAX_CONSTRAINED_DIGITS || !this.feasible(grown))
    )
      return -1;
    return this.add(grown, next);
  }

  /** Whether the finished number `text` satisfies every constraint. */
  private inRange(text: string): boolean {
    const v = parseDec(text);
    if (this.lo && (this.loStrict ? cmp(v, this.lo) <= 0 : cmp(v, this.lo) < 0)) return false;
    if (this.hi && (this.hiStrict ? cmp(v, this.hi) >= 0 : cmp(v, this.hi) > 0)) return false;
    return this.c.multipleOf === undefined || v.n % this.c.multipleOf === 0n;
  }

  /**
   * A state's identity. Prefixes whose completion intervals (see `intervalsOf`) each lie wholly inside or wholly
   * outside the bounds have the same future — every longer prefix inherits that verdict — so they share one state
   * keyed by the verdicts; only prefixes with an interval straddling a bound are kept apart by their text. Without
   * this a range like [0, 100] made a state per digit string, and a mask walk over the thousand digit tokens of a
   * byte-level vocabulary made a thousand states per number state.
   */
  private stateKey(text: string, phase: number): string {
    if (this.c.multipleOf !== undefined || phase === START || phase === MINUS) return text;
    let verdicts = '';
    for (const iv of this.intervalsOf(text)) {
      if (this.contains(iv)) verdicts += 'i';
      else if (!this.anyIn([iv])) verdicts += 'o';
      else return text;
    }
    return `~${phase}|${text[0] === '-' ? '-' : '+'}|${significantDigits(text)}|${verdicts}`;
  }

  /** Whether every number of the interval (every integer, for integers) satisfies the bounds. */
  private contains(iv: Interval): boolean {
    const { lo, hi } = this;
    if (this.c.integer) {
      const [a, b] = integersOf(iv);
      const [l, h] = this.integerBounds();
      if (a !== null && b !== null && a > b) return false;
      return (l === null || (a !== null && a >= l)) && (h === null || (b !== null && b <= h));
    }
    if (lo && (!iv.a || cmp(iv.a, lo) < 0 || (cmp(iv.a, lo) === 0 && this.loStrict && !iv.openA))) return false;
    if (hi && (!iv.b || cmp(iv.b, hi) > 0 || (cmp(iv.b, hi) === 0 && this.hiStrict && iv.closedB))) return false;
    return true;
  }

  /** Whether some completion of the prefix `text` is in range. */
  private feasible(text: string): boolean {
    return this.anyIn(this.intervalsOf(text));
  }

  /**
   * The numbers completions of the prefix `text` can reach. Completions of a digit prefix D (magnitude) are D
   * itself, D.xxx in [D, D+1) and longer integers D·10^k + r; of D.F they fill [D.F, D.F + 10^-|F|).
   */
  private intervalsOf(text: string): Interval[] {
    const neg = text.startsWith('-');
    const body = neg ? text.slice(1) : text;
    if (body === '')
      return neg
        ? [{ a: null, openA: false, b: zero(), closedB: true }]
        : [{ a: null, openA: false, b: null, closedB: false }];
    const [int, frac] = body.split('.');
    const intervals: Interval[] = [];
    if (frac !== undefined) {
      const a = parseDec(`${int}.${frac === '' ? '0' : frac}`);
      const width = 10n ** BigInt(a.scale) / 10n ** BigInt(frac.length);
      intervals.push({ a, openA: false, b: { n: a.n + width, scale: a.scale }, closedB: false });
    } else {
      const d = BigInt(int!);
      const maxK = int === '0' ? 0 : MAX_CONSTRAINED_DIGITS - int!.length;
      for (let k = 0; k <= maxK; k++) {
        const p = 10n ** BigInt(k);
        // Integers D·10^k … (D+1)·10^k − 1; decimals fill [D·10^k, (D+1)·10^k).
        const top = this.c.integer ? (d + 1n) * p - 1n : (d + 1n) * p;
        intervals.push({ a: { n: d * p, scale: 0 }, openA: false, b: { n: top, scale: 0 }, closedB: this.c.integer });
      }
    }
    return neg ? intervals.map(negate) : intervals;
  }

  /** The bounds as the first and last admitted integer (null = unbounded). */
  private integerBounds(): [bigint | null, bigint | null] {
    const l = this.lo ? (this.loStrict ? floorInt(this.lo) + 1n : ceilInt(this.lo)) : null;
    const h = this.hi ? (this.hiStrict ? ceilInt(this.hi) - 1n : floorInt(this.hi)) : null;
    return [l, h];
  }

  private anyIn(intervals: Interval[]): boolean {
    return intervals.some((iv) => (this.c.integer ? this.integerIn(iv) : this.decimalIn(iv)));
  }

  /** A non-empty decimal interval [a, b) or [a, b] meets the bounds (decimals are dense, so touching suffices). */
  private decimalIn(iv: Interval): boolean {
    const { lo, hi } = this;
    if (hi && iv.a && (iv.openA || this.hiStrict ? cmp(iv.a, hi) >= 0 : cmp(iv.a, hi) > 0)) return false;
    if (lo && iv.b && (iv.closedB && !this.loStrict ? cmp(iv.b, lo) < 0 : cmp(iv.b, lo) <= 0)) return false;
    return true;
  }

  /** Some integer in [a, b] (b closed) is within the bounds and a multiple of `multipleOf`. */
  private integerIn(iv: Interval): boolean {
    let [a, b] = integersOf(iv);
    const [l, h] = this.integerBounds();
    if (l !== null && (a === null || l > a)) a = l;
    if (h !== null && (b === null || h < b)) b = h;
    if (a !== null && b !== null && a > b) return false;
    const m = this.c.multipleOf;
    if (m === undefined || a === null || b === null) return true;
    const first = a >= 0n ? ((a + m - 1n) / m) * m : -((-a / m) * m);
    return first <= b;
  }
}

function phaseOf(text: string): number {
  if (text === '') return START;
  if (text === '-') return MINUS;
  if (/[eE][+-]?$/.test(text)) return /[+-]$/.test(text) ? EXP_SIGN : EXP;
  if (/[eE]/.test(text)) return EXP_DIGITS;
  if (text.endsWith('.')) return DOT;
  if (text.includes('.')) return FRAC;
  return /^-?0$/.test(text) ? ZERO : INT;
}

function significantDigits(text: string): number {
  return text.replace(/[^0-9]/g, '').replace(/^0+/, '').length;
}
