import type { KeywordFamily } from './keywords.js';

/**
 * The keyword table's rows for the applicators and references (allOf to unevaluated*): keywords that combine or
 * point at other subschemas rather than constrain the instance themselves. KEYWORD_TABLE (keywords.ts) lists them
 * after the instance keywords, in this order.
 */
export const APPLICATOR_KEYWORDS: readonly KeywordFamily[] = [
  {
    family: 'allOf',
    keywords: ['allOf'],
    status: 'partial',
    note: 'merged keyword by keyword where the merged form means the same (items per index, additionalProperties per name); other combinations refused',
    probes: [
      {
        schema: { allOf: [{ type: 'object', properties: { a: { type: 'integer' } } }, { required: ['a'] }] },
        expect: 'compiles',
      },
      {
        schema: { allOf: [{ additionalProperties: false }, { patternProperties: { '^x': {} } }] },
        expect: 'refused',
        refusedAs: 'additionalProperties',
      },
    ],
  },
  {
    family: 'anyOf',
    keywords: ['anyOf'],
    status: 'enforced',
    note: 'a union of machines; unsatisfiable alternatives dropped',
    probes: [{ schema: { anyOf: [{ type: 'string' }, { type: 'integer', minimum: 1 }] }, expect: 'compiles' }],
  },
  {
    family: 'oneOf',
    keywords: ['oneOf'],
    status: 'partial',
    note: 'alternatives that provably never both match (types, literals, a discriminator); overlapping ones refused',
    probes: [
      { schema: { oneOf: [{ type: 'string' }, { type: 'integer' }] }, expect: 'compiles' },
      { schema: { oneOf: [{ type: 'string' }, { type: 'string', maxLength: 3 }] }, expect: 'refused' },
    ],
  },
  {
    family: 'not',
    keywords: ['not'],
    status: 'partial',
    note: 'not {} and not {type}; other forms refused',
    probes: [
      { schema: { not: { type: 'string' } }, expect: 'compiles' },
      { schema: { type: 'integer', not: { minimum: 3 } }, expect: 'refused' },
    ],
  },
  {
    family: 'if / then / else',
    keywords: ['if', 'then', 'else'],
    status: 'partial',
    note: 'on a discriminating property (if: {properties: {k: {const: v}}, required: [k]}), as two exclusive branches; other conditions refused; if, then or else alone have no effect',
    probes: [
      {
        schema: {
          type: 'object',
          if: { properties: { kind: { const: 'a' } }, required: ['kind'] },
          then: { required: ['x'] },
          else: { required: ['y'] },
        },
        expect: 'compiles',
      },
      { schema: { if: { type: 'string' }, then: { maxLength: 2 } }, expect: 'refused' },
    ],
  },
  {
    family: '$ref',
    keywords: ['$ref'],
    status: 'partial',
    note: '#, JSON pointers and $anchor names in the document, optionally through the root $id; other documents and refs below a nested $id refused',
    probes: [
      { schema: { $defs: { n: { $anchor: 'n', type: 'integer' } }, $ref: '#n' }, expect: 'compiles' },
      { schema: { $ref: 'other.json#/x' }, expect: 'refused' },
    ],
  },
  {
    family: 'dynamic references',
    keywords: ['$dynamicRef', '$recursiveRef'],
    status: 'refused',
    refusesOnSight: ['$dynamicRef', '$recursiveRef'],
    note: 'resolution depends on the evaluation path; not built',
    probes: [{ schema: { $dynamicAnchor: 'n', items: { $dynamicRef: '#n' } }, expect: 'refused' }],
  },
  {
    family: 'unevaluated',
    keywords: ['unevaluatedProperties', 'unevaluatedItems'],
    status: 'partial',
    note: "over properties/prefixItems and allOf/$ref (the union of evaluated names or indices); an allOf member's own, or beside if/then/else, dependentSchemas, contains, refused",
    probes: [
      { schema: { allOf: [{ properties: { a: {} } }], unevaluatedProperties: false }, expect: 'compiles' },
      {
        schema: { allOf: [{ properties: { a: {} }, unevaluatedProperties: false }, { properties: { b: {} } }] },
        expect: 'refused',
      },
    ],
  },
];
