import { RegexSyntaxError } from './char-dfa.js';
import type { SchemaBuilder } from './schema-builder.js';
import { stringFromSchema, tryBuild } from './compile-parts.js';
import { CompileError, childPointer } from './errors.js';
import { stringLeaf } from './leaf-factory.js';
import { ObjectMachine, type PropertySpec } from './object-machine.js';
import { refuseOverlappingPatterns } from './pattern-overlap.js';
import { leafAccepts, nameConstraints } from './property-names.js';
import { Unsatisfiable, type SchemaObject } from './schema-merge.js';
import type { StringLeaf } from './string-leaf.js';

/**
 * `dependentRequired` (and draft-07's `dependencies` in its array form) as name → names, or null when absent.
 * Schema-valued dependencies never get here: `rewriteDependentSchemas` turned them into a union first.
 */
function dependencyMap(s: SchemaObject, pointer: string): Map<string, string[]> | null {
  const out = new Map<string, string[]>();
  for (const keyword of ['dependentRequired', 'dependencies'] as const) {
    const map = s[keyword];
    if (map === undefined) continue;
    for (const [name, names] of Object.entries(map as SchemaObject)) {
      if (!Array.isArray(names))
        throw new CompileError(
          keyword,
          childPointer(childPointer(pointer, keyword), name),
          'a schema-valued dependency (dependentSchemas) is not enforced by the decoder',
        );
      out.set(name, [...new Set([...(out.get(name) ?? []), ...(names as string[])])]);
    }
  }
  return out.size > 0 ? out : null;
}

/** Each name's transitive dependencies (a name present makes all of them required). */
function closure(deps: Map<string, string[]>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const start of deps.keys()) {
    const seen = new Set<string>();
    const pending = [...(deps.get(start) ?? [])];
    while (pending.length > 0) {
      const n = pending.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      pending.push(...(deps.get(n) ?? []));
    }
    out.set(start, seen);
  }
  return out;
}

/**
 * Object machine: declared, required-but-undeclared, dependent, pattern and additional properties. Names are
 * looked up as own members only: `valueOf` or `__proto__` in `required` is a name like any other.
 */
export function buildObjectMachine(
  builder: SchemaBuilder,
  s: SchemaObject,
  pointer: string,
  ws: number,
  order: 'schema' | 'any',
): number {
  const props = (s.properties ?? {}) as SchemaObject;
  const deps = dependencyMap(s, pointer);
  const reach = deps ? closure(deps) : new Map<string, Set<string>>();
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  for (const name of [...required]) for (const d of reach.get(name) ?? []) required.add(d);
  const maxProperties = typeof s.maxProperties === 'number' ? s.maxProperties : undefined;
  if (deps && maxProperties !== undefined)
    throw new CompileError(
      'dependentRequired',
      pointer,
      'dependentRequired together with maxProperties is not enforced by the decoder',
    );
  const patternEntries = Object.entries((s.patternProperties ?? {}) as SchemaObject);
  const namesAt = childPointer(pointer, 'propertyNames');
  const constraints = nameConstraints(builder.root, s.propertyNames, namesAt);
  const keyNames = constraints ? stringFromSchema(constraints, namesAt, builder.limits) : constraints;
  // A pattern key under propertyNames would need the intersection of two patterns; no name at all needs none.
  if (keyNames && patternEntries.length > 0)
    throw new CompileError('propertyNames', namesAt, 'propertyNames together with patternProperties is not supported');
  const nameAllowed = (name: string): boolean =>
    keyNames === null || (keyNames !== false && leafAccepts(keyNames, JSON.stringify(name)));
  const additional = s.additionalProperties;
  const matching = (name: string): unknown[] =>
    patternEntries
      .filter(([pat]) => {
        try {
          return new RegExp(pat, 'u').test(name);
        } catch {
          throw new CompileError('patternProperties', pointer, `invalid pattern ${JSON.stringify(pat)}`);
        }
      })
      .map(([, sub]) => sub);
  const declared = (name: string): boolean => Object.hasOwn(props, name);
  const extraNames = [...required, ...(deps ? [...deps.keys(), ...[...deps.values()].flat()] : [])].filter(
    (n) => !declared(n),
  );
  const names = [...Object.keys(props), ...new Set(extraNames)];
  const properties: PropertySpec[] = names.map((name) => {
    const pats = matching(name);
    const own = declared(name) ? [props[name]] : pats.length > 0 ? [] : [additional ?? true];
    const parts = [...own, ...pats];
    const at = childPointer(childPointer(pointer, 'properties'), name);
    if (!nameAllowed(name)) {
      if (required.has(name)) throw new Unsatisfiable(`required property ${name} is not an allowed property name`);
      return { name, value: -1, required: false };
    }
    const value = tryBuild(builder, parts.length === 1 ? parts[0] : { allOf: parts }, at);
    if (value < 0 && required.has(name)) throw new Unsatisfiable(`required property ${name} admits no value`);
    return { name, value, required: required.has(name) };
  });
  const index = new Map(names.map((n, i) => [n, i]));
  const dependencies = names.map((n) => [...(reach.get(n) ?? [])].map((d) => index.get(d)!));
  const patterns = (keyNames === false ? [] : patternEntries).map(([pat, sub]) =>
    patternProperty(builder, pointer, pat, sub),
  );
  refuseOverlappingPatterns(
    patternEntries.map(([pat]) => pat),
    pointer,
    builder.limits,
  );
  let extra: { key: StringLeaf; value: number } | null = null;
  if (additional !== false && keyNames !== false) {
    const value = tryBuild(builder, additional ?? true, childPointer(pointer, 'additionalProperties'));
    if (value >= 0) extra = { key: keyNames ?? stringLeaf(null, 0, undefined, builder.limits), value };
  }
  const minProperties = typeof s.minProperties === 'number' ? s.minProperties : 0;
  if (maxProperties !== undefined && (maxProperties < required.size || maxProperties < minProperties))
    throw new Unsatisfiable('maxProperties too small');
  if (extra === null && patterns.length === 0 && properties.filter((p) => p.value >= 0).length < minProperties)
    throw new Unsatisfiable('minProperties unreachable');
  return builder.add(
    new ObjectMachine(
      { properties, dependencies, patterns, additional: extra, minProperties, maxProperties, order, maxWhitespace: ws },
      builder.limits.maxAutomatonStates,
    ),
  );
}

function patternProperty(
  builder: SchemaBuilder,
  pointer: string,
  pat: string,
  sub: unknown,
): { key: StringLeaf; value: number } {
  const at = childPointer(childPointer(pointer, 'patternProperties'), pat);
  let key;
  try {
    key = stringLeaf(pat, 0, undefined, builder.limits);
  } catch (e) {
    if (e instanceof RegexSyntaxError || e instanceof RangeError)
      throw new CompileError('patternProperties', at, e.message);
    throw e;
  }
  return { key, value: tryBuild(builder, sub, at) };
}
