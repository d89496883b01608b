/**
 * Schema resource limits and keyword values are CompileErrors naming the keyword and the JSON pointer (the chat
 * layer turns them into 400s): nothing recurses over a schema before its depth is known, and no literal automaton
 * is built past its size limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError, compileJsonSchema } from '../../src/structure/index.js';

function refusal(schema: unknown, options?: Parameters<typeof compileJsonSchema>[1]): CompileError {
  try {
    compileJsonSchema(schema, options);
  } catch (e) {
    assert.ok(e instanceof CompileError, `expected CompileError, got ${String(e)}`);
    return e;
  }
  assert.fail(`compiled ${JSON.stringify(schema).slice(0, 80)}`);
}

describe('schema limits', () => {
  it('a schema nested 10,000 deep is refused before anything recurses over it', () => {
    let deep: unknown = { type: 'string' };
    for (let i = 0; i < 10_000; i++) deep = { type: 'object', properties: { a: deep } };
    const e = refusal(deep);
    assert.equal(e.keyword, 'schema');
    assert.match(e.pointer, /^(\/properties\/a)+/);
    let arrays: unknown = 1;
    for (let i = 0; i < 10_000; i++) arrays = [arrays];
    assert.equal(refusal({ enum: [arrays] }).keyword, 'schema');
  });

  it('an enum of 100k strings and a const of 200,001 characters are refused by name', () => {
    const e = refusal({
      type: 'object',
      properties: { x: { enum: Array.from({ length: 100_000 }, (_, i) => `s${i}`) } },
    });
    assert.deepEqual([e.keyword, e.pointer], ['enum', '/properties/x']);
    const c = refusal({ const: 'x'.repeat(200_001) });
    assert.deepEqual([c.keyword, c.pointer], ['const', '']);
  });

  it('an automaton over its state limit is a CompileError, not a RangeError', () => {
    const e = refusal(
      { type: 'object', properties: { a: { enum: Array.from({ length: 300 }, (_, i) => `member-${i}`) } } },
      { limits: { maxAutomatonStates: 500 } },
    );
    assert.deepEqual([e.keyword, e.pointer], ['enum', '/properties/a']);
  });

  it('the total size is bounded', () => {
    const e = refusal(
      {
        type: 'object',
        properties: Object.fromEntries(
          Array.from({ length: 2000 }, (_, i) => [`p${i}`, { description: 'd'.repeat(100) }]),
        ),
      },
      { limits: { maxSchemaSize: 100_000 } },
    );
    assert.equal(e.keyword, 'schema');
  });
});

describe('keyword values are checked against the meta-schema', () => {
  const cases: [unknown, string, string][] = [
    [{ type: 'string', minLength: -1 }, 'minLength', ''],
    [{ type: 'string', minLength: 1.5 }, 'minLength', ''],
    [{ type: 'object', required: 'a' }, 'required', ''],
    [{ type: 'strng' }, 'type', ''],
    [{ type: 'object', properties: { a: { maxItems: 'x' } } }, 'maxItems', '/properties/a'],
    [{ type: 'array', items: { pattern: 5 } }, 'pattern', '/items'],
    [{ $schema: 'https://json-schema.org/draft/2020-12/schema', items: [{}] }, 'items', ''],
    [
      { $schema: 'http://json-schema.org/draft-07/schema#', minimum: 1, exclusiveMinimum: true },
      'exclusiveMinimum',
      '',
    ],
    [{ enum: 'a' }, 'enum', ''],
  ];
  for (const [schema, keyword, pointer] of cases) {
    it(`${JSON.stringify(schema)} → ${keyword} at ${pointer || '#'}`, () => {
      const e = refusal(schema);
      assert.deepEqual([e.keyword, e.pointer], [keyword, pointer]);
    });
  }

  it('a $ref below a nested $id is refused: it resolves against that $id, not the document', () => {
    const e = refusal({
      $defs: { b: { type: 'string' } },
      properties: { a: { $id: 'https://example.com/a', $defs: { b: { type: 'integer' } }, $ref: '#/$defs/b' } },
    });
    assert.deepEqual([e.keyword, e.pointer], ['$ref', '/properties/a']);
  });

  it('draft-04 boolean exclusive bounds and draft-07 tuples are still read in their own drafts', () => {
    assert.doesNotThrow(() =>
      compileJsonSchema({
        $schema: 'http://json-schema.org/draft-04/schema#',
        type: 'number',
        minimum: 1,
        exclusiveMinimum: true,
      }),
    );
    assert.doesNotThrow(() =>
      compileJsonSchema({
        $schema: 'http://json-schema.org/draft-07/schema#',
        items: [{ type: 'integer' }],
        additionalItems: false,
      }),
    );
  });
});
