/**
 * Errors raised by the constrained decoder. `CompileError` is the promise behind "never fail open": a schema
 * feature that the grammar cannot enforce exactly is refused with the keyword and where it sits, never loosened.
 */

/** A schema (or tool-call spec, or regex) that cannot be compiled into an exactly-equivalent grammar. */
export class CompileError extends Error {
  override readonly name = 'CompileError';
  /** The JSON Schema keyword at fault, e.g. `pattern`, `uniqueItems`, `$ref`. */
  readonly keyword: string;
  /** RFC 6901 JSON pointer to the schema object holding the keyword, e.g. `/properties/tags`. */
  readonly pointer: string;

  constructor(keyword: string, pointer: string, message: string) {
    super(`${keyword} at ${pointer === '' ? '#' : pointer}: ${message}`);
    this.keyword = keyword;
    this.pointer = pointer;
  }
}

/** A matcher that hit a limit or was fed a token outside its mask; once set it stays set (see `Matcher.error`). */
export class MatcherError extends Error {
  override readonly name = 'MatcherError';
}

/** Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 requires. */
export function childPointer(pointer: string, token: string | number): string {
  return `${pointer}/${String(token).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}
