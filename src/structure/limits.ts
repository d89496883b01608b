/**
 * Resource limits of a matcher and of the compiler. Each bounds a cost that would otherwise grow with hostile input;
 * hitting one is an error (the matcher stops, the compiler throws), never a silently looser grammar.
 */
export interface Limits {
  /** Longest nesting of schema machines on one parse stack (object in array in object …). Default 256. */
  maxStackDepth: number;
  /** Most parallel parse stacks alive at once (grows with ambiguous `anyOf`). Default 512. */
  maxParallelStacks: number;
  /** Tokens kept for `rollback(n)`. Default 1024. */
  maxRollback: number;
  /** States one lazily built regex/string automaton may create before the compile/step is refused. Default 200,000. */
  maxAutomatonStates: number;
  /** Whole-document size in bytes; further bytes are refused. Default 1 MiB. */
  maxDocumentBytes: number;
  /** Deepest nesting of JSON objects and arrays in a schema, checked before anything recurses over it. Default 512. */
  maxSchemaDepth: number;
  /** Size of a schema as JSON text (characters, about its bytes for ASCII), checked first. Default 4 MiB. */
  maxSchemaSize: number;
  /** Members of one `enum`. Default 10,000 (each member becomes a branch of a literal automaton). */
  maxEnumMembers: number;
  /** JSON text of one `enum` (all members) or `const`, in characters. Default 64 KiB. */
  maxLiteralSize: number;
}

/** The defaults documented on `Limits`. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxStackDepth: 256,
  maxParallelStacks: 512,
  maxRollback: 1024,
  maxAutomatonStates: 200_000,
  maxDocumentBytes: 1 << 20,
  maxSchemaDepth: 512,
  maxSchemaSize: 4 << 20,
  maxEnumMembers: 10_000,
  maxLiteralSize: 64 << 10,
});

/** Fills unspecified limits with defaults and rejects non-positive or non-integer values. */
export function resolveLimits(partial: Partial<Limits> = {}): Limits {
  const out = { ...DEFAULT_LIMITS, ...partial };
  for (const [key, value] of Object.entries(out)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new RangeError(`limits.${key} must be a positive integer, got ${value}`);
  }
  return out;
}
