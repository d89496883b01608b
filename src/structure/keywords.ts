/**
 * The compiler's keyword table: every JSON Schema keyword (drafts 04 to 2020-12) by family, with what the decoder
 * does with it. The compiler reads its refused-on-sight and no-effect keyword sets from here, the conformance
 * matrix (`conformanceMatrix`, `npm run bench:conformance`, docs/structure.md) prints it, and a test runs each
 * family's probes so the table cannot drift from what the compiler does.
 */

import { APPLICATOR_KEYWORDS } from './applicator-keywords.js';

/** `enforced`: exactly; `partial`: exactly in the forms named, refused otherwise; `refused`: always a CompileError
 * (unless the schema lists its values: see "Schemas over a finite domain"); `annotation`: no effect on validity. */
export type KeywordStatus = 'enforced' | 'partial' | 'refused' | 'annotation';

/** One row of the table. */
export interface KeywordFamily {
  family: string;
  keywords: readonly string[];
  status: KeywordStatus;
  /** What is enforced, and why the rest is refused. */
  note: string;
  /** Keywords whose mere presence is refused (the rest of a refused/partial family is refused case by case). */
  refusesOnSight?: readonly string[];
  /** Schemas showing the row: each must compile, or be refused naming one of `keywords` (or `refusedAs`). */
  probes: readonly { schema: unknown; expect: 'compiles' | 'refused'; refusedAs?: string }[];
}

const S = 'https://json-schema.org/draft/2020-12/schema';

/** The table, in the order the matrix prints it. */
export const KEYWORD_TABLE: readonly KeywordFamily[] = [
  {
    family: 'type',
    keywords: ['type'],
    status: 'enforced',
    note: 'every type and type list; integers are written without fraction or exponent',
    probes: [{ schema: { type: ['integer', 'null'] }, expect: 'compiles' }],
  },
  {
    family: 'enum / const',
    keywords: ['enum', 'const'],
    status: 'enforced',
    note: 'members written as JSON.stringify writes them; at most 10,000 members and 64 KiB of JSON (limits)',
    probes: [
      { schema: { enum: ['a', 1, { k: [true] }] }, expect: 'compiles' },
      { schema: { const: 'x'.repeat(70_000) }, expect: 'refused' },
    ],
  },
  {
    family: 'numeric bounds',
    keywords: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'],
    status: 'enforced',
    note: 'exact decimal arithmetic; bounded numbers have at most 15 significant digits and no exponent (draft-04 boolean forms read as such)',
    probes: [{ schema: { type: 'number', minimum: -1e-7, exclusiveMaximum: 1e308 }, expect: 'compiles' }],
  },
  {
    family: 'multipleOf',
    keywords: ['multipleOf'],
    status: 'partial',
    note: 'positive integer divisors; fractional divisors are refused (validators disagree on floating-point remainders)',
    probes: [
      { schema: { type: 'integer', multipleOf: 3 }, expect: 'compiles' },
      { schema: { type: 'number', multipleOf: 0.1 }, expect: 'refused' },
    ],
  },
  {
    family: 'string',
    keywords: ['minLength', 'maxLength', 'pattern'],
    status: 'partial',
    note: 'lengths in code points; pattern as an ECMAScript (u) regex searched anywhere, without lookaround or backreferences, under a work budget',
    probes: [
      { schema: { type: 'string', pattern: '^[a-z]+$', maxLength: 8 }, expect: 'compiles' },
      { schema: { type: 'string', pattern: '(?=a)b' }, expect: 'refused' },
    ],
  },
  {
    family: 'format',
    keywords: ['format'],
    status: 'partial',
    note: 'date, time, date-time, duration, email, hostname, ipv4, ipv6, uuid, byte, uri, uri-reference, url, json-pointer, relative-json-pointer, json-pointer-uri-fragment, int32, int64; iri, idn-*, uri-template, regex, iso-* refused; unknown formats are annotations; not together with pattern',
    probes: [
      { schema: { type: 'string', format: 'date' }, expect: 'compiles' },
      { schema: { type: 'string', format: 'iri' }, expect: 'refused' },
    ],
  },
  {
    family: 'object',
    keywords: ['properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties'],
    status: 'enforced',
    note: 'declared properties in schema order unless propertyOrder any; names are own names only (valueOf, __proto__ are ordinary names)',
    probes: [
      {
        schema: {
          type: 'object',
          properties: { valueOf: { type: 'integer' } },
          required: ['valueOf'],
          additionalProperties: false,
        },
        expect: 'compiles',
      },
    ],
  },
  {
    family: 'patternProperties',
    keywords: ['patternProperties'],
    status: 'partial',
    note: 'patterns that no key can match twice; overlapping patterns are refused (a key goes to one schema)',
    probes: [
      { schema: { type: 'object', patternProperties: { '^x-': { type: 'integer' } } }, expect: 'compiles' },
      { schema: { type: 'object', patternProperties: { '^a': {}, '^ab': {} } }, expect: 'refused' },
    ],
  },
  {
    family: 'propertyNames',
    keywords: ['propertyNames'],
    status: 'partial',
    note: 'string constraints (pattern, lengths, format) on names; other constraints, or beside patternProperties, refused',
    probes: [
      { schema: { type: 'object', propertyNames: { pattern: '^[a-z]+$' } }, expect: 'compiles' },
      { schema: { type: 'object', propertyNames: { enum: ['a'] } }, expect: 'refused' },
    ],
  },
  {
    family: 'dependentRequired',
    keywords: ['dependentRequired', 'dependencies'],
    status: 'partial',
    note: 'dependentRequired and the array form of dependencies, transitively (the schema form is under dependentSchemas); beside maxProperties refused',
    probes: [
      { schema: { type: 'object', dependentRequired: { a: ['b'] } }, expect: 'compiles' },
      { schema: { type: 'object', dependentRequired: { a: ['b'] }, maxProperties: 3 }, expect: 'refused' },
    ],
  },
  {
    family: 'dependentSchemas',
    keywords: ['dependentSchemas'],
    status: 'partial',
    note: 'up to 3 per schema object (and the schema form of draft-07 dependencies), each as "absent, or present and its schema holds"; more are refused (each doubles the alternatives)',
    probes: [
      { schema: { type: 'object', dependentSchemas: { a: { required: ['b'] } } }, expect: 'compiles' },
      { schema: { type: 'object', dependentSchemas: { a: {}, b: {}, c: {}, d: {} } }, expect: 'refused' },
    ],
  },
  {
    family: 'arrays',
    keywords: ['prefixItems', 'items', 'additionalItems', 'minItems', 'maxItems'],
    status: 'enforced',
    note: 'tuple items of drafts up to 2019-09 read as prefixItems; allOf merges prefixes per index',
    probes: [
      {
        schema: { $schema: S, type: 'array', prefixItems: [{ type: 'integer' }], items: false, minItems: 1 },
        expect: 'compiles',
      },
    ],
  },
  {
    family: 'uniqueItems',
    keywords: ['uniqueItems'],
    status: 'partial',
    note: 'only where at most one item can occur; uniqueness across items is not a grammar',
    probes: [
      { schema: { type: 'array', uniqueItems: true, maxItems: 1 }, expect: 'compiles' },
      { schema: { type: 'array', uniqueItems: true }, expect: 'refused' },
    ],
  },
  {
    family: 'contains',
    keywords: ['contains', 'minContains', 'maxContains'],
    status: 'partial',
    note: "a counted array when contains is a scalar const or a type (its complement is exact), over items; other contains schemas, beside prefixItems, or merged with another member's counts, refused; minContains/maxContains alone have no effect",
    probes: [
      {
        schema: { type: 'array', items: { type: 'integer' }, contains: { const: 1 }, minContains: 2, maxContains: 3 },
        expect: 'compiles',
      },
      { schema: { type: 'array', contains: { minimum: 3 } }, expect: 'refused' },
    ],
  },
  ...APPLICATOR_KEYWORDS,
  {
    family: 'annotations and identifiers',
    keywords: [
      'title',
      'description',
      'default',
      'examples',
      'example',
      '$schema',
      '$id',
      'id',
      '$comment',
      'readOnly',
      'writeOnly',
      'deprecated',
      '$anchor',
      '$dynamicAnchor',
      'contentMediaType',
      'contentEncoding',
      'contentSchema',
      'definitions',
      '$defs',
      '$vocabulary',
    ],
    status: 'annotation',
    note: 'no effect on validity ($schema picks the draft; $id, $anchor and $defs locate references); keyword values are still checked against the meta-schema',
    probes: [{ schema: { title: 't', description: 'd', $comment: 'c', $defs: {} }, expect: 'compiles' }],
  },
];

/** Keywords refused wherever they appear (outside a finite domain). */
export const REFUSED_ON_SIGHT: ReadonlySet<string> = new Set(KEYWORD_TABLE.flatMap((f) => f.refusesOnSight ?? []));

/** Keywords with no effect on validity. Keywords unknown to JSON Schema are ignored too, as validators do. */
export const NO_EFFECT: ReadonlySet<string> = new Set(
  KEYWORD_TABLE.filter((f) => f.status === 'annotation').flatMap((f) => f.keywords),
);
