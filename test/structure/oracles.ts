/**
 * Two independent validators every randomised structure test checks the decoder against.
 *
 * ajv (8.x) is fast and already the project's reference, but it shares blind spots with a plain-object compiler:
 * by default `required: ["valueOf"]` is met by every object (the inherited method), and even with `ownProperties`
 * it reads a `__proto__` property through the accessor. So a second validator stands next to it:
 * `@hyperjump/json-schema` 1.18.0 (MIT, pinned; engines fit Node 20) — by Jason Desrosiers, one of the JSON Schema
 * specification's authors, it passes the official JSON-Schema-Test-Suite for every draft from 04 to 2020-12 (the
 * Bowtie reports), it is maintained (1.18.0 released October 2026), and it shares no code with ajv: it interprets the
 * schema per keyword instead of generating JavaScript. Where the two disagree, `SPEC_TABLE` (spec-table.ts) decides
 * with the specification's words; a disagreement it does not cover fails the test, so a new one is looked at.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  registerSchema,
  setShouldValidateFormat,
  unregisterSchema,
  validate,
} from '@hyperjump/json-schema/draft-2020-12';
import '@hyperjump/json-schema/draft-07';
import '@hyperjump/json-schema/draft-2019-09';
import '@hyperjump/json-schema/draft-04';
import '@hyperjump/json-schema/draft-06';
import '@hyperjump/json-schema/formats';
import { specVerdict } from './spec-table.js';

// The decoder asserts formats, so both oracles must too (2020-12 makes format an annotation by default).
setShouldValidateFormat(true);

const AJV_OPTIONS = {
  strict: false,
  validateSchema: false,
  allErrors: false,
  logger: false,
  ownProperties: true,
} as const;
const ajv7 = new Ajv(AJV_OPTIONS);
const ajv2020 = new Ajv2020(AJV_OPTIONS);
(addFormats as unknown as (a: Ajv) => void)(ajv7);
(addFormats as unknown as (a: Ajv2020) => void)(ajv2020);

const DIALECTS: [RegExp, string][] = [
  [/2020-12/, 'https://json-schema.org/draft/2020-12/schema'],
  [/2019-09/, 'https://json-schema.org/draft/2019-09/schema'],
  [/draft-07/, 'http://json-schema.org/draft-07/schema#'],
  [/draft-06/, 'http://json-schema.org/draft-06/schema#'],
  [/draft-0[34]/, 'http://json-schema.org/draft-04/schema#'],
];

/** A verdict function of one oracle: null where it cannot judge that instance. */
export type Verdict = (instance: unknown) => boolean | null;

function declared(schema: unknown): string {
  return typeof schema === 'object' && schema !== null ? String((schema as { $schema?: unknown }).$schema ?? '') : '';
}

const SUBSCHEMA = new Set([
  'items',
  'additionalItems',
  'additionalProperties',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
  'unevaluatedItems',
  'unevaluatedProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'prefixItems',
]);
const SUBSCHEMA_MAPS = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
]);

/**
 * Drops base-changing `$id`/`id`s (ajv 8 refuses draft-04's `id`; nested and repeated ids break both), after
 * turning references through the root's base URI into local ones. Sound for the verdicts compared here: the
 * decoder refuses any `$ref` below a nested `$id`, so no instance it accepts depends on one. Fragment-only ids are
 * anchors and stay.
 */
function withoutIds(schema: unknown, fragmentIdsAsDollar = false): void {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return;
  const root = schema as Record<string, unknown>;
  const id = root.$id ?? root.id;
  if (typeof id === 'string' && id.split('#')[0] !== '') localRefs(root, id.split('#')[0]!);
  dropIds(root, fragmentIdsAsDollar);
}

function localRefs(node: unknown, base: string): void {
  if (Array.isArray(node)) return node.forEach((n) => localRefs(n, base));
  if (node === null || typeof node !== 'object') return;
  const s = node as Record<string, unknown>;
  if (typeof s.$ref === 'string' && s.$ref.startsWith(base)) s.$ref = s.$ref.slice(base.length) || '#';
  Object.values(s).forEach((v) => localRefs(v, base));
}

/** `dollar`: a fragment-only draft-04 `id` becomes `$id` (ajv 8 knows only that spelling). */
function dropIds(schema: unknown, dollar: boolean): void {
  if (Array.isArray(schema)) return schema.forEach((x) => dropIds(x, dollar));
  if (schema === null || typeof schema !== 'object') return;
  const s = schema as Record<string, unknown>;
  for (const k of ['$id', 'id']) if (typeof s[k] === 'string' && !(s[k] as string).startsWith('#')) delete s[k];
  if (dollar && typeof s.id === 'string' && s.$id === undefined) {
    s.$id = s.id;
    delete s.id;
  }
  for (const [k, v] of Object.entries(s)) {
    if (SUBSCHEMA.has(k)) dropIds(v, dollar);
    else if (SUBSCHEMA_MAPS.has(k) && v !== null && typeof v === 'object')
      Object.values(v).forEach((x) => dropIds(x, dollar));
  }
}

function ajvCompile(schemaText: string, modern: boolean): ValidateFunction | null {
  try {
    const copy = JSON.parse(schemaText) as unknown;
    withoutIds(copy, true);
    if (typeof copy === 'object' && copy !== null)
      for (const k of ['$schema', '$async']) delete (copy as Record<string, unknown>)[k];
    return (modern ? ajv2020 : ajv7).compile(copy as object);
  } catch {
    return null;
  }
}

/**
 * Names ajv misreads — `__proto__` (read through the accessor) and the empty name (`required: [""]` counts as met)
 * — and stand-ins for them that no keyword used here can tell apart from them.
 */
const STAND_INS = new Map([
  ['__proto__', '__protx__'],
  ['', '\u0001'],
]);
const NAME_LISTS = new Set(['required']);
const NAME_MAPS = new Set(['properties', 'dependentSchemas', 'dependentRequired', 'dependencies']);
const DATA = new Set(['enum', 'const', 'default', 'examples']);

/** Object keys renamed by STAND_INS, recursively (instance data). */
function renameKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(renameKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v))
    Object.defineProperty(out, STAND_INS.get(k) ?? k, {
      value: renameKeys(x),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** The schema with every *name* (property names, required and dependency lists, data keys) renamed by STAND_INS. */
function renameNames(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(renameNames);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown): void =>
    void Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(schema)) {
    const rename = (n: unknown): unknown => (typeof n === 'string' ? (STAND_INS.get(n) ?? n) : n);
    if (DATA.has(k)) put(k, renameKeys(v));
    else if (NAME_LISTS.has(k) && Array.isArray(v)) put(k, v.map(rename));
    else if (NAME_MAPS.has(k) && v !== null && typeof v === 'object') {
      const map: Record<string, unknown> = {};
      for (const [n, sub] of Object.entries(v))
        Object.defineProperty(map, rename(n) as string, {
          value: Array.isArray(sub) ? sub.map(rename) : renameNames(sub),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      put(k, map);
    } else if (SUBSCHEMA.has(k) || SUBSCHEMA_MAPS.has(k))
      put(
        k,
        SUBSCHEMA_MAPS.has(k) && v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([n, sub]) => [n, renameNames(sub)]))
          : renameNames(v),
      );
    else put(k, v);
  }
  return out;
}

/**
 * ajv's validator for `schema` in its declared draft (draft-07 when undeclared), or null. The names ajv misreads are
 * renamed to stand-ins in schema and instance alike — sound where no patternProperties or propertyNames can tell
 * them apart (ajv abstains, null, on such instances).
 */
export function ajvOracle(schema: unknown): Verdict | null {
  const modern = /2019-09|2020-12/.test(declared(schema));
  const text = JSON.stringify(schema);
  const renamable = !/patternProperties|propertyNames|__protx__|\\u0001/.test(text);
  const fn = ajvCompile(JSON.stringify(renamable ? renameNames(schema) : schema), modern);
  if (!fn) return null;
  // Whether the schema names one of them at all (renaming would change its text).
  const mentions = JSON.stringify(renameNames(schema)) !== text;
  return (v) => {
    if (!renamable && (mentions || JSON.stringify(v).includes('"__proto__":'))) return null;
    try {
      return fn(renamable ? renameKeys(v) : v) === true;
    } catch {
      return false;
    }
  };
}

let serial = 0;

/** hyperjump's validator for `schema` in its declared draft (draft-07 when undeclared, as ajv), or null. */
export async function hyperjumpOracle(schema: unknown): Promise<Verdict | null> {
  const dialect = DIALECTS.find(([re]) => re.test(declared(schema)))?.[1] ?? 'http://json-schema.org/draft-07/schema#';
  const uri = `https://atelier.invalid/oracle/${++serial}`;
  try {
    const copy = JSON.parse(JSON.stringify(schema)) as unknown;
    if (typeof copy === 'object' && copy !== null) {
      withoutIds(copy);
      if (!/2019|2020/.test(dialect)) refAtRoot(copy as Record<string, unknown>);
    }
    registerSchema(copy as Parameters<typeof registerSchema>[0], uri, dialect);
    const fn = await validate(uri);
    return (v) => {
      try {
        return fn(v as Parameters<typeof fn>[0]).valid;
      } catch {
        return false;
      }
    };
  } catch {
    return null;
  } finally {
    try {
      unregisterSchema(uri);
    } catch {
      // never registered: nothing to remove
    }
  }
}

/** Keywords with a validation meaning in drafts 04–07 (ignored beside `$ref` there). */
const LEGACY_VALIDATION = [
  'type',
  'enum',
  'const',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'format',
  'maxItems',
  'minItems',
  'uniqueItems',
  'items',
  'additionalItems',
  'contains',
  'maxProperties',
  'minProperties',
  'required',
  'properties',
  'patternProperties',
  'additionalProperties',
  'propertyNames',
  'dependencies',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
  'if',
  'then',
  'else',
];

/**
 * Drafts 04–07 ignore the keywords beside `$ref`; hyperjump also stops `#/definitions/…` from resolving when the
 * root itself is a `$ref` object (the document has them; the JSON-pointer reading does not depend on keywords). The
 * same meaning, in a form it resolves: the root's `$ref` moves into `allOf` and the ignored keywords go.
 */
function refAtRoot(root: Record<string, unknown>): void {
  if (typeof root.$ref !== 'string') return;
  for (const k of LEGACY_VALIDATION) delete root[k];
  root.allOf = [{ $ref: root.$ref }];
  delete root.$ref;
}

/** Both oracles for one schema. */
export interface Oracles {
  ajv: Verdict | null;
  hyperjump: Verdict | null;
}

/** Builds both oracles for `schema`. */
export async function oraclesFor(schema: unknown): Promise<Oracles> {
  return { ajv: ajvOracle(schema), hyperjump: await hyperjumpOracle(schema) };
}

/**
 * The agreed verdict on `instance`: both oracles when they agree, the spec table where they disagree or where one
 * of them cannot judge; throws when the table does not hold such a case. null when neither oracle compiles it.
 */
export function agreed(oracles: Oracles, schema: unknown, instance: unknown): boolean | null {
  if (!oracles.ajv && !oracles.hyperjump) return null;
  const a = oracles.ajv?.(instance) ?? null;
  const h = oracles.hyperjump?.(instance) ?? null;
  if (a !== null && a === h) return a;
  const decided = specVerdict(schema, instance);
  if (decided === undefined) {
    throw new Error(
      `ajv (${a}) and hyperjump (${h}) disagree on ${JSON.stringify(instance).slice(0, 300)} under ${JSON.stringify(schema).slice(0, 600)}: add the case to spec-table.ts`,
    );
  }
  return decided;
}

/** One table row: a schema, instances as JSON texts with their verdicts, and whether the decoder may refuse it. */
export interface TableCase {
  name: string;
  schema: unknown;
  cases: [text: string, valid: boolean][];
  /** The decoder must compile it (otherwise a CompileError is an acceptable answer: refusing never fails open). */
  mustCompile: boolean;
}

/**
 * Checks a table row: each verdict against both oracles (through `agreed`), then the decoder through the mask
 * (any property order). Returns whether the decoder compiled the schema.
 */
export async function checkCase(
  row: TableCase,
  decoderAccepts: (schema: unknown, text: string) => boolean,
  isRefusal: (e: unknown) => boolean,
): Promise<boolean> {
  const oracles = await oraclesFor(row.schema);
  for (const [text, valid] of row.cases) {
    const verdict = agreed(oracles, row.schema, JSON.parse(text));
    if (verdict !== valid) throw new Error(`${row.name}: table says ${valid} for ${text}, the oracles say ${verdict}`);
  }
  for (const [text, valid] of row.cases) {
    let accepted: boolean;
    try {
      accepted = decoderAccepts(row.schema, text);
    } catch (e) {
      if (!isRefusal(e) || row.mustCompile) throw e;
      return false;
    }
    if (accepted !== valid) throw new Error(`${row.name}: decoder ${accepted ? 'accepts' : 'rejects'} ${text}`);
  }
  return true;
}
