import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { embedSchemaAt } from '../../src/structure/index.js';
import { accepts } from './helpers.js';

/** A tool's parameters as a document of its own: every reference is local to it. */
const parameters = {
  type: 'object',
  properties: { point: { $ref: '#/$defs/point' }, again: { $ref: '#' }, enum: { $ref: '#/$defs/small' } },
  required: ['point'],
  additionalProperties: false,
  $defs: {
    point: { type: 'object', properties: { x: { $ref: '#/$defs/small' } }, required: ['x'] },
    small: { type: 'integer', maximum: 3 },
  },
  // A `$ref` inside data is data: it must not be rewritten.
  default: { $ref: '#/$defs/point' },
};

function wrapper(args: unknown): unknown {
  return {
    type: 'object',
    properties: { name: { const: 'f' }, arguments: args },
    required: ['name', 'arguments'],
    additionalProperties: false,
  };
}

describe('embedSchemaAt', () => {
  it('rebases local references so the embedded schema means what it meant alone', () => {
    const schema = wrapper(embedSchemaAt(parameters, '/properties/arguments'));
    assert.equal(accepts(schema, '{"name":"f","arguments":{"point":{"x":2}}}'), true);
    assert.equal(accepts(schema, '{"name":"f","arguments":{"point":{"x":7}}}'), false);
    assert.equal(accepts(schema, '{"name":"f","arguments":{"point":{"x":1},"again":{"point":{"x":3}}}}'), true);
    assert.equal(accepts(schema, '{"name":"f","arguments":{"point":{"x":1},"again":{"point":{"x":9}}}}'), false);
    // A property named `enum` is a name, and its schema's reference is rebased like any other.
    assert.equal(accepts(schema, '{"name":"f","arguments":{"point":{"x":1},"enum":4}}'), false);
    assert.equal(accepts(schema, '{"name":"f","arguments":{"point":{"x":1},"enum":2}}'), true);
  });

  it('leaves data, anchors and remote references alone and keeps hostile names as plain keys', () => {
    // JSON.parse keeps `__proto__` an own key, as a schema arriving over HTTP has it.
    const schema: unknown = JSON.parse(
      '{"properties":{"__proto__":{"$ref":"#a"}},"const":{"$ref":"#/x"},"items":{"$ref":"o.json#/y"}}',
    );
    const embedded = embedSchemaAt(schema, '/p') as Record<string, Record<string, unknown>>;
    assert.deepEqual(embedded.const, { $ref: '#/x' });
    assert.deepEqual({ ...embedded.items }, { $ref: 'o.json#/y' });
    assert.equal(Object.hasOwn(embedded.properties!, '__proto__'), true);
    assert.deepEqual({ ...(embedded.properties!.__proto__ as object) }, { $ref: '#a' });
  });
});
