import { CharDfa } from './char-dfa.js';
import { LiteralLeaf, type Leaf } from './leaf.js';
import type { Limits } from './limits.js';
import { NumberLeaf, type NumberConstraints } from './number-leaf.js';
import { StringLeaf } from './string-leaf.js';

/**
 * Process-wide caches of leaves by their constraints. Leaves are immutable languages, so sharing them across
 * grammars is safe, and it is what makes their per-vocabulary mask caches pay off across schemas and requests.
 */
const leaves = new Map<string, Leaf>();
/** Pattern automata by pattern, so the length variants of one pattern share it (and its plain-token walks). */
const patterns = new Map<string, CharDfa>();
const MAX_CACHED = 20_000;

function remember<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    if (map.size >= MAX_CACHED) map.delete(map.keys().next().value!);
    map.set(key, value);
  }
  return value;
}

function cached<T extends Leaf>(key: string, make: () => T): T {
  return remember(leaves, key, make) as T;
}

/**
 * A JSON string leaf. `regex` is an ECMAScript pattern with JSON Schema's search semantics (anchor it to match the
 * whole text). Throws RegexSyntaxError for unsupported patterns, RangeError when unsatisfiable or too large.
 */
export function stringLeaf(
  regex: string | null,
  minLength: number,
  maxLength: number | undefined,
  limits: Limits,
): StringLeaf {
  return cached(`s\u0000${regex}\u0000${minLength}\u0000${maxLength}\u0000${limits.maxAutomatonStates}`, () => {
    const dfa = regex === null ? null : patternDfa(regex, limits);
    return new StringLeaf({ dfa, minLength, maxLength }, limits.maxAutomatonStates);
  });
}

/** The search automaton of a `pattern` (shared by every leaf and check that uses that pattern). */
export function patternDfa(regex: string, limits: Limits): CharDfa {
  return remember(patterns, `${regex}\u0000${limits.maxAutomatonStates}`, () =>
    CharDfa.fromPattern(regex, true, limits.maxAutomatonStates),
  );
}

/** A JSON number leaf; throws RangeError when no number satisfies the constraints. */
export function numberLeaf(c: NumberConstraints, limits: Limits): NumberLeaf {
  const key = JSON.stringify({ ...c, multipleOf: c.multipleOf?.toString(), cap: limits.maxAutomatonStates });
  return cached(`n\u0000${key}`, () => new NumberLeaf(c, limits.maxAutomatonStates));
}

/** A leaf accepting exactly these texts (UTF-8 encoded). */
export function literalLeaf(texts: readonly string[], limits: Limits): LiteralLeaf {
  const unique = [...new Set(texts)].sort();
  const enc = new TextEncoder();
  return cached(
    `l\u0000${limits.maxAutomatonStates}\u0000${JSON.stringify(unique)}`,
    () =>
      new LiteralLeaf(
        unique.map((t) => enc.encode(t)),
        limits.maxAutomatonStates,
      ),
  );
}
