/**
 * Names that are also members of Object.prototype (`valueOf`, `constructor`, `__proto__`, …), the empty name and
 * non-ASCII names, in every position a schema takes a name: required, properties, additionalProperties,
 * patternProperties, $defs + $ref, enum and const objects, propertyNames, allOf merges of properties. A compiler
 * that looks names up on plain objects (`name in props`) sees inherited members and loses `required: ["valueOf"]`.
 * Every verdict is checked against both oracles, then the decoder through the mask.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError, compileJsonSchema } from '../../src/structure/index.js';
import { accepts } from './helpers.js';
import { checkCase, type TableCase } from './oracles.js';
import { HOSTILE_NAMES } from './schema-arbitrary.js';

const S2020 = 'https://json-schema.org/draft/2020-12/schema';
/** JSON text of an object with one member: built as text so `__proto__` is a member, not the prototype. */
const obj = (name: string, value: string): string => `{${JSON.stringify(name)}:${value}}`;
const schemaOf = (text: string): unknown => JSON.parse(text) as unknown;
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function rows(name: string): TableCase[] {
  const n = JSON.stringify(name);
  const ptr = name.replace(/~/g, '~0').replace(/\//g, '~1');
  return [
    {
      name: 'required',
      mustCompile: true,
      schema: schemaOf(`{"$schema":"${S2020}","type":"object","required":[${n}]}`),
      cases: [
        ['{}', false],
        [obj(name, '1'), true],
        ['{"other":1}', false],
      ],
    },
    {
      name: 'properties',
      mustCompile: true,
      schema: schemaOf(`{"$schema":"${S2020}","type":"object","properties":${obj(name, '{"type":"string"}')}}`),
      cases: [
        ['{}', true],
        [obj(name, '"s"'), true],
        [obj(name, '1'), false],
      ],
    },
    {
      name: 'required + properties',
      mustCompile: true,
      schema: schemaOf(
        `{"$schema":"${S2020}","type":"object","properties":${obj(name, '{"type":"integer"}')},"required":[${n}]}`,
      ),
      cases: [
        ['{}', false],
        [obj(name, '1'), true],
        [obj(name, '"x"'), false],
      ],
    },
    {
      name: 'additionalProperties false',
      mustCompile: true,
      schema: schemaOf(`{"$schema":"${S2020}","type":"object","properties":{"a":{}},"additionalProperties":false}`),
      cases: [
        [obj(name, '1'), false],
        ['{"a":1}', true],
      ],
    },
    {
      name: 'required + additionalProperties schema',
      mustCompile: true,
      schema: schemaOf(
        `{"$schema":"${S2020}","type":"object","required":[${n}],"additionalProperties":{"type":"integer"}}`,
      ),
      cases: [
        [obj(name, '"s"'), false],
        [obj(name, '1'), true],
        ['{}', false],
      ],
    },
    {
      name: 'patternProperties',
      mustCompile: true,
      schema: schemaOf(
        `{"$schema":"${S2020}","type":"object","patternProperties":${obj(`^${escapeRegex(name)}$`, '{"type":"integer"}')},"additionalProperties":false}`,
      ),
      cases: [
        [obj(name, '1'), true],
        [obj(name, '"s"'), false],
        ['{"zz":1}', false],
      ],
    },
    {
      name: '$defs + $ref',
      mustCompile: true,
      schema: schemaOf(
        `{"$schema":"${S2020}","$defs":${obj(name, '{"type":"integer"}')},"$ref":${JSON.stringify(`#/$defs/${encodeURIComponent(ptr)}`)}}`,
      ),
      cases: [
        ['1', true],
        ['"s"', false],
      ],
    },
    {
      name: 'enum of objects',
      mustCompile: true,
      schema: schemaOf(`{"$schema":"${S2020}","enum":[${obj(name, '1')}]}`),
      cases: [
        [obj(name, '1'), true],
        ['{}', false],
        [obj(name, '2'), false],
      ],
    },
    {
      name: 'const object',
      mustCompile: true,
      schema: schemaOf(`{"$schema":"${S2020}","const":${obj(name, '[1]')}}`),
      cases: [
        [obj(name, '[1]'), true],
        ['{}', false],
      ],
    },
    {
      name: 'propertyNames',
      mustCompile: true,
      schema: schemaOf(`{"$schema":"${S2020}","type":"object","propertyNames":{"pattern":"^a"}}`),
      cases: [
        [obj(name, '1'), false],
        ['{"ab":1}', true],
      ],
    },
    {
      name: 'allOf merging properties',
      mustCompile: true,
      schema: schemaOf(
        `{"$schema":"${S2020}","required":[${n}],"allOf":[{"properties":${obj(name, '{"type":"integer"}')}},{"properties":${obj(name, '{"minimum":3}')}}]}`,
      ),
      cases: [
        [obj(name, '2'), false],
        [obj(name, '3'), true],
        ['{}', false],
      ],
    },
    {
      name: 'allOf: additionalProperties of one member against the names of another',
      mustCompile: true,
      schema: schemaOf(
        `{"$schema":"${S2020}","allOf":[{"properties":{"a":{}},"additionalProperties":false},{"properties":${obj(name, '{}')}}]}`,
      ),
      cases: [
        [obj(name, '1'), false],
        ['{"a":1}', true],
      ],
    },
    {
      name: 'dependentRequired',
      mustCompile: false,
      schema: schemaOf(`{"$schema":"${S2020}","type":"object","dependentRequired":${obj(name, '["a"]')}}`),
      cases: [
        ['{}', true],
        [obj(name, '1'), false],
      ],
    },
  ];
}

const refused = (e: unknown): boolean => e instanceof CompileError;
const decoderAccepts = (schema: unknown, text: string): boolean => accepts(schema, text, { propertyOrder: 'any' });

describe('hostile property names in every position', () => {
  for (const name of HOSTILE_NAMES) {
    it(`name ${JSON.stringify(name)}`, async () => {
      for (const row of rows(name)) await checkCase(row, decoderAccepts, refused);
    });
  }

  it('a $ref to an inherited member does not resolve', () => {
    for (const name of ['toString', 'constructor', '__proto__']) {
      assert.throws(
        () => compileJsonSchema({ $defs: {}, $ref: `#/$defs/${name}` }),
        (e: unknown) => e instanceof CompileError && e.keyword === '$ref',
      );
    }
  });

  it('an unknown keyword named __proto__ is a member, never the prototype of a merged schema', () => {
    // Were `__proto__` assigned as a member of a plain object, the merged schema would inherit `type: "string"`.
    const schema = schemaOf('{"allOf":[{"__proto__":{"type":"string"}},{"minimum":1}]}');
    assert.equal(accepts(schema, '5'), true);
    assert.equal(accepts(schema, '[]'), true);
  });

  it('a format named like an Object.prototype member is an unknown format (an annotation)', () => {
    assert.equal(accepts({ type: 'string', format: 'constructor' }, '"x"'), true);
  });
});
