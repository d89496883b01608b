import { CompileError } from './errors.js';
import { record } from './schema-prepare.js';

/**
 * The `allOf` merges of keywords whose meaning depends on their siblings. `items` governs the indices after *its
 * own* schema's `prefixItems`, and `additionalProperties` the names outside *its own* schema's `properties` and
 * `patternProperties`; copying one member's keyword next to another member's siblings would change which indices
 * or names it governs (`{"prefixItems":[{"minimum":3}],"allOf":[{"items":{"minimum":5}}]}` must still reject
 * `[3]`). So these merges are per index and per name, exact, or refused — never approximated.
 */

type SchemaObject = Record<string, unknown>;

/** `allOf: [x, y]` without the trivial cases (`true`, `{}`, the same schema twice). */
export function conjoin(x: unknown, y: unknown): unknown {
  if (x === undefined || isTrivial(x) || x === y) return y;
  if (y === undefined || isTrivial(y)) return x;
  const out = record();
  out.allOf = [x, y];
  return out;
}

function isTrivial(s: unknown): boolean {
  return s === true || (s !== null && typeof s === 'object' && !Array.isArray(s) && Object.keys(s).length === 0);
}

/** Whether either member has `prefixItems` (then `items` is merged per index here, not as a plain `allOf`). */
export function hasPositional(a: SchemaObject, b: SchemaObject): boolean {
  return Object.hasOwn(a, 'prefixItems') || Object.hasOwn(b, 'prefixItems');
}

/**
 * Index i of the merged array is governed by the conjunction of what each member says about index i: its own
 * `prefixItems[i]`, or its own `items` past its prefix. Writes `prefixItems`/`items` of `out`.
 */
export function mergePositional(out: SchemaObject, a: SchemaObject, b: SchemaObject, pointer: string): void {
  const prefixOf = (s: SchemaObject): unknown[] => {
    const p = Object.hasOwn(s, 'prefixItems') ? s.prefixItems : [];
    if (!Array.isArray(p)) throw new CompileError('prefixItems', pointer, 'prefixItems must be an array');
    return p;
  };
  const pa = prefixOf(a);
  const pb = prefixOf(b);
  const restA = Object.hasOwn(a, 'items') ? a.items : true;
  const restB = Object.hasOwn(b, 'items') ? b.items : true;
  const at = (prefix: unknown[], rest: unknown, i: number): unknown => (i < prefix.length ? prefix[i] : rest);
  out.prefixItems = Array.from({ length: Math.max(pa.length, pb.length) }, (_, i) =>
    conjoin(at(pa, restA, i), at(pb, restB, i)),
  );
  const rest = conjoin(restA, restB);
  if (isTrivial(rest)) delete out.items;
  else out.items = rest;
}

const namesOf = (s: SchemaObject, keyword: string): string[] => {
  const map = s[keyword];
  return map !== null && typeof map === 'object' ? Object.keys(map) : [];
};

/**
 * Each member's `additionalProperties` governs the names the *other* member declares but it does not: those get
 * `allOf[their schema, additionalProperties]` in the merged `properties`. Where that would depend on matching
 * another member's `patternProperties`, the merge is refused.
 */
export function crossAdditional(out: SchemaObject, a: SchemaObject, b: SchemaObject, pointer: string): void {
  const merged = out.properties;
  const props = Object.assign(record(), merged !== null && typeof merged === 'object' ? merged : {});
  let changed = false;
  for (const [side, other] of [
    [a, b],
    [b, a],
  ] as const) {
    if (!Object.hasOwn(side, 'additionalProperties')) continue;
    if (namesOf(other, 'patternProperties').length > 0) {
      throw new CompileError(
        'additionalProperties',
        pointer,
        "allOf mixing one member's additionalProperties with another's patternProperties has no exact merged form",
      );
    }
    const own = new Set(namesOf(side, 'properties'));
    const extra = namesOf(other, 'properties').filter((name) => !own.has(name));
    if (extra.length === 0) continue;
    if (namesOf(side, 'patternProperties').length > 0) {
      throw new CompileError(
        'additionalProperties',
        pointer,
        'allOf mixing additionalProperties and patternProperties has no exact merged form',
      );
    }
    for (const name of extra) props[name] = conjoin(props[name], side.additionalProperties);
    changed = true;
  }
  if (changed) out.properties = props;
}

/** Keywords whose evaluation an `unevaluatedProperties` / `unevaluatedItems` beside them sees. */
const EVALUATORS: Record<'unevaluatedProperties' | 'unevaluatedItems', readonly string[]> = {
  unevaluatedProperties: [
    'properties',
    'patternProperties',
    'additionalProperties',
    'unevaluatedProperties',
    'dependentSchemas',
    'anyOf',
    'oneOf',
    'if',
    'then',
    'else',
    'allOf',
    '$ref',
  ],
  unevaluatedItems: [
    'prefixItems',
    'items',
    'contains',
    'unevaluatedItems',
    'anyOf',
    'oneOf',
    'if',
    'then',
    'else',
    'allOf',
    '$ref',
  ],
};

/**
 * An allOf member's `unevaluated*` sees only what that member evaluates; merged next to another member's
 * `properties` it would see those too (and allow them). Such merges are refused. (A schema's own `unevaluated*`
 * is held back by `flatten` while its allOf/$ref merge, and sees the union of their evaluations.)
 */
export function refuseUnevaluatedMix(a: SchemaObject, b: SchemaObject, pointer: string): void {
  for (const keyword of ['unevaluatedProperties', 'unevaluatedItems'] as const) {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (Object.hasOwn(x, keyword) && EVALUATORS[keyword].some((k) => Object.hasOwn(y, k))) {
        throw new CompileError(
          keyword,
          pointer,
          `allOf: the ${keyword} of one member would see what another member evaluates`,
        );
      }
    }
  }
}

/**
 * A flat schema's `unevaluatedProperties` (`unevaluatedItems`) in terms the machines enforce: with its in-place
 * applicators merged, the names it governs are exactly those outside `properties` and `patternProperties` (the
 * indices after `prefixItems`) — what `additionalProperties` (`items`) governs — and nothing when those are present.
 * With anyOf/oneOf it is left for the union to distribute over each alternative (see `refuseUnevaluatedMix`);
 * beside conditional or schema-valued dependencies and `contains`, it is refused.
 */
export function applyUnevaluated(s: SchemaObject, pointer: string): SchemaObject {
  const props = Object.hasOwn(s, 'unevaluatedProperties');
  const items = Object.hasOwn(s, 'unevaluatedItems');
  if ((!props && !items) || Object.hasOwn(s, 'anyOf') || Object.hasOwn(s, 'oneOf')) return s;
  const out = Object.assign(record(), s);
  for (const [keyword, rest, blockers] of [
    ['unevaluatedProperties', 'additionalProperties', ['dependentSchemas', 'if', 'then', 'else']],
    ['unevaluatedItems', 'items', ['contains', 'if', 'then', 'else']],
  ] as const) {
    if (!Object.hasOwn(out, keyword)) continue;
    const blocker = blockers.find((k) => Object.hasOwn(out, k));
    if (blocker)
      throw new CompileError(keyword, pointer, `${keyword} beside ${blocker} is not enforced by the decoder`);
    if (!Object.hasOwn(out, rest)) out[rest] = out[keyword];
    delete out[keyword];
  }
  return out;
}
