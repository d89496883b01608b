/**
 * Keywords beyond the core, each either enforced exactly (mustCompile) or refused with the keyword and pointer;
 * every verdict is checked against both oracles, then the decoder through the mask (any property order).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError, compileJsonSchema } from '../../src/structure/index.js';
import { accepts } from './helpers.js';
import { checkCase, type TableCase } from './oracles.js';

const S = 'https://json-schema.org/draft/2020-12/schema';
const D7 = 'http://json-schema.org/draft-07/schema#';

const enforced: TableCase[] = [
  {
    name: 'dependentRequired, transitive',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      properties: { a: { type: 'integer' }, b: { type: 'integer' }, c: { type: 'integer' } },
      dependentRequired: { a: ['c'], c: ['b'] },
    },
    cases: [
      ['{}', true],
      ['{"a":1}', false],
      ['{"a":1,"c":1}', false],
      ['{"a":1,"b":1,"c":1}', true],
      ['{"c":1}', false],
      ['{"b":1,"c":1}', true],
      ['{"b":1}', true],
    ],
  },
  {
    name: 'dependentRequired on undeclared names, with additionalProperties',
    mustCompile: true,
    schema: { $schema: S, type: 'object', dependentRequired: { x: ['y'] }, additionalProperties: { type: 'integer' } },
    cases: [
      ['{"x":1}', false],
      ['{"x":1,"y":2}', true],
      ['{"y":"s"}', false],
      ['{"z":3}', true],
    ],
  },
  {
    name: 'dependentRequired on a name that cannot appear',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      properties: { a: {} },
      dependentRequired: { a: ['b'] },
      additionalProperties: false,
    },
    cases: [
      ['{"a":1}', false],
      ['{}', true],
    ],
  },
  {
    name: 'draft-07 dependencies, array form',
    mustCompile: true,
    schema: {
      $schema: D7,
      type: 'object',
      properties: { card: { type: 'string' }, address: { type: 'string' } },
      dependencies: { card: ['address'] },
    },
    cases: [
      ['{"card":"1"}', false],
      ['{"card":"1","address":"x"}', true],
      ['{"address":"x"}', true],
    ],
  },
  {
    name: 'dependentRequired merged over allOf',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      allOf: [{ dependentRequired: { a: ['b'] } }, { dependentRequired: { a: ['c'] } }],
    },
    cases: [
      ['{"a":1,"b":1}', false],
      ['{"a":1,"b":1,"c":1}', true],
    ],
  },
  {
    name: '$anchor',
    mustCompile: true,
    schema: {
      $schema: S,
      $defs: { n: { $anchor: 'num', type: 'integer' } },
      type: 'object',
      properties: { a: { $ref: '#num' } },
    },
    cases: [
      ['{"a":1}', true],
      ['{"a":"s"}', false],
    ],
  },
  {
    name: '$ref through the root $id',
    mustCompile: true,
    schema: {
      $schema: S,
      $id: 'https://example.com/root.json',
      $defs: { n: { type: 'integer' } },
      type: 'object',
      properties: { a: { $ref: 'https://example.com/root.json#/$defs/n' } },
    },
    cases: [
      ['{"a":1}', true],
      ['{"a":"s"}', false],
    ],
  },
  {
    name: 'draft-07 fragment $id as an anchor',
    mustCompile: true,
    schema: {
      $schema: D7,
      definitions: { n: { $id: '#num', type: 'integer' } },
      type: 'object',
      properties: { a: { $ref: '#num' } },
    },
    cases: [
      ['{"a":1}', true],
      ['{"a":"s"}', false],
    ],
  },
  {
    name: 'unevaluatedProperties false over allOf: the union of evaluated names',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      allOf: [{ properties: { a: {} } }],
      properties: { b: {} },
      unevaluatedProperties: false,
    },
    cases: [
      ['{"a":1}', true],
      ['{"b":1}', true],
      ['{"c":1}', false],
      ['{"a":1,"b":2}', true],
    ],
  },
  {
    name: 'unevaluatedProperties schema over $ref',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      $ref: '#/$defs/base',
      $defs: { base: { properties: { a: { type: 'integer' } } } },
      unevaluatedProperties: { type: 'string' },
    },
    cases: [
      ['{"a":1}', true],
      ['{"c":"s"}', true],
      ['{"c":1}', false],
      ['{"a":"s"}', false],
    ],
  },
  {
    name: 'unevaluatedProperties beside additionalProperties has nothing left',
    mustCompile: true,
    schema: { $schema: S, type: 'object', additionalProperties: { type: 'integer' }, unevaluatedProperties: false },
    cases: [
      ['{"c":1}', true],
      ['{"c":"s"}', false],
    ],
  },
  {
    name: 'unevaluatedItems false after prefixes merged from allOf',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'array',
      prefixItems: [{ type: 'integer' }],
      allOf: [{ prefixItems: [true, { type: 'string' }] }],
      unevaluatedItems: false,
    },
    cases: [
      ['[1]', true],
      ['[1,"a"]', true],
      ['[1,"a",2]', false],
    ],
  },
  {
    name: 'if/then/else on a string discriminator',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      properties: { kind: { type: 'string' }, x: { type: 'integer' }, y: { type: 'string' } },
      if: { properties: { kind: { const: 'a-b' } }, required: ['kind'] },
      then: { required: ['x'] },
      else: { required: ['y'] },
    },
    cases: [
      ['{"kind":"a-b","x":1}', true],
      ['{"kind":"a-b"}', false],
      ['{"kind":"a-b","y":"s"}', false],
      ['{"kind":"c","y":"s"}', true],
      ['{"kind":"c","x":1}', false],
      ['{"y":"s"}', true],
      ['{"x":1}', false],
      ['{"kind":"a-bc","y":"s"}', true],
      ['{"kind":"a","y":"s"}', true],
    ],
  },
  {
    name: 'if/then/else on a number discriminator without required, any instance type',
    mustCompile: true,
    schema: {
      $schema: S,
      if: { properties: { v: { const: 2 } } },
      then: { required: ['two'] },
      else: { maxProperties: 1 },
    },
    cases: [
      ['{}', false],
      ['{"two":1}', true],
      ['{"v":2,"two":1}', true],
      ['{"v":2}', false],
      ['{"v":3}', true],
      ['{"v":3,"a":1}', false],
      ['{"v":1.5,"a":1}', false],
      ['"s"', true],
      ['[1,2]', true],
    ],
  },
  {
    name: 'if/then on a boolean discriminator',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      properties: { on: { type: ['boolean', 'null'] }, level: { type: 'integer' } },
      if: { properties: { on: { const: true } }, required: ['on'] },
      then: { required: ['level'] },
    },
    cases: [
      ['{"on":true,"level":1}', true],
      ['{"on":true}', false],
      ['{"on":false}', true],
      ['{"on":null}', true],
      ['{}', true],
    ],
  },
  {
    name: 'contains a const, counted between minContains and maxContains',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'array',
      items: { type: 'integer' },
      contains: { const: 1 },
      minContains: 2,
      maxContains: 3,
      maxItems: 4,
    },
    cases: [
      ['[]', false],
      ['[1]', false],
      ['[1,1]', true],
      ['[1,2,1]', true],
      ['[1,1,1,1]', false],
      ['[1,1,1]', true],
      ['[2,2,1,1]', true],
      ['[2,2,2,1]', false],
      ['[1,"a",1]', false],
    ],
  },
  {
    name: 'contains a type (minContains 1 by default)',
    mustCompile: true,
    schema: { $schema: S, type: 'array', contains: { type: 'string' } },
    cases: [
      ['[]', false],
      ['[1]', false],
      ['[1,"a"]', true],
      ['["a",null]', true],
    ],
  },
  {
    name: 'contains with minContains 0 and maxContains',
    mustCompile: true,
    schema: { $schema: S, type: 'array', contains: { const: 'x' }, minContains: 0, maxContains: 1 },
    cases: [
      ['[]', true],
      ['["y"]', true],
      ['["x"]', true],
      ['["x","x"]', false],
      ['["x","y",1]', true],
    ],
  },
  {
    name: 'contains in one allOf member, items in another',
    mustCompile: true,
    schema: { $schema: S, allOf: [{ contains: { const: 1 } }, { items: { type: 'integer' } }] },
    cases: [
      ['[1]', true],
      ['[2]', false],
      ['[1,"a"]', false],
      ['[2,1]', true],
    ],
  },
  {
    name: 'dependentSchemas: absent, or present and its schema holds',
    mustCompile: true,
    schema: {
      $schema: S,
      type: 'object',
      dependentSchemas: { a: { required: ['b'] }, c: { properties: { d: { type: 'integer' } } } },
    },
    cases: [
      ['{}', true],
      ['{"a":1}', false],
      ['{"a":1,"b":2}', true],
      ['{"c":1}', true],
      ['{"c":1,"d":"x"}', false],
      ['{"c":1,"d":2}', true],
      ['{"d":"x"}', true],
    ],
  },
  {
    name: 'draft-07 dependencies, schema form, on any instance type',
    mustCompile: true,
    schema: { $schema: D7, dependencies: { error: { maxProperties: 1 } } },
    cases: [
      ['{"error":1}', true],
      ['{"error":1,"z":2}', false],
      ['{"z":2,"y":3}', true],
      ['"s"', true],
    ],
  },
];

const refused: [string, unknown, string, string][] = [
  [
    "an allOf member's own unevaluatedProperties",
    { $schema: S, allOf: [{ properties: { a: {} }, unevaluatedProperties: false }, { properties: { b: {} } }] },
    'unevaluatedProperties',
    '',
  ],
  [
    'contains of a schema whose complement is not exact',
    { $schema: S, type: 'array', contains: { minimum: 3 } },
    'contains',
    '/contains',
  ],
  [
    'contains beside prefixItems',
    { $schema: S, type: 'array', prefixItems: [{ type: 'string' }], contains: { const: 1 } },
    'contains',
    '',
  ],
  [
    'contains counts in two allOf members',
    { $schema: S, allOf: [{ contains: { const: 1 }, minContains: 2 }, { maxContains: 0 }] },
    'contains',
    '',
  ],
  [
    'if/then/else on a condition other than a discriminating property',
    { $schema: S, type: 'object', if: { minProperties: 2 }, then: { required: ['x'] } },
    'if',
    '',
  ],
  [
    'if/then/else in two allOf members',
    {
      $schema: S,
      allOf: [
        { if: { properties: { k: { const: 1 } } }, then: { required: ['a'] } },
        { if: { properties: { k: { const: 2 } } }, then: { required: ['b'] } },
      ],
    },
    'if',
    '',
  ],
  [
    'more than three dependentSchemas',
    { $schema: S, type: 'object', dependentSchemas: { a: {}, b: {}, c: {}, d: {} } },
    'dependentSchemas',
    '',
  ],
  ['$dynamicRef', { $schema: S, $dynamicAnchor: 'n', items: { $dynamicRef: '#n' } }, '$dynamicRef', '/items'],
  ['a $ref to another document', { $schema: S, $ref: 'other.json#/x' }, '$ref', ''],
  [
    'an anchor given twice',
    { $schema: S, $defs: { a: { $anchor: 'x' }, b: { $anchor: 'x' } }, $ref: '#x' },
    '$ref',
    '',
  ],
  [
    'dependentRequired with maxProperties',
    { $schema: S, type: 'object', dependentRequired: { a: ['b'] }, maxProperties: 3 },
    'dependentRequired',
    '',
  ],
];

describe('keyword coverage, checked against both oracles', () => {
  for (const row of enforced) {
    it(row.name, async () => {
      await checkCase(
        row,
        (schema, text) => accepts(schema, text, { propertyOrder: 'any' }),
        (e) => e instanceof CompileError,
      );
    });
  }
  for (const [name, schema, keyword, pointer] of refused) {
    it(`refuses ${name}, naming ${keyword}`, () => {
      assert.throws(
        () => compileJsonSchema(schema),
        (e: unknown) => e instanceof CompileError && e.keyword === keyword && e.pointer === pointer,
      );
    });
  }
});
