import { CompileError } from './errors.js';
import { flatten, hasValidation, typeList, type SchemaObject } from './schema-merge.js';
import type { StringLeaf } from './string-leaf.js';

/** String constraints `propertyNames` may carry: others (an enum of names, say) are refused. */
const NAME_KEYWORDS = new Set(['type', 'pattern', 'minLength', 'maxLength', 'format']);

/**
 * What `propertyNames` (at pointer `at` of document `root`) asks of names: null for nothing, false for no name at
 * all, else the string constraints to build the key leaf from. Only string constraints are enforced; anything else
 * is a CompileError.
 */
export function nameConstraints(root: unknown, schema: unknown, at: string): SchemaObject | null | false {
  if (schema === undefined) return null;
  const flat = flatten(root, schema, at);
  if (flat === true || flat === false) return flat ? null : false;
  const other = Object.keys(flat).find((k) => hasValidation({ [k]: flat[k] }) && !NAME_KEYWORDS.has(k));
  if (other)
    throw new CompileError(
      'propertyNames',
      at,
      `only pattern, length and format constraints on property names are enforced (not ${other})`,
    );
  if ('type' in flat && !typeList(flat.type).includes('string')) return false;
  if (!Object.keys(flat).some((k) => k !== 'type' && hasValidation({ [k]: flat[k] }))) return null;
  return flat;
}

/** Whether `leaf` reads exactly the bytes of `text` and ends final. */
export function leafAccepts(leaf: StringLeaf, text: string): boolean {
  let state = leaf.start;
  for (const b of new TextEncoder().encode(text)) if ((state = leaf.next(state, b)) < 0) return false;
  return leaf.isFinal(state);
}
