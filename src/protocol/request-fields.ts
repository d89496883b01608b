/**
 * Field checks shared by request validators: each throws `InvalidRequestError` (400) whose `param` is the field's
 * full path (`stream_options.include_usage`, `tools[0].function.parameters`), whatever its siblings hold.
 */
import { InvalidRequestError } from './errors.js';

/** A JSON object (not null, not an array). */
export type Obj = Record<string, unknown>;

/** Whether `v` is a JSON object. */
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws the 400; `param` is the offending field as a path, e.g. `messages[1].content[0].image_url.url`. */
export function fail(message: string, param: string | null, code: string | null = null): never {
  throw new InvalidRequestError(message, { param, code });
}

/** `prefix.key`, or `key` at the top level. */
const pathOf = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);

/** Options of `num`: bounds (inclusive), whether it must be whole, and the path of the object holding it. */
export interface NumberField {
  min: number;
  max: number;
  integer?: boolean;
  at?: string;
}

/** `obj[key]` as a number within bounds; `def` when absent or null. */
export function num(obj: Obj, key: string, def: number, field: NumberField): number {
  const v = obj[key];
  const param = pathOf(field.at ?? '', key);
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`'${param}' must be a number`, param, 'invalid_type');
  if (field.integer && !Number.isInteger(v)) fail(`'${param}' must be an integer`, param, 'invalid_type');
  if (v < field.min || v > field.max)
    fail(`'${param}' must be between ${field.min} and ${field.max}, got ${v}`, param, 'invalid_value');
  return v;
}

/** `obj[key]` as a boolean; `def` when absent or null. `at` is the path of `obj`. */
export function bool(obj: Obj, key: string, def: boolean, at = ''): boolean {
  const v = obj[key];
  const param = pathOf(at, key);
  if (v === undefined || v === null) return def;
  if (typeof v !== 'boolean') fail(`'${param}' must be a boolean`, param, 'invalid_type');
  return v;
}

/** `obj[key]` as a string of at most `maxLength` characters; null when absent or null. */
export function optionalString(obj: Obj, key: string, at: string, maxLength = Infinity): string | null {
  const v = obj[key];
  const param = pathOf(at, key);
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail(`'${param}' must be a string`, param, 'invalid_type');
  if (v.length > maxLength) fail(`'${param}' must be at most ${maxLength} characters`, param, 'invalid_value');
  return v;
}

/** Refuses keys of `obj` outside `known`, naming the first as `at.key`. */
export function onlyKeys(obj: Obj, known: readonly string[], at: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key))
      fail(`Unrecognized argument supplied: ${pathOf(at, key)}`, pathOf(at, key), 'unknown_parameter');
  }
}

/** Deepest nesting of objects and arrays accepted in free-form JSON (a schema, `parameters`): far past real use. */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses JSON nested deeper than `MAX_JSON_DEPTH` before anything recurses over it (a template's `tojson`, a
 * schema compiler, a cache key's `JSON.stringify`): the walk is an explicit stack, so a 100,000-deep value costs a
 * loop, not a stack overflow.
 */
export function checkJsonDepth(value: unknown, param: string): void {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: next, depth } = stack.pop()!;
    if (typeof next !== 'object' || next === null) continue;
    if (depth >= MAX_JSON_DEPTH) fail(`'${param}' nests deeper than ${MAX_JSON_DEPTH} levels`, param, 'invalid_value');
    for (const child of Array.isArray(next) ? next : Object.values(next))
      stack.push({ value: child, depth: depth + 1 });
  }
}
