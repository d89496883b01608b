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
import { registerSchema, setShouldValidateFormat, unregisterSchema, validate } from '@hyperjump/json-schema/draft-2020-12';
import '@hyperjump/json-schema/draft-07';
import '@hyperjump/json-schema/draft-2019-09';
import '@hyperjump/json-schema/draft-04';
import '@hyperjump/json-schema/formats';
import { specVerdict } from './spec-table.js';

// The decoder asserts formats, so both oracles must too (2020-12 makes format an annotation by default).
setShouldValidateFormat(true);

const AJV_OPTIONS = { strict: false, validateSchema: false, allErrors: false, logger: false, ownProperties: true } as const;
const ajv7 = new Ajv(AJV_OPTIONS);
const ajv2020 = new Ajv2020(AJV_OPTIONS);
(addFormats as unknown as (a: Ajv) => void)(ajv7);
(addFormats as unknown as (a: Ajv2020) => void)(ajv2020);

const DIALECTS: [RegExp, string][] = [
  [/2020-12/, 'https://json-schema.org/draft/2020-12/schema'],
  [/2019-09/, 'https://json-schema.org/draft/2019-09/schema'],
  [/draft-0[67]/, 'http://json-schema.org/draft-07/schema#'],
  [/draft-0[34]/, 'http://json-schema.org/draft-04/schema#'],
];

/** A verdict function of one oracle; null where it cannot compile the schema. */
export type Verdict = (instance: unknown) => boolean;

function declared(schema: unknown): string {
  return typeof schema === 'object' && schema !== null ? String((schema as { $schema?: unknown }).$schema ?? '') : '';
}

/** ajv's validator for `schema` in its declared draft (draft-07 when undeclared), or null. */
export function ajvOracle(schema: unknown): Verdict | null {
  const modern = /2019-09|2020-12/.test(declared(schema));
  let fn: ValidateFunction;
  try {
    const copy = JSON.parse(JSON.stringify(schema)) as unknown;
    if (typeof copy === 'object' && copy !== null) for (const k of ['$id', 'id', '$schema', '$async']) delete (copy as Record<string, unknown>)[k];
    fn = (modern ? ajv2020 : ajv7).compile(copy as object);
  } catch {
    return null;
  }
  return (v) => {
    try {
      return fn(v) === true;
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
    if (typeof copy === 'object' && copy !== null) for (const k of ['$id', 'id']) delete (copy as Record<string, unknown>)[k];
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
 * The agreed verdict on `instance`: both oracles when they agree (one alone when the other cannot compile the
 * schema), the spec table where they disagree; throws when they disagree on a case the table does not hold.
 * null when neither oracle can compile the schema.
 */
export function agreed(oracles: Oracles, schema: unknown, instance: unknown): boolean | null {
  const a = oracles.ajv?.(instance) ?? null;
  const h = oracles.hyperjump?.(instance) ?? null;
  if (a === null || h === null || a === h) return a ?? h;
  const decided = specVerdict(schema, instance);
  if (decided === undefined) {
    throw new Error(`ajv (${a}) and hyperjump (${h}) disagree on ${JSON.stringify(instance)} under ${JSON.stringify(schema)}: add the case to spec-table.ts`);
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
export async function checkCase(row: TableCase, decoderAccepts: (schema: unknown, text: string) => boolean, isRefusal: (e: unknown) => boolean): Promise<boolean> {
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
