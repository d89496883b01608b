import { CompileError, childPointer } from './errors.js';
import type { Limits } from './limits.js';

/**
 * The first pass over a user's schema, before anything recurses over it or keys a cache with it: an explicit-stack
 * walk that enforces the schema limits (depth, size, enum and const sizes) as CompileErrors, and returns a copy in
 * which every schema object and every name-keyed map (`properties`, `$defs`, …) has a null prototype. With no
 * prototype, `name in props` and `props[name]` see only the schema's own names, so a property called `valueOf`,
 * `constructor` or `__proto__` is an ordinary name everywhere downstream. Data (`enum`, `const`, `default`,
 * unknown keywords) is measured but kept as it is: it is only ever read through `JSON.stringify`.
 *
 * The copy also puts array keywords in one form whatever the draft: drafts up to 2019-09 write a tuple as
 * `items: [...]` with `additionalItems` for the rest, which becomes `prefixItems` + `items` (and `prefixItems`,
 * unknown to those drafts, is dropped); 2020-12 ignores `additionalItems`. Draft-04's boolean
 * `exclusiveMinimum`/`exclusiveMaximum` become the later numeric form, and a fragment-only `$id` (`id`) of drafts
 * 04–07 becomes the `$anchor` it is.
 */

/** A fresh object with no prototype, for maps keyed by names from user data. */
export function record(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/** Subschema-valued keywords. */
const ONE = new Set([
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
  'contentSchema',
]);
/** Keywords holding an array of subschemas. */
const LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items']);
/** Keywords holding a map from names to subschemas (`dependencies` values may also be name lists). */
const MAP = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies']);

type Role = 'schema' | 'map' | 'list' | 'data';
interface Task {
  value: unknown;
  role: Role;
  /** The task this one is a member of (null at the root) and the member's name: pointers are built only for errors. */
  parent: Task | null;
  key: string;
  depth: number;
  /** Inside a subschema that sets its own base URI (`$id`): a `$ref` there resolves against that, not the root. */
  nested: boolean;
  /** Where the copy goes (null for data, which is kept by reference). */
  into: Record<string, unknown> | unknown[] | null;
}

/** The JSON pointer of a task, walking up its parents. */
function pointerOf(task: Task | null): string {
  const keys: string[] = [];
  for (let t = task; t && t.parent; t = t.parent) keys.push(t.key);
  return keys.reverse().reduce(childPointer, '');
}

/** Which draft family a document declares: `'modern'` (2020-12), `'legacy'` (04–2019-09), or undeclared. */
export type Dialect = 'modern' | 'legacy' | 'undeclared';

/** The dialect `doc` declares through `$schema`. */
export function dialectOf(doc: unknown): Dialect {
  const declared =
    doc !== null && typeof doc === 'object' && !Array.isArray(doc)
      ? (doc as Record<string, unknown>).$schema
      : undefined;
  if (typeof declared !== 'string') return 'undeclared';
  return /2020-12/.test(declared) ? 'modern' : 'legacy';
}

/** Checks the limits and returns the null-prototype, normalised copy described above. */
export function prepareSchema(schema: unknown, limits: Limits): unknown {
  const dialect = dialectOf(schema);
  const draft4 =
    typeof (schema as { $schema?: unknown } | null)?.$schema === 'string' &&
    /draft-0[34]\b/.test((schema as { $schema: string }).$schema);
  const holder: unknown[] = [];
  let size = 0;
  const stack: Task[] = [
    { value: schema, role: 'schema', parent: null, key: '0', depth: 0, nested: false, into: holder },
  ];
  while (stack.length > 0) {
    const task = stack.pop()!;
    const { value, depth } = task;
    if (depth > limits.maxSchemaDepth)
      throw new CompileError('schema', pointerOf(task), `the schema nests deeper than ${limits.maxSchemaDepth} levels`);
    size += shallowSize(value);
    if (size > limits.maxSchemaSize)
      throw new CompileError(
        'schema',
        pointerOf(task),
        `the schema is larger than ${limits.maxSchemaSize} characters of JSON`,
      );
    const role = task.role === 'list' && !Array.isArray(value) ? 'data' : task.role;
    if (value === null || typeof value !== 'object' || role === 'data' || (role !== 'list' && Array.isArray(value))) {
      place(task, value);
      if (value !== null && typeof value === 'object') {
        for (const [key, child] of Object.entries(value))
          stack.push({ value: child, role: 'data', parent: task, key, depth: depth + 1, nested: false, into: null });
      }
      continue;
    }
    if (role === 'list') {
      const out: unknown[] = [];
      place(task, out);
      (value as unknown[]).forEach((item, i) =>
        stack.push({
          value: item,
          role: 'schema',
          parent: task,
          key: String(i),
          depth: depth + 1,
          nested: task.nested,
          into: out,
        }),
      );
      continue;
    }
    const out = record();
    place(task, out);
    const nested =
      task.nested ||
      (role === 'schema' &&
        depth > 0 &&
        setsBase(value as Record<string, unknown>, draft4 || dialect === 'undeclared'));
    if (nested && role === 'schema' && Object.hasOwn(value, '$ref')) {
      throw new CompileError(
        '$ref',
        pointerOf(task),
        'a $ref below a subschema with its own $id resolves against that $id, which is not supported',
      );
    }
    const entries =
      role === 'map' ? Object.entries(value) : schemaEntries(value as Record<string, unknown>, dialect, draft4, task);
    // Members are filled in as the stack pops them (last first): placing each key now keeps the schema's order,
    // which is the order properties are written in.
    for (const [key] of entries) out[key] = undefined;
    for (const [key, child] of entries) {
      if (role === 'schema') checkLiteral(key, child, task, limits);
      stack.push({
        value: child,
        role: role === 'map' ? 'schema' : roleOf(key, child),
        parent: task,
        key,
        depth: depth + 1,
        nested,
        into: out,
      });
    }
  }
  return holder[0];
}

/** Stores a task's copy in its parent's copy. */
function place(task: Task, copy: unknown): void {
  if (Array.isArray(task.into)) task.into[Number(task.key)] = copy;
  else if (task.into) task.into[task.key] = copy;
}

/** Whether a subschema changes the base URI: a `$id` (draft-04: `id`) that is not a plain-name fragment. */
function setsBase(s: Record<string, unknown>, legacyId: boolean): boolean {
  const id = Object.hasOwn(s, '$id') ? s.$id : legacyId && Object.hasOwn(s, 'id') ? s.id : undefined;
  return typeof id === 'string' && !id.startsWith('#');
}

function roleOf(key: string, child: unknown): Role {
  if (MAP.has(key)) return 'map';
  if (LIST.has(key) && Array.isArray(child)) return 'list';
  return ONE.has(key) ? 'schema' : 'data';
}

/** A schema object's members after the draft normalisation described on `prepareSchema`. */
function schemaEntries(s: Record<string, unknown>, dialect: Dialect, draft4: boolean, task: Task): [string, unknown][] {
  const out: [string, unknown][] = [];
  const tuple = Array.isArray(s.items);
  if (tuple && dialect === 'undeclared' && Object.hasOwn(s, 'prefixItems')) {
    throw new CompileError(
      'items',
      pointerOf(task),
      'items as an array (drafts up to 2019-09) beside prefixItems (2020-12) has no single meaning',
    );
  }
  for (const [key, value] of Object.entries(s)) {
    if (key === 'additionalItems') {
      if (tuple && dialect !== 'modern') out.push(['items', value]);
      continue;
    }
    if (key === 'items' && tuple && dialect !== 'modern') out.push(['prefixItems', value]);
    else if (
      (key === '$id' || (key === 'id' && (draft4 || dialect === 'undeclared'))) &&
      dialect !== 'modern' &&
      typeof value === 'string' &&
      value.startsWith('#')
    )
      out.push(['$anchor', value.slice(1)]);
    else if (key === 'prefixItems' && dialect === 'legacy') continue;
    else if (
      (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') &&
      typeof value === 'boolean' &&
      (draft4 || dialect === 'undeclared')
    ) {
      const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (value && typeof s[bound] === 'number') out.push([key, s[bound]]);
    } else if (
      (key === 'minimum' || key === 'maximum') &&
      (draft4 || dialect === 'undeclared') &&
      s[key === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true
    )
      continue;
    else out.push([key, value]);
  }
  return out;
}

/** `enum` and `const` limits: each member becomes part of a literal automaton, so their size is bounded here. */
function checkLiteral(key: string, value: unknown, schema: Task, limits: Limits): void {
  if (key !== 'enum' && key !== 'const') return;
  if (key === 'enum' && Array.isArray(value) && value.length > limits.maxEnumMembers) {
    throw new CompileError(
      'enum',
      pointerOf(schema),
      `enum has ${value.length} members; at most ${limits.maxEnumMembers} are compiled`,
    );
  }
  // Measured without recursion: JSON.stringify of a deeply nested value would itself overflow the stack.
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    total += shallowSize(v);
    if (total > limits.maxLiteralSize)
      throw new CompileError(
        key,
        pointerOf(schema),
        `${key} is larger than ${limits.maxLiteralSize} characters of JSON`,
      );
    if (v !== null && typeof v === 'object') for (const member of Object.values(v)) pending.push(member);
  }
}

/** Characters a value adds to its parent's JSON text, not counting its members. */
function shallowSize(value: unknown): number {
  if (typeof value === 'string') return value.length + 3;
  if (value === null || typeof value !== 'object') return String(value).length + 1;
  return 2 + Object.keys(value).reduce((n, k) => n + k.length + 3, 0);
}

/** The subschemas directly below schema object `s`, with the pointer tokens leading to each (data is skipped). */
export function childSchemas(s: Record<string, unknown>): [string[], unknown][] {
  const out: [string[], unknown][] = [];
  for (const [key, value] of Object.entries(s)) {
    const role = roleOf(key, value);
    if (role === 'schema') out.push([[key], value]);
    else if (role === 'list') (value as unknown[]).forEach((v, i) => out.push([[key, String(i)], v]));
    else if (role === 'map' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, v] of Object.entries(value)) out.push([[key, name], v]);
    }
  }
  return out;
}

/** Whether schema object `s` (not the root) starts a resource of its own, with its own base URI. */
export function startsResource(s: Record<string, unknown>): boolean {
  return setsBase(s, true);
}
