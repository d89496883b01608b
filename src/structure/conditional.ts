import { CompileError } from './errors.js';
import { record } from './schema-prepare.js';

type SchemaObject = Record<string, unknown>;

/**
 * `if`/`then`/`else` on a discriminating property — `if: {properties: {k: {const: v}}, required: [k]}` — as the
 * union of two exclusive branches the machines enforce: (if holds) ∧ then, and (if fails) ∧ else. "if fails" needs
 * the complement of the `const`, which is exact for one literal: other JSON types, plus for a string every other
 * string (a regex over its prefixes), for a number the two open half-lines, for a boolean the other one. Without
 * `required`, an absent k satisfies `if` too. Any other `if` is refused (naming `if`).
 */
export function rewriteConditional(s: SchemaObject, pointer: string): SchemaObject {
  const { if: cond, then: yes, else: no, ...rest } = s;
  const d = discriminator(cond);
  if (!d)
    throw new CompileError(
      'if',
      pointer,
      'if/then/else is enforced only when if is {properties: {k: {const: v}}, required: [k]} (a discriminating property)',
    );
  const holds = record();
  holds.properties = Object.assign(record(), { [d.name]: { const: d.value } });
  if (d.required) holds.required = [d.name];
  // Fails only for objects: k present with another value, or (when required) k absent.
  const other = Object.assign(record(), {
    type: 'object',
    required: [d.name],
    properties: Object.assign(record(), { [d.name]: notConst(d.value) }),
  });
  const absent = Object.assign(record(), { type: 'object', properties: Object.assign(record(), { [d.name]: false }) });
  const fails = d.required ? { anyOf: [other, absent] } : other;
  const union = record();
  union.anyOf = [{ allOf: [holds, yes ?? true] }, { allOf: [fails, no ?? true] }];
  const out = record();
  out.allOf = [rest, union];
  return out;
}

function discriminator(cond: unknown): { name: string; value: unknown; required: boolean } | null {
  if (cond === null || typeof cond !== 'object' || Array.isArray(cond)) return null;
  const c = cond as SchemaObject;
  if (Object.keys(c).some((k) => k !== 'properties' && k !== 'required')) return null;
  const props = c.properties;
  if (props === null || typeof props !== 'object' || Object.keys(props).length !== 1) return null;
  const [name, sub] = Object.entries(props)[0]!;
  if (sub === null || typeof sub !== 'object' || Array.isArray(sub)) return null;
  const keys = Object.keys(sub);
  const value =
    keys.length === 1 && keys[0] === 'const'
      ? (sub as SchemaObject).const
      : keys.length === 1 &&
          keys[0] === 'enum' &&
          Array.isArray((sub as SchemaObject).enum) &&
          ((sub as SchemaObject).enum as unknown[]).length === 1
        ? ((sub as SchemaObject).enum as unknown[])[0]
        : undefined;
  if (value === undefined || (value !== null && typeof value === 'object')) return null;
  const required = c.required;
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => r === name))) return null;
  return { name, value, required: Array.isArray(required) && required.length > 0 };
}

const TYPES = ['null', 'boolean', 'object', 'array', 'number', 'string'];

/** Every JSON value except `v` (a string, number, boolean or null). */
export function notConst(v: unknown): SchemaObject {
  const kind = v === null ? 'null' : typeof v === 'number' ? 'number' : typeof v;
  const alternatives: unknown[] = [{ type: TYPES.filter((t) => t !== kind) }];
  if (typeof v === 'boolean') alternatives.push({ const: !v });
  if (typeof v === 'number')
    alternatives.push({ type: 'number', exclusiveMaximum: v }, { type: 'number', exclusiveMinimum: v });
  if (typeof v === 'string') alternatives.push({ type: 'string', pattern: otherStrings(v) });
  return { anyOf: alternatives };
}

/** A regex for every string but `v`: a proper prefix of it, a prefix then another character then anything, or v then more. */
function otherStrings(v: string): string {
  const chars = Array.from(v);
  const lit = (cs: string[]): string => cs.map((c) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')).join('');
  const alts: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    alts.push(lit(chars.slice(0, i)));
    alts.push(`${lit(chars.slice(0, i))}[^${lit([chars[i]!])}][\\s\\S]*`);
  }
  alts.push(`${lit(chars)}[\\s\\S]+`);
  return `^(?:${alts.join('|')})$`;
}

/** Most schema-valued dependencies rewritten at once (each doubles the union's alternatives). */
const MAX_DEPENDENT_SCHEMAS = 3;

/**
 * `dependentSchemas` (and draft-07 `dependencies` with schema values) as a union: for each name k, either k is
 * absent (`properties: {k: false}`) or it is present and its schema holds — exact, and for non-objects both keywords
 * are vacuous as they are in JSON Schema. Array-valued `dependencies` stay for the object machine. Returns null when
 * the schema has none.
 */
export function rewriteDependentSchemas(s: SchemaObject, pointer: string): SchemaObject | null {
  const entries: [string, unknown][] = [];
  const rest = Object.assign(record(), s);
  for (const keyword of ['dependentSchemas', 'dependencies'] as const) {
    const map = s[keyword];
    if (map === null || typeof map !== 'object') continue;
    const kept = record();
    for (const [name, value] of Object.entries(map)) {
      if (keyword === 'dependencies' && Array.isArray(value)) kept[name] = value;
      else entries.push([name, value]);
    }
    if (Object.keys(kept).length > 0) rest[keyword] = kept;
    else delete rest[keyword];
  }
  if (entries.length === 0) return null;
  if (entries.length > MAX_DEPENDENT_SCHEMAS)
    throw new CompileError(
      'dependentSchemas',
      pointer,
      `at most ${MAX_DEPENDENT_SCHEMAS} schema-valued dependencies are enforced (each doubles the alternatives)`,
    );
  let tail: unknown = true;
  for (const [name, sub] of entries.reverse()) {
    const absent = { properties: Object.assign(record(), { [name]: false }) };
    const present = { required: [name] };
    tail = { anyOf: [{ allOf: [absent, tail] }, { allOf: [present, sub, tail] }] };
  }
  const out = record();
  out.allOf = [rest, tail];
  return out;
}
