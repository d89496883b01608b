/**
 * ECMAScript regular expressions (as JSON Schema's `pattern` uses them: `u` flag, no other flags) parsed into an AST
 * over Unicode code points. Only regular constructs are accepted; lookaround, backreferences and word boundaries
 * are refused with a `RegexSyntaxError`, since no finite automaton can enforce them exactly.
 */

/** Sorted, disjoint, inclusive code point ranges: [lo0, hi0, lo1, hi1, …]. */
export type Ranges = number[];

/** Regex AST. `rep.max` of -1 means unbounded. */
export type RegexNode =
  | { t: 'set'; ranges: Ranges }
  | { t: 'cat'; items: RegexNode[] }
  | { t: 'alt'; items: RegexNode[] }
  | { t: 'rep'; item: RegexNode; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' };

/** A pattern outside the supported regular subset, or malformed. */
export class RegexSyntaxError extends Error {
  override readonly name = 'RegexSyntaxError';
}

const MAX_CP = 0x10ffff;
const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE: Ranges = normalize([
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f,
  0x3000, 0x3000, 0xfeff, 0xfeff,
]);
/** `.` under the `u` flag: everything but line terminators. */
const DOT: Ranges = complement([0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]);

/** Sorts and merges arbitrary [lo, hi] pairs. */
export function normalize(pairs: number[]): Ranges {
  const items: [number, number][] = [];
  for (let i = 0; i < pairs.length; i += 2) items.push([pairs[i]!, pairs[i + 1]!]);
  items.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of items) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

/** All code points not in `r`. */
export function complement(r: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1);
    next = r[i + 1]! + 1;
  }
  if (next <= MAX_CP) out.push(next, MAX_CP);
  return out;
}

/** Parses `source`; throws `RegexSyntaxError` for malformed or non-regular patterns. */
export function parseRegex(source: string): RegexNode {
  const p = new Parser(Array.from(source));
  const node = p.alternation();
  if (p.pos < p.chars.length) throw new RegexSyntaxError(`unexpected ')' at ${p.pos}`);
  return node;
}

class Parser {
  pos = 0;
  constructor(readonly chars: string[]) {}

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private fail(what: string): never {
    throw new RegexSyntaxError(`${what} at position ${this.pos}`);
  }

  alternation(): RegexNode {
    const items = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) items.push(this.quantified());
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private quantified(): RegexNode {
    const atom = this.atom();
    const c = this.peek();
    let min: number;
    let max: number;
    const brace = c === '{' ? this.braceQuantifier() : undefined;
    if (c === '*') [min, max] = [0, -1];
    else if (c === '+') [min, max] = [1, -1];
    else if (c === '?') [min, max] = [0, 1];
    else if (brace) [min, max] = brace;
    else return atom;
    if (c !== '{') this.pos++;
    if (this.peek() === '?') this.pos++; // lazy quantifiers match the same language
    if (atom.t === 'bol' || atom.t === 'eol') this.fail('quantified assertion');
    if (max !== -1 && max < min) this.fail('quantifier range out of order');
    return { t: 'rep', item: atom, min, max };
  }

  /** Parses `{n}`, `{n,}`, `{n,m}` and advances past it; returns undefined (without advancing) otherwise. */
  private braceQuantifier(): [number, number] | undefined {
    const rest = this.chars.slice(this.pos, this.pos + 24).join('');
    const m = /^\{(\d+)(,(\d*))?\}/.exec(rest);
    if (!m) return undefined;
    this.pos += m[0].length;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > 1000 || max > 1000) this.fail('repetition count above 1000');
    return [min, max];
  }

  private atom(): RegexNode {
    const c = this.chars[this.pos++];
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return { t: 'set', ranges: this.classBody() };
      case '.':
        return { t: 'set', ranges: DOT };
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '\\':
        return { t: 'set', ranges: this.escape(false) };
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat');
      case '{':
      case '}':
      case ']':
        return this.fail(`lone '${c}' (invalid with the u flag)`);
      case undefined:
        return this.fail('unexpected end');
      default:
        return { t: 'set', ranges: [c.codePointAt(0)!, c.codePointAt(0)!] };
    }
  }

  private group(): RegexNode {
    if (this.peek() === '?') {
      const kind = this.chars.slice(this.pos, this.pos + 3).join('');
      if (kind.startsWith('?:')) this.pos += 2;
      else if (kind.startsWith('?<') && kind !== '?<=' && kind !== '?<!') {
        // Scanned name character by name character (not `indexOf('>')`), so a pattern of many unterminated names
        // costs linear time, not quadratic.
        this.pos += 2;
        while (/^[\p{ID_Continue}$\u200c\u200d]$/u.test(this.peek() ?? '')) this.pos++;
        if (this.chars[this.pos] !== '>') this.fail('unterminated group name');
        this.pos++;
      } else this.fail('lookaround is not regular');
    }
    const inner = this.alternation();
    if (this.chars[this.pos++] !== ')') this.fail('missing )');
    return inner;
  }

  private classBody(): Ranges {
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.pos++;
    }
    const pairs: number[] = [];
    while (this.peek() !== ']') {
      if (this.peek() === undefined) this.fail('unterminated character class');
      const lo = this.classAtom();
      if (this.peek() === '-' && this.chars[this.pos + 1] !== ']' && this.chars[this.pos + 1] !== undefined) {
        this.pos++;
        const hi = this.classAtom();
        if (lo.length !== 2 || hi.length !== 2 || lo[0] !== lo[1] || hi[0] !== hi[1])
          this.fail('class escape in a range');
        if (hi[0]! < lo[0]!) this.fail('character class range out of order');
        pairs.push(lo[0]!, hi[0]!);
      } else pairs.push(...lo);
    }
    this.pos++;
    const ranges = normalize(pairs);
    return negate ? complement(ranges) : ranges;
  }

  private classAtom(): Ranges {
    const c = this.chars[this.pos++]!;
    if (c === '\\') return this.escape(true);
    const cp = c.codePointAt(0)!;
    return [cp, cp];
  }

  /** After a backslash: a class escape or a single character (as a one-point range). */
  private escape(inClass: boolean): Ranges {
    const c = this.chars[this.pos++];
    const one = (cp: number): Ranges => [cp, cp];
    switch (c) {
      case 'd':
        return DIGIT;
      case 'D':
        return complement(DIGIT);
      case 'w':
        return WORD;
      case 'W':
        return complement(WORD);
      case 's':
        return SPACE;
      case 'S':
        return complement(SPACE);
      case 't':
        return one(9);
      case 'n':
        return one(10);
      case 'v':
        return one(11);
      case 'f':
        return one(12);
      case 'r':
        return one(13);
      case '0':
        if (/[0-9]/.test(this.peek() ?? '')) this.fail('octal escape');
        return one(0);
      case 'b':
        if (inClass) return one(8);
        return this.fail('word boundary \\b is not regular');
      case 'B':
        return this.fail('\\B is not regular');
      case 'c': {
        const letter = this.chars[this.pos++] ?? '';
        if (!/^[A-Za-z]$/.test(letter)) this.fail('bad \\c escape');
        return one(letter.charCodeAt(0) % 32);
      }
      case 'x':
        return one(this.hex(2));
      case 'u':
        return one(this.unicodeEscape());
      case 'p':
      case 'P':
        return this.fail('unicode property escapes are not supported');
      case 'k':
        return this.fail('named backreferences are not regular');
      case undefined:
        return this.fail('trailing backslash');
      default:
        if (/[1-9]/.test(c)) return this.fail('backreferences are not regular');
        // Escaped ASCII punctuation is that character in every regex dialect a schema author may have meant
        // (ECMAScript without the u flag, Python, PCRE), so `\_` or `\@` is taken literally; escaped letters and
        // non-ASCII characters mean different things in different dialects and stay refused.
        if (/^[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/.test(c)) return one(c.codePointAt(0)!);
        return this.fail(`invalid identity escape \\${c}`);
    }
  }

  private hex(n: number): number {
    const digits = this.chars.slice(this.pos, this.pos + n).join('');
    if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(digits)) this.fail('bad hex escape');
    this.pos += n;
    return parseInt(digits, 16);
  }

  private unicodeEscape(): number {
    if (this.peek() === '{') {
      // At most six hex digits: look no further than that for the closing brace.
      const close = this.chars.slice(this.pos, this.pos + 8).indexOf('}') + this.pos;
      const digits = close < this.pos ? '' : this.chars.slice(this.pos + 1, close).join('');
      if (!/^[0-9A-Fa-f]{1,6}$/.test(digits) || parseInt(digits, 16) > MAX_CP) this.fail('bad \\u{…} escape');
      this.pos = close + 1;
      return parseInt(digits, 16);
    }
    const first = this.hex(4);
    // With the u flag a surrogate pair written as two \u escapes is one code point.
    if (first >= 0xd800 && first <= 0xdbff && this.chars[this.pos] === '\\' && this.chars[this.pos + 1] === 'u') {
      const save = this.pos;
      this.pos += 2;
      const second = this.hex(4);
      if (second >= 0xdc00 && second <= 0xdfff) return 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
      this.pos = save;
    }
    return first;
  }
}
