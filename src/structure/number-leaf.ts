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

/**
 * Most significant digits a constrained number may have: within 15 digits every decimal maps to a distinct double
 * in the same order, so our exact decimal comparison agrees with validators that compare JavaScript numbers.
 */
export const MAX_CONSTRAINED_DIGITS = 15;

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

/** A decimal as an integer scaled by 10^-scale. */
interface Dec {
  n: bigint;
  scale: number;
}

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

  constructor(private readonly c: NumberConstraints, maxStates: number) {
    super(maxStates);
    this.constrained = [c.minimum, c.maximum, c.exclusiveMinimum, c.exclusiveMaximum, c.multipleOf].some((v) => v !== undefined);
    [this.lo, this.loStrict] = tighter(c.minimum, c.exclusiveMinimum, 1);
    [this.hi, this.hiStrict] = tighter(c.maximum, c.exclusiveMaximum, -1);
    this.add('', START);
    // Some first digit must lead somewhere: intervals of a digit prefix only reach numbers of at most
    // MAX_CONSTRAINED_DIGITS digits, so bounds beyond 10^15 or an empty grid range leave nothing to write.
    const empty = this.lo && this.hi && (cmp(this.lo, this.hi) > 0 || (cmp(this.lo, this.hi) === 0 && (this.loStrict || this.hiStrict)));
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
    else if (ch === 'e' || ch === 'E') next = FINAL.has(phase) && phase !== EXP_DIGITS && !this.c.integer && !this.constrained ? EXP : -1;
    else next = -1;
    if (next === INT && b === 0x30 && (phase === START || phase === MINUS)) next = ZERO;
    if (next < 0) return -1;
    const grown = text + ch;
    // Trailing zeros are not significant: 1e20 written out has one significant digit.
    if (this.constrained && (significantDigits(grown.replace(/0+$/, '')) > MAX_CONSTRAINED_DIGITS || !this.feasible(grown))) return -1;
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
    if (body === '') return neg ? [{ a: null, openA: false, b: zero(), closedB: true }] : [{ a: null, openA: false, b: null, closedB: false }];
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

interface Interval {
  /** Lower end, null = −∞. */
  a: Dec | null;
  openA: boolean;
  /** Upper end, null = +∞. */
  b: Dec | null;
  closedB: boolean;
}

/** The first and last integer of an interval (null = unbounded). */
function integersOf(iv: Interval): [bigint | null, bigint | null] {
  const a = iv.a ? (iv.openA ? floorInt(iv.a) + 1n : ceilInt(iv.a)) : null;
  const b = iv.b ? (iv.closedB ? floorInt(iv.b) : ceilInt(iv.b) - 1n) : null;
  return [a, b];
}

function zero(): Dec {
  return { n: 0n, scale: 0 };
}

function negate(iv: Interval): Interval {
  return {
    a: iv.b ? { n: -iv.b.n, scale: iv.b.scale } : null,
    openA: !iv.closedB,
    b: iv.a ? { n: -iv.a.n, scale: iv.a.scale } : null,
    closedB: !iv.openA,
  };
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

/** Parses a plain decimal (optionally with exponent, for schema bounds like 1e3) exactly. */
export function parseDec(text: string): Dec {
  const m = /^(-?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new RangeError(`not a decimal number: ${text}`);
  const frac = m[3] ?? '';
  let n = BigInt(m[2]! + frac);
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    n *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { n: m[1] ? -n : n, scale };
}

function cmp(x: Dec, y: Dec): number {
  const s = Math.max(x.scale, y.scale);
  const a = x.n * 10n ** BigInt(s - x.scale);
  const b = y.n * 10n ** BigInt(s - y.scale);
  return a < b ? -1 : a > b ? 1 : 0;
}

function floorInt(x: Dec): bigint {
  const p = 10n ** BigInt(x.scale);
  const q = x.n / p;
  return x.n < 0n && q * p !== x.n ? q - 1n : q;
}

function ceilInt(x: Dec): bigint {
  const p = 10n ** BigInt(x.scale);
  const q = x.n / p;
  return x.n > 0n && q * p !== x.n ? q + 1n : q;
}

/** The tighter of an inclusive and an exclusive bound; `dir` 1 for lower bounds, -1 for upper. */
/** The tighter of an inclusive and an exclusive bound (`dir` 1 for lower bounds, -1 for upper), on the digit grid. */
function tighter(inclusive: string | undefined, exclusive: string | undefined, dir: number): [Dec | undefined, boolean] {
  const i = inclusive === undefined ? undefined : parseDec(inclusive);
  const e = exclusive === undefined ? undefined : parseDec(exclusive);
  const [bound, strict] = !i ? [e, e !== undefined] : !e ? [i, false] : cmp(e, i) * dir >= 0 ? [e, true] : [i, false];
  return bound ? onGrid(bound, strict, dir) : [undefined, false];
}

/**
 * A bound with more than MAX_CONSTRAINED_DIGITS significant digits (`9007199254740993`) moved inward to the nearest
 * number with that many: the numbers the leaf can write lie on the same sides of both, and with bounds on that grid
 * every prefix in range can be completed within the digit limit (`0.12345678901234567` left a dead end).
 */
function onGrid(d: Dec, strict: boolean, dir: number): [Dec, boolean] {
  let { n, scale } = d;
  while (n !== 0n && n % 10n === 0n) {
    n /= 10n;
    scale--;
  }
  const drop = (n < 0n ? -n : n).toString().length - MAX_CONSTRAINED_DIGITS;
  if (drop <= 0) return [d, strict];
  const p = 10n ** BigInt(drop);
  let q = n / p; // truncates toward zero
  if (q * p !== n && (dir > 0) === (n > 0n)) q += dir > 0 ? 1n : -1n;
  // n has no trailing zero, so the bound moved: the grid number itself is inside, hence inclusive.
  return scale - drop >= 0 ? [{ n: q, scale: scale - drop }, false] : [{ n: q * 10n ** BigInt(drop - scale), scale: 0 }, false];
}
