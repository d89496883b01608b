import { createHash } from 'node:crypto';
import { CompileError } from './errors.js';
import { Grammar } from './grammar.js';
import { resolveLimits, type Limits } from './limits.js';
import { Unsatisfiable, withDraftRefSemantics } from './schema-merge.js';
import { checkMetaSchema } from './meta-schema.js';
import { prepareSchema } from './schema-prepare.js';
import { SchemaBuilder } from './schema-builder.js';

/** How `compileJsonSchema` shapes the grammar. */
export interface CompileOptions {
  /** `'compact'` (default: no whitespace between tokens) or at most `maxWhitespace` bytes at each token boundary. */
  whitespace?: 'compact' | { maxWhitespace: number };
  /** Declared properties in schema order (default, what models are prompted with) or in any order. */
  propertyOrder?: 'schema' | 'any';
  /** Matcher and compiler limits; see `Limits` for defaults. */
  limits?: Partial<Limits>;
}

const cache = new Map<string, Grammar>();
const CACHE_SIZE = 512;

/**
 * Compiles a JSON Schema into a grammar that accepts exactly the compact, canonically escaped JSON texts valid
 * under it (or a documented subset: schema property order, canonical string escapes). Cached by a hash of schema
 * and options. Throws `CompileError` naming the keyword and JSON pointer for anything it cannot enforce exactly.
 */
export function compileJsonSchema(schema: unknown, options: CompileOptions = {}): Grammar {
  const limits = resolveLimits(options.limits);
  // Limits first, without recursion: the cache key's JSON.stringify would overflow the stack on a 10,000-deep schema.
  const prepared = prepareSchema(schema, limits);
  const key = createHash('sha256')
    .update(JSON.stringify([prepared, options]))
    .digest('hex');
  const hit = cache.get(key);
  if (hit) return hit;
  checkMetaSchema(prepared);
  const ws =
    options.whitespace === undefined || options.whitespace === 'compact' ? 0 : options.whitespace.maxWhitespace;
  if (!Number.isInteger(ws) || ws < 0)
    throw new RangeError(`whitespace.maxWhitespace must be a non-negative integer, got ${ws}`);
  const order = options.propertyOrder ?? 'schema';
  if (order !== 'schema' && order !== 'any')
    throw new RangeError(`propertyOrder must be 'schema' or 'any', got ${String(order)}`);
  const doc = withDraftRefSemantics(prepared);
  const builder = new SchemaBuilder(doc, ws, order, limits);
  let root: number;
  try {
    root = builder.build(doc, '');
  } catch (e) {
    if (e instanceof Unsatisfiable)
      throw new CompileError('schema', '', `no JSON value satisfies this schema (${e.message})`);
    throw e;
  }
  const grammar = Grammar.create(builder.finish(), root, limits);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, grammar);
  return grammar;
}
