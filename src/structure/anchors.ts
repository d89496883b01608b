import { childPointer } from './errors.js';
import { childSchemas, startsResource } from './schema-prepare.js';

/**
 * Plain-name fragments (`"$ref": "#node"`): a subschema named with `$anchor` (drafts 04–07 write it as a
 * fragment-only `$id`/`id`, which `prepareSchema` turns into `$anchor`). An anchor belongs to the resource it sits in, so the search stays
 * in the root's resource: it does not enter subschemas with a base URI of their own. Indexed once per document.
 */
const indexes = new WeakMap<object, Map<string, { schema: unknown; pointer: string } | null>>();

/** The subschema the anchor `name` names in the root resource; null when none or more than one does. */
export function findAnchor(root: unknown, name: string): { schema: unknown; pointer: string } | null {
  if (root === null || typeof root !== 'object') return null;
  let index = indexes.get(root);
  if (!index) indexes.set(root, (index = buildIndex(root as Record<string, unknown>)));
  return index.get(name) ?? null;
}

function buildIndex(root: Record<string, unknown>): Map<string, { schema: unknown; pointer: string } | null> {
  const index = new Map<string, { schema: unknown; pointer: string } | null>();
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length > 0) {
    const [node, pointer] = stack.pop()!;
    if (node === null || typeof node !== 'object' || Array.isArray(node)) continue;
    const s = node as Record<string, unknown>;
    if (pointer !== '' && startsResource(s)) continue;
    // A name given twice is ambiguous: refused rather than guessed.
    const name = s.$anchor;
    if (typeof name === 'string') index.set(name, index.has(name) ? null : { schema: s, pointer });
    for (const [tokens, child] of childSchemas(s)) stack.push([child, tokens.reduce(childPointer, pointer)]);
  }
  return index;
}
