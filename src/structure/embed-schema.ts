/**
 * A schema that is a document of its own (a tool's `parameters`) placed inside a wrapper document (the tool-call
 * grammar): its document-local `$ref`s (`#`, `#/…`) would resolve against the wrapper and miss or, worse, hit
 * something else. `embedSchemaAt` rewrites them to point below the place the schema now sits, so it means what it
 * meant alone. Plain-name fragments (`#name`, from `$anchor`) are document-wide and stay as they are.
 */
import { DATA_MEMBERS } from './schema-merge.js';

/** Keywords whose value maps names to schemas: the names are data, the values schemas. */
const SCHEMA_MAPS = new Set([
  'properties',
  'patternProperties',
  '$defs',
  'definitions',
  'dependentSchemas',
  'dependencies',
]);

/** RFC 6901 escaping of one reference token. */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Returns a copy of `schema` whose local JSON-pointer references are prefixed with `pointer` (a JSON pointer such as
 * `/properties/arguments`, tokens already escaped). Objects are built without a prototype, so hostile names
 * (`__proto__`) stay plain keys.
 */
export function embedSchemaAt(schema: unknown, pointer: string): unknown {
  // An explicit stack keeps deep schemas from overflowing the call stack (depth is bounded later by the compiler).
  const root: { value: unknown } = { value: undefined };
  const stack: Array<{ from: unknown; put: (v: unknown) => void; map: boolean }> = [
    { from: schema, put: (v) => (root.value = v), map: false },
  ];
  while (stack.length > 0) {
    const { from, put, map } = stack.pop()!;
    if (Array.isArray(from)) {
      const out: unknown[] = new Array(from.length);
      put(out);
      from.forEach((item, i) => stack.push({ from: item, put: (v) => (out[i] = v), map: false }));
      continue;
    }
    if (from === null || typeof from !== 'object') {
      put(from);
      continue;
    }
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    put(out);
    for (const [key, value] of Object.entries(from)) {
      // Claimed now so the copy keeps the key order (property order is part of the grammar); filled when popped.
      out[key] = undefined;
      if (!map && DATA_MEMBERS.has(key)) out[key] = value;
      else if (!map && key === '$ref' && typeof value === 'string' && (value === '#' || value.startsWith('#/'))) {
        out[key] = `#${pointer}${value.slice(1)}`;
      } else {
        const childIsMap =
          !map && SCHEMA_MAPS.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value);
        stack.push({ from: value, put: (v) => (out[key] = v), map: childIsMap });
      }
    }
  }
  return root.value;
}
