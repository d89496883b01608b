import { KEYWORD_TABLE, NO_EFFECT, REFUSED_ON_SIGHT } from './keywords.js';
import { CompileError, childPointer } from './errors.js';
import { conjoin, crossAdditional, hasPositional, mergePositional, refuseUnevaluatedMix } from './merge-applicators.js';
import { resolveRef } from './schema-refs.js';
import { record } from './schema-prepare.js';

/** A JSON Schema object (boolean schemas are handled by the caller). */
export type SchemaObject = Record<string, unknown>;

/** Raised when a (sub)schema admits no value; unions drop such alternatives, the root turns it into CompileError. */
export class Unsatisfiable extends Error {
  override readonly name = 'Unsatisfiable';
}

/** Keywords with no effect on validity (from the keyword table). */
export const ANNOTATIONS = NO_EFFECT;

/** Every keyword JSON Schema gives a validation meaning (drafts 04 to 2020-12), from the keyword table. */
const VALIDATION: ReadonlySet<string> = new Set(
  KEYWORD_TABLE.filter((f) => f.status !== 'annotation').flatMap((f) => f.keywords),
);

/** Keywords whose value is data, never a schema: nothing inside them is a keyword or a reference. */
export const DATA_MEMBERS: ReadonlySet<string> = new Set(['enum', 'const', 'default', 'examples', 'example']);

/**
 * Drafts 3 to 7 ignore every keyword beside `$ref` ("all other properties in a $ref object MUST be ignored");
 * 2019-09 and later apply them alongside, as this compiler does. For a document that declares an older draft,
 * returns a copy in which each `$ref` object keeps only `$ref` and its members without validation meaning (so
 * `definitions` under it still resolve at the same pointers); any other document is returned as it is.
 */
export function withDraftRefSemantics(doc: unknown): unknown {
  const declared = doc !== null && typeof doc === 'object' ? (doc as SchemaObject).$schema : undefined;
  if (typeof declared !== 'string' || !/draft-0[3-7]\b/.test(declared)) return doc;
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    const hasRef = typeof (node as SchemaObject).$ref === 'string';
    const out = record();
    for (const [k, v] of Object.entries(node)) {
      if (hasRef && k !== '$ref' && VALIDATION.has(k)) continue;
      out[k] = DATA_MEMBERS.has(k) ? v : rewrite(v);
    }
    return out;
  };
  return rewrite(doc);
}

/**
 * Validation keywords refused on sight (from the keyword table): any of them makes compilation fail, never a looser
 * grammar. (`not`, `if`, `uniqueItems` and the partial families are refused case by case where they are built.)
 */
export const UNSUPPORTED = REFUSED_ON_SIGHT;

/** Whether a schema object carries any validation keyword (not only annotations). */
export function hasValidation(s: SchemaObject): boolean {
  return Object.keys(s).some((k) => !ANNOTATIONS.has(k));
}

/**
 * `allOf` as one schema: keyword by keyword intersection (bounds tighten, `required` unions, `properties` nest as
 * `allOf`, `type` intersects, `enum` intersects). Combinations with no exact single-schema form are CompileErrors.
 */
export function mergeSchemas(a: SchemaObject, b: SchemaObject, pointer: string): SchemaObject {
  refuseUnevaluatedMix(a, b, pointer);
  // A member's then/else belong to its own if: next to another member's if they would change meaning.
  const conditional = (s: SchemaObject): boolean => ['if', 'then', 'else'].some((k) => Object.hasOwn(s, k));
  if (conditional(a) && conditional(b))
    throw new CompileError(
      'if',
      pointer,
      'allOf combines two members with if/then/else, which has no exact merged form',
    );
  // Likewise minContains/maxContains count only their own member's contains.
  const counts = (s: SchemaObject): boolean =>
    ['contains', 'minContains', 'maxContains'].some((k) => Object.hasOwn(s, k));
  if (counts(a) && counts(b))
    throw new CompileError(
      'contains',
      pointer,
      'allOf combines two members with contains counts, which has no exact merged form',
    );
  const out = Object.assign(record(), a);
  const positional = hasPositional(a, b);
  for (const [key, value] of Object.entries(b)) {
    if (ANNOTATIONS.has(key) || (positional && (key === 'prefixItems' || key === 'items'))) continue;
    if (!Object.hasOwn(out, key)) {
      out[key] = value;
      continue;
    }
    const prev = out[key];
    // Keywords unknown to JSON Schema have no effect, so differing values of them need no merge.
    if (!VALIDATION.has(key) || JSON.stringify(prev) === JSON.stringify(value)) continue;
    out[key] = mergeKeyword(key, prev, value, a, b, pointer);
  }
  if (positional) mergePositional(out, a, b, pointer);
  crossAdditional(out, a, b, pointer);
  return out;
}

function mergeKeyword(key: string, x: unknown, y: unknown, a: SchemaObject, b: SchemaObject, pointer: string): unknown {
  const num = (v: unknown): number => Number(v);
  switch (key) {
    case 'type': {
      const xs = new Set(typeList(x));
      const ys = typeList(y);
      const both = ys.filter((t) => xs.has(t) || (t === 'integer' && xs.has('number')));
      for (const t of xs)
        if (t === 'integer' && ys.includes('number') && !both.includes('integer')) both.push('integer');
      if (both.length === 0) throw new Unsatisfiable('allOf: no common type');
      return both;
    }
    case 'required':
      return [...new Set([...(x as string[]), ...(y as string[])])];
    case 'properties': {
      const props = Object.assign(record(), x as SchemaObject);
      for (const [name, sub] of Object.entries(y as SchemaObject))
        props[name] = Object.hasOwn(props, name) ? conjoin(props[name], sub) : sub;
      return props;
    }
    case 'items':
    case 'additionalProperties':
    case 'propertyNames':
      if (Array.isArray(x) || Array.isArray(y)) break;
      return conjoin(x, y);
    case 'minimum':
    case 'minLength':
    case 'minItems':
    case 'minProperties':
      return Math.max(num(x), num(y));
    case 'maximum':
    case 'maxLength':
    case 'maxItems':
    case 'maxProperties':
      return Math.min(num(x), num(y));
    case 'exclusiveMinimum':
      if (typeof x === 'number' && typeof y === 'number') return Math.max(x, y);
      break;
    case 'exclusiveMaximum':
      if (typeof x === 'number' && typeof y === 'number') return Math.min(x, y);
      break;
    case 'enum': {
      const ys = new Set((y as unknown[]).map((v) => JSON.stringify(v)));
      return (x as unknown[]).filter((v) => ys.has(JSON.stringify(v)));
    }
    case 'const':
      throw new Unsatisfiable('allOf: different const values');
    case 'multipleOf':
      if (Number.isInteger(x) && Number.isInteger(y)) return lcm(x as number, y as number);
      break;
    case 'uniqueItems':
      return Boolean(x) || Boolean(y);
    case 'dependentRequired':
    case 'dependencies': {
      // Both members' requirements hold: per name, the union of the names it requires.
      const out = Object.assign(record(), x as SchemaObject);
      for (const [name, names] of Object.entries(y as SchemaObject)) {
        const prev = Object.hasOwn(out, name) ? out[name] : [];
        if (!Array.isArray(prev) || !Array.isArray(names))
          throw new CompileError(
            key,
            pointer,
            'allOf combines schema-valued dependencies, which has no exact merged form',
          );
        out[name] = [...new Set([...(prev as unknown[]), ...(names as unknown[])])];
      }
      return out;
    }
  }
  void a;
  void b;
  throw new CompileError(
    key,
    pointer,
    'allOf combines two different values of this keyword, which has no exact merged form',
  );
}

/**
 * `not` in the forms with an exact positive meaning: `not: {}`/`not: true` (nothing is valid) and `not: {type}`
 * (remove those types). Returns the schema without `not`; other forms are a CompileError (which a finite domain
 * beside it can still resolve: see `finiteDomain`).
 */
export function applyNot(root: unknown, s: SchemaObject, pointer: string): SchemaObject {
  if (!('not' in s)) return s;
  const { not, ...rest } = s;
  const n = not === true || not === false ? not : flatten(root, not, childPointer(pointer, 'not'));
  if (n === false) return rest;
  if (n === true || !hasValidation(n)) throw new Unsatisfiable('not {} admits nothing');
  const keys = Object.keys(n).filter((k) => !ANNOTATIONS.has(k));
  if (keys.length === 1 && keys[0] === 'type') {
    const banned = new Set(typeList(n.type).flatMap((t) => (t === 'number' ? ['number', 'integer'] : [t])));
    const kept = typeList(rest.type).filter((t) => !banned.has(t));
    if (kept.includes('number') && banned.has('integer'))
      throw new CompileError('not', pointer, 'numbers that are not integers have no exact grammar here');
    if (kept.length === 0) throw new Unsatisfiable('not removes every type');
    return { ...rest, type: kept };
  }
  throw new CompileError(
    'not',
    pointer,
    'only not {} and not {type} are enforced by the decoder (and any not beside enum/const)',
  );
}

/** The `type` keyword as a list (all types when absent). */
export function typeList(t: unknown): string[] {
  if (t === undefined) return ['null', 'boolean', 'object', 'array', 'number', 'string'];
  return Array.isArray(t) ? (t as string[]) : [t as string];
}

function lcm(x: number, y: number): number {
  const gcd = (p: number, q: number): number => (q === 0 ? p : gcd(q, p % q));
  return (x / gcd(x, y)) * y;
}

const flattened = new WeakMap<object, WeakMap<object, SchemaObject | boolean>>();

/**
 * Follows `$ref`s and flattens `allOf` into a single schema object (recursion through refs is cut off at depth 32).
 * Cached per (document, subschema): a large document flattens the same definitions tens of thousands of times (a
 * WordPress theme.json schema: 54K calls on 12K objects), and results are never mutated by their users.
 */
export function flatten(root: unknown, schema: unknown, pointer: string, depth = 0): SchemaObject | boolean {
  if (depth > 32) throw new CompileError('$ref', pointer, 'reference chain too deep to merge (recursive allOf?)');
  if (typeof schema === 'boolean') return schema;
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new CompileError('schema', pointer, 'a schema must be an object or a boolean');
  let byDocument = root !== null && typeof root === 'object' ? flattened.get(root) : undefined;
  if (!byDocument && root !== null && typeof root === 'object') flattened.set(root, (byDocument = new WeakMap()));
  const known = byDocument?.get(schema);
  if (known !== undefined) return known;
  const result = flattenOnce(root, schema as SchemaObject, pointer, depth);
  byDocument?.set(schema, result);
  return result;
}

function flattenOnce(root: unknown, schema: SchemaObject, pointer: string, depth: number): SchemaObject | boolean {
  if (typeof schema.$ref !== 'string' && !Array.isArray(schema.allOf)) return schema;
  // This schema's unevaluated* see what its $ref and allOf members evaluate: held back while they merge.
  const { unevaluatedProperties, unevaluatedItems, ...own } = schema;
  const merged = mergeApplicators(root, own, pointer, depth);
  if (unevaluatedProperties === undefined && unevaluatedItems === undefined) return merged;
  if (merged === false) return false;
  const out = Object.assign(record(), merged === true ? {} : merged);
  for (const [keyword, value] of [
    ['unevaluatedProperties', unevaluatedProperties],
    ['unevaluatedItems', unevaluatedItems],
  ] as const) {
    if (value !== undefined) out[keyword] = Object.hasOwn(out, keyword) ? conjoin(out[keyword], value) : value;
  }
  return out;
}

function mergeApplicators(root: unknown, schema: SchemaObject, pointer: string, depth: number): SchemaObject | boolean {
  let s = schema;
  if (typeof s.$ref === 'string') {
    const { $ref, ...rest } = s;
    const target = resolveRef(root, $ref, pointer);
    const t = flatten(root, target.schema, target.pointer, depth + 1);
    if (t === false) throw new Unsatisfiable('reference to false');
    s = t === true ? rest : mergeSchemas(t, rest, pointer);
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    let acc: SchemaObject = rest;
    (allOf as unknown[]).forEach((item, i) => {
      const f = flatten(root, item, childPointer(childPointer(pointer, 'allOf'), i), depth + 1);
      if (f === false) throw new Unsatisfiable('allOf member is false');
      if (f !== true) acc = mergeSchemas(acc, f, pointer);
    });
    return flatten(root, acc, pointer, depth + 1);
  }
  return s;
}
