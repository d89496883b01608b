import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { CompileError } from './errors.js';
import { resolveRef } from './schema-refs.js';

/**
 * Schemas over a finite domain: when a schema (or one of its `allOf` members, or every alternative of an `anyOf`
 * or `oneOf`, through `$ref`s) lists its values with `enum` or `const`, every valid instance is one of them, so the schema is exactly the enum of the listed
 * values that validate against the *whole* schema — whatever other keywords it holds (`not`, overlapping `oneOf`,
 * `if`/`then`, `dependencies`, …). Deciding concrete values is exact where a grammar for those keywords is out of
 * reach. The decider is ajv, a reference validator: our own grammar is stricter than JSON Schema in places
 * (canonical spellings), so it could not decide membership exactly.
 */

/** The values `schema` is confined to, or null when it names none (resolving local `$ref`s in `root`). */
export function finiteDomain(root: unknown, schema: unknown, depth = 0): unknown[] | null {
  if (!isObject(schema) || depth > 32) return null;
  if (Array.isArray(schema.enum)) return schema.enum;
  if (Object.hasOwn(schema, 'const')) return [schema.const];
  if (typeof schema.$ref === 'string') {
    const target = localTarget(root, schema.$ref);
    const found = target === undefined ? null : finiteDomain(root, target, depth + 1);
    if (found) return found;
  }
  if (Array.isArray(schema.allOf)) {
    for (const member of schema.allOf) {
      const found = finiteDomain(root, member, depth + 1);
      if (found) return found;
    }
  }
  // A union is finite when each alternative is.
  for (const union of [schema.anyOf, schema.oneOf]) {
    if (!Array.isArray(union) || union.length === 0) continue;
    const parts = union.map((alt) => finiteDomain(root, alt, depth + 1));
    if (parts.every((p) => p !== null)) return parts.flat();
  }
  return null;
}

/** The values of `domain` that `schema` accepts, decided by ajv; refuses (CompileError) what ajv cannot compile. */
export function validMembers(root: unknown, domain: readonly unknown[], schema: unknown, pointer: string): unknown[] {
  const validate = validatorFor(root, schema, pointer);
  return domain.filter((v) => validate(v) === true);
}

// ownProperties: by default ajv reads `required: ["valueOf"]` as met by every object (the inherited method).
const OPTIONS = { strict: false, validateSchema: false, allErrors: false, logger: false, ownProperties: true } as const;
let draft7: Ajv | undefined;
let draft2020: Ajv2020 | undefined;

function ajvFor(root: unknown): Ajv | Ajv2020 {
  const declared = isObject(root) ? String(root.$schema ?? '') : '';
  if (/2019-09|2020-12/.test(declared)) return (draft2020 ??= withFormats(new Ajv2020(OPTIONS)));
  return (draft7 ??= withFormats(new Ajv(OPTIONS)));
}

function withFormats<T extends Ajv | Ajv2020>(ajv: T): T {
  (addFormats as unknown as (a: T) => void)(ajv);
  return ajv;
}

/** Compiles `schema` with the root's definitions in reach of its `#/…` references. */
function validatorFor(root: unknown, schema: unknown, pointer: string): ValidateFunction {
  const doc: Record<string, unknown> = isObject(schema)
    ? (plainCopy(schema) as Record<string, unknown>)
    : { allOf: [plainCopy(schema)] };
  for (const key of ['definitions', '$defs'] as const) {
    if (!isObject(root) || !Object.hasOwn(root, key) || root === schema) continue;
    if (Object.hasOwn(doc, key))
      throw new CompileError('enum', pointer, `a subschema with its own ${key} cannot be decided value by value`);
    doc[key] = plainCopy(root[key]);
  }
  // Even with ownProperties, ajv's generated code reads `data.__proto__` through the accessor: it cannot decide.
  if (JSON.stringify(doc).includes('"__proto__"'))
    throw new CompileError('enum', pointer, 'a schema naming __proto__ cannot be decided value by value');
  delete doc.$id;
  delete doc.id;
  delete doc.$schema;
  delete doc.$async;
  // Copied out of the root, `#` and pointers outside the definitions would resolve against the copy instead.
  if (root !== schema && refsIn(doc).some((r) => !/^#\/(definitions|\$defs)\//.test(r))) {
    throw new CompileError(
      'enum',
      pointer,
      'a subschema referring outside the definitions cannot be decided value by value',
    );
  }
  const ajv = ajvFor(root);
  try {
    return ajv.compile(doc as AnySchema);
  } catch (e) {
    throw new CompileError('enum', pointer, `the schema cannot be decided value by value: ${(e as Error).message}`);
  } finally {
    ajv.removeSchema(doc as AnySchema);
  }
}

/**
 * A copy made of ordinary objects, as ajv expects (the compiler's copies have null prototypes); members are defined,
 * not assigned, so a `__proto__` name stays a member instead of setting the prototype.
 */
function plainCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainCopy);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    Object.defineProperty(out, k, { value: plainCopy(v), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Every `$ref` string anywhere in `schema`. */
function refsIn(schema: unknown): string[] {
  if (Array.isArray(schema)) return schema.flatMap(refsIn);
  if (!isObject(schema)) return [];
  return Object.entries(schema).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [v] : k === 'enum' || k === 'const' ? [] : refsIn(v),
  );
}

/** The target of a local `$ref`, or undefined when it does not resolve. */
function localTarget(root: unknown, ref: string): unknown {
  try {
    return resolveRef(root, ref, '').schema;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
