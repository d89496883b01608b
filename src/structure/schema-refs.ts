import { findAnchor } from './anchors.js';
import { CompileError } from './errors.js';
import type { SchemaObject } from './schema-merge.js';

/**
 * Resolves a `$ref` within the document: `#`, `#/json/pointer`, `#anchor` (see anchors.ts), each optionally
 * prefixed by the root's own `$id`. Other documents are refused.
 */
export function resolveRef(root: unknown, ref: string, pointer: string): { schema: unknown; pointer: string } {
  const local = withoutBase(root, ref);
  if (local === '#' || local === '') return { schema: root, pointer: '' };
  if (!local.startsWith('#'))
    throw new CompileError(
      '$ref',
      pointer,
      `only references within the document are supported, got ${JSON.stringify(ref)}`,
    );
  if (!local.startsWith('#/')) {
    const found = findAnchor(root, decodeURIComponent(local.slice(1)));
    if (!found) throw new CompileError('$ref', pointer, `no single subschema has the anchor ${JSON.stringify(local)}`);
    return found;
  }
  let node: unknown = root;
  for (const raw of local.slice(2).split('/')) {
    const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, token))
      throw new CompileError('$ref', pointer, `unresolvable reference ${ref}`);
    node = (node as Record<string, unknown>)[token];
  }
  return { schema: node, pointer: local.slice(1) };
}

/** `ref` with the root's base URI (its `$id` without fragment) taken off the front, when it starts with it. */
function withoutBase(root: unknown, ref: string): string {
  const id =
    root !== null && typeof root === 'object' ? ((root as SchemaObject).$id ?? (root as SchemaObject).id) : undefined;
  if (typeof id !== 'string') return ref;
  const base = id.split('#')[0]!;
  return base !== '' && ref.startsWith(base) && (ref.length === base.length || ref[base.length] === '#')
    ? ref.slice(base.length)
    : ref;
}
