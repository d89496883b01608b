/**
 * allOf and $ref merges must keep each keyword's meaning relative to its own siblings: `items` governs the indices
 * after its own schema's `prefixItems`, `additionalProperties` the names outside its own schema's `properties` and
 * `patternProperties`. Each row is checked against both oracles, then the decoder; where a merge has no exact form
 * the decoder may refuse (never accept an invalid instance).
 */
import { describe, it } from 'node:test';
import { CompileError } from '../../src/structure/index.js';
import { accepts } from './helpers.js';
import { checkCase, type TableCase } from './oracles.js';

const S = 'https://json-schema.org/draft/2020-12/schema';

const rows: TableCase[] = [
  {
    name: 'outer prefixItems, items inside allOf (issue 13)',
    mustCompile: true,
    schema: { $schema: S, prefixItems: [{ minimum: 3 }], allOf: [{ items: { minimum: 5 } }] },
    cases: [
      ['[3]', false],
      ['[3,"x"]', false],
      ['[5]', true],
      ['[5,6]', true],
      ['[]', true],
      ['[6,4]', false],
      ['[5,"x"]', true],
      ['[3,6]', false],
    ],
  },
  {
    name: 'two prefixes of different lengths, one closed',
    mustCompile: true,
    schema: {
      $schema: S,
      allOf: [{ prefixItems: [{ type: 'integer' }] }, { prefixItems: [true, { type: 'string' }], items: false }],
    },
    cases: [
      ['[1,"a"]', true],
      ['[1]', true],
      ['[1,"a",2]', false],
      ['["a"]', false],
      ['[1,2]', false],
    ],
  },
  {
    name: 'items of one member over the prefix of another',
    mustCompile: true,
    schema: { $schema: S, allOf: [{ items: { type: 'integer' } }, { prefixItems: [{ minimum: 2 }] }] },
    cases: [
      ['[2,3]', true],
      ['[1]', false],
      ['[2,"x"]', false],
      ['[2,1]', true],
    ],
  },
  {
    name: 'outer items under an allOf prefix: items applies to every index',
    mustCompile: true,
    schema: { $schema: S, type: 'array', allOf: [{ prefixItems: [{ const: 1 }] }], items: { type: 'string' } },
    cases: [
      ['[1]', false],
      ['["a"]', false],
      ['[]', true],
    ],
  },
  {
    name: '$ref target with prefixItems, items beside the $ref',
    mustCompile: true,
    schema: {
      $schema: S,
      $defs: { t: { prefixItems: [{ type: 'integer' }] } },
      $ref: '#/$defs/t',
      items: { type: 'string' },
    },
    cases: [
      ['[1]', false],
      ['["a"]', false],
      ['[]', true],
    ],
  },
  {
    name: 'additionalProperties false against the names of an allOf member',
    mustCompile: true,
    schema: {
      $schema: S,
      properties: { a: { type: 'integer' } },
      additionalProperties: false,
      allOf: [{ properties: { b: {} } }],
    },
    cases: [
      ['{"b":1}', false],
      ['{"a":1}', true],
      ['{}', true],
    ],
  },
  {
    name: 'additionalProperties schema of one member against a declared name of another',
    mustCompile: true,
    schema: {
      $schema: S,
      allOf: [{ additionalProperties: { type: 'integer' } }, { properties: { a: { type: 'number' } } }],
    },
    cases: [
      ['{"a":1.5}', false],
      ['{"a":2}', true],
      ['{"b":"s"}', false],
      ['{"b":3}', true],
    ],
  },
  {
    name: 'additionalProperties false of one member, patternProperties of another',
    mustCompile: false,
    schema: { $schema: S, allOf: [{ additionalProperties: false }, { patternProperties: { '^x': {} } }] },
    cases: [
      ['{"xa":1}', false],
      ['{}', true],
    ],
  },
  {
    name: '$ref target closed with additionalProperties, a property beside the $ref',
    mustCompile: true,
    schema: {
      $schema: S,
      $defs: { p: { properties: { a: {} }, additionalProperties: false } },
      $ref: '#/$defs/p',
      properties: { b: {} },
    },
    cases: [
      ['{"b":1}', false],
      ['{"a":1}', true],
    ],
  },
  {
    name: 'draft-07 tuple items + additionalItems inside allOf',
    mustCompile: true,
    schema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      allOf: [{ items: [{ type: 'integer' }], additionalItems: false }, { items: { minimum: 1 } }],
    },
    cases: [
      ['[1]', true],
      ['[0]', false],
      ['[1,2]', false],
      ['[]', true],
    ],
  },
  {
    name: 'contains in one member, items in another',
    mustCompile: true,
    schema: { $schema: S, allOf: [{ contains: { const: 1 } }, { items: { type: 'integer' } }] },
    cases: [
      ['[1]', true],
      ['[2]', false],
      ['[1,"a"]', false],
    ],
  },
  {
    name: 'unevaluatedProperties over an allOf',
    mustCompile: false,
    schema: { $schema: S, allOf: [{ properties: { a: {} } }], unevaluatedProperties: false },
    cases: [
      ['{"a":1}', true],
      ['{"b":1}', false],
    ],
  },
  {
    name: 'minContains without contains in another member',
    mustCompile: false,
    schema: { $schema: S, allOf: [{ contains: { const: 1 }, minContains: 2 }, { maxContains: 0 }] },
    cases: [
      ['[1,1]', true],
      ['[1]', false],
    ],
  },
  {
    name: 'const of one member, enum of another (found by the schema fuzz test)',
    mustCompile: true,
    schema: { $schema: S, allOf: [{ anyOf: [{ enum: [0, true] }, { const: 5 }] }, { enum: [true, null] }] },
    cases: [
      ['5', false],
      ['true', true],
      ['0', false],
      ['null', false],
    ],
  },
];

describe("allOf and $ref merges keep each keyword's meaning", () => {
  for (const row of rows) {
    it(row.name, async () => {
      await checkCase(
        row,
        (schema, text) => accepts(schema, text, { propertyOrder: 'any' }),
        (e) => e instanceof CompileError,
      );
    });
  }
});
