import { RegexSyntaxError } from './char-dfa.js';
import type { SchemaBuilder } from './schema-builder.js';
import { CompileError, MatcherError, childPointer } from './errors.js';
import { FORMATS } from './formats.js';
import { literalLeaf as cachedLiteral, numberLeaf, stringLeaf } from './leaf-factory.js';
import type { LiteralLeaf } from './leaf.js';
import type { Limits } from './limits.js';
import { ArrayMachine } from './machine.js';
import type { NumberConstraints } from './number-leaf.js';
import { DEAD } from './parse-space.js';
import { Runtime } from './runtime.js';
import { flatten, hasValidation, typeList, Unsatisfiable, type SchemaObject } from './schema-merge.js';
import type { StringLeaf } from './string-leaf.js';

/** String formats JSON Schema or ajv-formats define that FORMATS does not implement: refused, never ignored. */
const UNENFORCED_STRING_FORMATS = new Set([
  'uri-template',
  'regex',
  'iso-time',
  'iso-date-time',
  'iri',
  'iri-reference',
  'idn-email',
  'idn-hostname',
]);

/** Literal leaf for JSON texts. */
export function literalLeaf(texts: readonly string[], limits: Limits): LiteralLeaf {
  return cachedLiteral(texts, limits);
}

/** String leaf for `pattern`, `format`, `minLength`, `maxLength`. */
export function stringFromSchema(s: SchemaObject, pointer: string, limits: Limits): StringLeaf {
  const regexes: [string, string][] = [];
  let maxLength = typeof s.maxLength === 'number' ? s.maxLength : undefined;
  const minLength = typeof s.minLength === 'number' ? s.minLength : 0;
  if (typeof s.pattern === 'string') regexes.push(['pattern', s.pattern]);
  if (typeof s.format === 'string') {
    const known = Object.hasOwn(FORMATS, s.format) ? FORMATS[s.format] : undefined;
    if (known) {
      regexes.push(['format', known[0]]);
      if (known[1] !== undefined) maxLength = Math.min(maxLength ?? Infinity, known[1]);
    } else if (UNENFORCED_STRING_FORMATS.has(s.format)) {
      throw new CompileError('format', pointer, `format ${JSON.stringify(s.format)} is not enforced by the decoder`);
    }
    // Any other format constrains no string: ajv-formats accepts every string for password/binary, numeric formats
    // apply to numbers only, and formats no standard defines are annotations (JSON Schema's default).
  }
  if (regexes.length > 1) throw new CompileError('format', pointer, 'pattern together with format is not supported');
  try {
    return stringLeaf(regexes[0]?.[1] ?? null, minLength, maxLength, limits);
  } catch (e) {
    const keyword = regexes[0]?.[0] ?? 'minLength';
    if (e instanceof RegexSyntaxError) throw new CompileError(keyword, pointer, e.message);
    if (e instanceof RangeError && /exceeds/.test(e.message)) throw new CompileError(keyword, pointer, e.message);
    if (e instanceof RangeError) throw new Unsatisfiable(e.message);
    throw e;
  }
}

/** Number leaf for bounds, `multipleOf` and numeric formats. */
export function numberFromSchema(s: SchemaObject, integer: boolean, pointer: string, limits: Limits) {
  const c: NumberConstraints = { integer };
  const dec = (v: unknown, keyword: string): string => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new CompileError(keyword, pointer, 'must be a number');
    return String(v);
  };
  // Draft-04's boolean exclusive bounds were put in the numeric form by prepareSchema.
  if (s.minimum !== undefined) c.minimum = dec(s.minimum, 'minimum');
  if (s.maximum !== undefined) c.maximum = dec(s.maximum, 'maximum');
  if (typeof s.exclusiveMinimum === 'number')
    c.exclusiveMinimum = tighterLow(c.exclusiveMinimum, dec(s.exclusiveMinimum, 'exclusiveMinimum'));
  if (typeof s.exclusiveMaximum === 'number')
    c.exclusiveMaximum = tighterHigh(c.exclusiveMaximum, dec(s.exclusiveMaximum, 'exclusiveMaximum'));
  if (s.multipleOf !== undefined) {
    const m = s.multipleOf;
    if (typeof m !== 'number' || !Number.isInteger(m) || m <= 0) {
      throw new CompileError(
        'multipleOf',
        pointer,
        'only positive integer divisors are enforced (validators disagree on fractional ones)',
      );
    }
    c.integer = true;
    if (m > 1) c.multipleOf = BigInt(m);
  }
  if (s.format === 'int32') {
    c.integer = true;
    c.minimum = tighterLow(c.minimum, '-2147483648');
    c.maximum = tighterHigh(c.maximum, '2147483647');
  } else if (s.format === 'int64') {
    c.integer = true; // ajv-formats checks int64 as "an integer" only: JSON numbers beyond 2^53 are not exact anyway
  }
  try {
    return numberLeaf(c, limits);
  } catch (e) {
    if (e instanceof RangeError) throw new Unsatisfiable(e.message);
    throw e;
  }
}

function tighterLow(a: string | undefined, b: string): string {
  return a === undefined || Number(b) > Number(a) ? b : a;
}

function tighterHigh(a: string | undefined, b: string): string {
  return a === undefined || Number(b) < Number(a) ? b : a;
}

/** Machine id for `schema`, or -1 when no value satisfies it. */
export function tryBuild(builder: SchemaBuilder, schema: unknown, pointer: string): number {
  try {
    return builder.build(schema, pointer);
  } catch (e) {
    if (e instanceof Unsatisfiable) return -1;
    throw e;
  }
}

/** Array machine: positional items, rest items and counts. */
export function buildArrayMachine(builder: SchemaBuilder, s: SchemaObject, pointer: string, ws: number): number {
  const tuple = Array.isArray(s.prefixItems)
    ? (s.prefixItems as unknown[])
    : Array.isArray(s.items)
      ? (s.items as unknown[])
      : [];
  const restSchema = Array.isArray(s.prefixItems) ? s.items : Array.isArray(s.items) ? s.additionalItems : s.items;
  let maxItems = typeof s.maxItems === 'number' ? s.maxItems : undefined;
  const minItems = typeof s.minItems === 'number' ? s.minItems : 0;
  if (s.uniqueItems === true && (maxItems === undefined || maxItems > 1))
    throw new CompileError('uniqueItems', pointer, 'uniqueness across items is not enforced by the decoder');
  const prefix: number[] = [];
  let items: number | null = null;
  let truncated = false;
  for (let i = 0; i < tuple.length && !truncated; i++) {
    const id = tryBuild(
      builder,
      tuple[i],
      childPointer(childPointer(pointer, Array.isArray(s.prefixItems) ? 'prefixItems' : 'items'), i),
    );
    if (id < 0) {
      truncated = true;
      maxItems = Math.min(maxItems ?? i, i);
    } else prefix.push(id);
  }
  if (!truncated && restSchema !== false) {
    const id = tryBuild(
      builder,
      restSchema ?? true,
      childPointer(pointer, Array.isArray(s.items) ? 'additionalItems' : 'items'),
    );
    if (id >= 0) items = id;
  }
  const most = items === null ? prefix.length : Infinity;
  if (minItems > Math.min(most, maxItems ?? Infinity)) throw new Unsatisfiable('minItems unreachable');
  return builder.add(new ArrayMachine({ prefix, items, minItems, maxItems, maxWhitespace: ws }));
}

/** Keeps the enum/const members that also satisfy the schema's other keywords, checked by running a grammar. */
export function filterByRest(
  builder: SchemaBuilder,
  values: unknown[],
  rest: SchemaObject,
  pointer: string,
  limits: Limits,
): unknown[] {
  if (!hasValidation(rest)) return values;
  const id = tryBuild(builder, rest, pointer);
  if (id < 0) return [];
  let runtime: Runtime;
  try {
    runtime = new Runtime(builder.snapshot(), id, limits);
  } catch (e) {
    if (e instanceof MatcherError || e instanceof PendingError)
      throw new CompileError('enum', pointer, 'cannot check members against a recursive schema');
    throw e;
  }
  const enc = new TextEncoder();
  return values.filter((v) => {
    let set = runtime.initial;
    try {
      for (const b of enc.encode(JSON.stringify(v))) if ((set = runtime.step(set, b)) === DEAD) return false;
    } catch (e) {
      if (e instanceof PendingError)
        throw new CompileError('enum', pointer, 'cannot check members against a recursive schema');
      throw e;
    }
    return runtime.isAccepting(set);
  });
}

/** Thrown by a placeholder machine whose `$ref` target is still being built. */
export class PendingError extends Error {}

/** Throws unless the `oneOf` alternatives provably never both match (then `oneOf` equals `anyOf`). */
export function assertDisjoint(root: unknown, options: unknown[], rest: SchemaObject, pointer: string): void {
  const flat = options.map((o) => {
    try {
      const f = flatten(root, o, pointer);
      return typeof f === 'boolean' ? null : f;
    } catch {
      return null;
    }
  });
  for (let i = 0; i < flat.length; i++) {
    for (let j = i + 1; j < flat.length; j++) {
      if (!disjoint(root, flat[i]!, flat[j]!, rest)) {
        throw new CompileError(
          'oneOf',
          childPointer(childPointer(pointer, 'oneOf'), j),
          `alternatives ${i} and ${j} may both match; oneOf is enforced only for provably disjoint alternatives`,
        );
      }
    }
  }
}

function kinds(s: SchemaObject, rest: SchemaObject): Set<string> {
  const values = 'const' in s ? [s.const] : Array.isArray(s.enum) ? (s.enum as unknown[]) : null;
  if (values) return new Set(values.map(jsonKind));
  const own = typeList(s.type ?? rest.type).map((t) => (t === 'integer' ? 'number' : t));
  return new Set(own);
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function literalSet(s: SchemaObject): Set<string> | null {
  if ('const' in s) return new Set([JSON.stringify(s.const)]);
  if (Array.isArray(s.enum)) return new Set((s.enum as unknown[]).map((v) => JSON.stringify(v)));
  return null;
}

function disjoint(root: unknown, a: SchemaObject | null, b: SchemaObject | null, rest: SchemaObject): boolean {
  if (!a || !b) return false;
  const ka = kinds(a, rest);
  if (![...kinds(b, rest)].some((k) => ka.has(k))) return true;
  const la = literalSet(a);
  const lb = literalSet(b);
  if (la && lb) return ![...la].some((v) => lb.has(v));
  return objectsDisjoint(root, a, b) || objectsDisjoint(root, b, a);
}

/** Object alternatives told apart by a discriminator (a required property with disjoint literals) or by a required
 * property the other alternative forbids. */
function objectsDisjoint(root: unknown, a: SchemaObject, b: SchemaObject): boolean {
  const onlyObjects = (s: SchemaObject) => s.type === 'object';
  if (!onlyObjects(a) || !onlyObjects(b)) return false;
  const reqA = Array.isArray(a.required) ? (a.required as string[]) : [];
  const reqB = new Set(Array.isArray(b.required) ? (b.required as string[]) : []);
  const propsA = (a.properties ?? {}) as SchemaObject;
  const propsB = (b.properties ?? {}) as SchemaObject;
  for (const name of reqA) {
    if (b.additionalProperties === false && !b.patternProperties && !Object.hasOwn(propsB, name)) return true;
    if (!reqB.has(name)) continue;
    const pa = Object.hasOwn(propsA, name) ? flattenQuiet(root, propsA[name]) : null;
    const pb = Object.hasOwn(propsB, name) ? flattenQuiet(root, propsB[name]) : null;
    const la = pa && literalSet(pa);
    const lb = pb && literalSet(pb);
    if (la && lb && ![...la].some((v) => lb.has(v))) return true;
  }
  return false;
}

function flattenQuiet(root: unknown, s: unknown): SchemaObject | null {
  try {
    const f = flatten(root, s, '');
    return typeof f === 'boolean' ? null : f;
  } catch {
    return null;
  }
}
