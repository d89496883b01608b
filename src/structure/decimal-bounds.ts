/**
 * Exact decimal arithmetic for NumberLeaf (number-leaf.ts): schema bounds parsed without rounding, compared, moved
 * onto the digit grid the leaf writes, and the intervals a number prefix's completions fill.
 */

/**
 * Most significant digits a constrained number may have: within 15 digits every decimal maps to a distinct double
 * in the same order, so our exact decimal comparison agrees with validators that compare JavaScript numbers.
 */
export const MAX_CONSTRAINED_DIGITS = 15;

/** A decimal as an integer scaled by 10^-scale. */
export interface Dec {
  n: bigint;
  scale: number;
}

/** A range of numbers with open or closed ends. */
export interface Interval {
  /** Lower end, null = −∞. */
  a: Dec | null;
  openA: boolean;
  /** Upper end, null = +∞. */
  b: Dec | null;
  closedB: boolean;
}

/** The first and last integer of an interval (null = unbounded). */
export function integersOf(iv: Interval): [bigint | null, bigint | null] {
  const a = iv.a ? (iv.openA ? floorInt(iv.a) + 1n : ceilInt(iv.a)) : null;
  const b = iv.b ? (iv.closedB ? floorInt(iv.b) : ceilInt(iv.b) - 1n) : null;
  return [a, b];
}

/** Zero as a decimal. */
export function zero(): Dec {
  return { n: 0n, scale: 0 };
}

/** The interval of the negated numbers (ends swapped, openness kept with them). */
export function negate(iv: Interval): Interval {
  return {
    a: iv.b ? { n: -iv.b.n, scale: iv.b.scale } : null,
    openA: !iv.closedB,
    b: iv.a ? { n: -iv.a.n, scale: iv.a.scale } : null,
    closedB: !iv.openA,
  };
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

/** Compares two decimals exactly: -1, 0 or 1. */
export function cmp(x: Dec, y: Dec): number {
  const s = Math.max(x.scale, y.scale);
  const a = x.n * 10n ** BigInt(s - x.scale);
  const b = y.n * 10n ** BigInt(s - y.scale);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The greatest integer ≤ x. */
export function floorInt(x: Dec): bigint {
  const p = 10n ** BigInt(x.scale);
  const q = x.n / p;
  return x.n < 0n && q * p !== x.n ? q - 1n : q;
}

/** The least integer ≥ x. */
export function ceilInt(x: Dec): bigint {
  const p = 10n ** BigInt(x.scale);
  const q = x.n / p;
  return x.n > 0n && q * p !== x.n ? q + 1n : q;
}

/** The tighter of an inclusive and an exclusive bound (`dir` 1 for lower bounds, -1 for upper), on the digit grid. */
export function tighter(
  inclusive: string | undefined,
  exclusive: string | undefined,
  dir: number,
): [Dec | undefined, boolean] {
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
  if (q * p !== n && dir > 0 === n > 0n) q += dir > 0 ? 1n : -1n;
  // n has no trailing zero, so the bound moved: the grid number itself is inside, hence inclusive.
  return scale - drop >= 0
    ? [{ n: q, scale: scale - drop }, false]
    : [{ n: q * 10n ** BigInt(drop - scale), scale: 0 }, false];
}
