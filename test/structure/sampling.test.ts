import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compileJsonSchema, Matcher } from '../../src/structure/index.js';
import { loadTokenizer } from '../../bench/structure-tokenizers.js';
import { agreed, oraclesFor } from './oracles.js';

const schemas: unknown[] = [
  {
    type: 'object',
    properties: {
      id: { type: 'integer', minimum: -20, maximum: 300 },
      name: { type: 'string', maxLength: 6 },
      tags: { type: 'array', items: { enum: ['a', 'b', 'c d'] }, maxItems: 3 },
      score: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    },
    required: ['id', 'name'],
    additionalProperties: false,
  },
  {
    anyOf: [
      { type: 'string', pattern: '^[a-z]{1,4}$' },
      { type: 'boolean' },
      { type: 'null' },
      { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, maxItems: 4 },
    ],
  },
  {
    type: 'object',
    properties: { when: { type: 'string', format: 'date' }, ip: { type: 'string', format: 'ipv4' } },
    required: ['when', 'ip'],
    additionalProperties: false,
  },
  {
    type: 'object',
    properties: Object.fromEntries(
      ['uri', 'uri-reference', 'url', 'json-pointer', 'relative-json-pointer'].map((f) => [
        f,
        { type: 'string', format: f, maxLength: 40 },
      ]),
    ),
    required: ['uri', 'uri-reference', 'url', 'json-pointer', 'relative-json-pointer'],
    additionalProperties: false,
  },
  // Hostile names (parsed from text so `__proto__` is a member) and an allOf whose items govern the outer prefix.
  JSON.parse(
    '{"type":"object","properties":{"valueOf":{"type":"integer","minimum":0,"maximum":99},"__proto__":{"type":"string","maxLength":3},"":{"type":"boolean"},"toString":{"enum":[1,"x"]}},"required":["valueOf","__proto__","","toString"],"additionalProperties":false}',
  ),
  {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'array',
    prefixItems: [{ type: 'integer', minimum: 3, maximum: 9 }],
    allOf: [{ items: { type: 'integer', minimum: 5, maximum: 50 } }],
    maxItems: 4,
  },
];

/**
 * Hypothesis-style: walk the mask at random on the real Llama 3 vocabulary (every token allowed by the mask is a
 * candidate, EOS taken as soon as it is allowed half the time) — whatever comes out must be a document both oracles
 * (ajv and hyperjump, or the spec table where they disagree) accept.
 */
describe('random decoding under the mask (Llama 3 vocabulary)', () => {
  const tok = loadTokenizer('llama3');
  const vocab = tok.vocabulary;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  schemas.forEach((schema, n) => {
    it(`schema ${n}: every sampled document validates`, async () => {
      const grammar = compileJsonSchema(schema);
      const oracles = await oraclesFor(schema);
      assert.ok(oracles.ajv && oracles.hyperjump, 'both oracles compile the schema');
      const mask = vocab.allocateMask();
      fc.assert(
        fc.property(fc.array(fc.nat(), { minLength: 200, maxLength: 200 }), (choices) => {
          const m = new Matcher(grammar, vocab);
          const bytes: number[] = [];
          for (const choice of choices) {
            m.fillMask(mask);
            const allowed: number[] = [];
            for (let w = 0; w < mask.length; w++)
              for (let bits = mask[w]!; bits !== 0; bits &= bits - 1)
                allowed.push((w * 32 + Math.clz32(bits & -bits)) ^ 31);
            assert.ok(allowed.length > 0, 'the mask never dead-ends');
            const eosAllowed = allowed.includes(tok.eos);
            const token = eosAllowed && choice % 2 === 0 ? tok.eos : allowed[choice % allowed.length]!;
            assert.ok(m.accept(token), `mask allowed ${token} but accept refused: ${m.error?.message}`);
            if (token === tok.eos) break;
            bytes.push(...vocab.tokens[token]!);
          }
          if (!m.isStopped()) return; // ran out of steps; the prefix was valid all along
          const doc = JSON.parse(decoder.decode(Uint8Array.from(bytes))) as unknown;
          assert.equal(agreed(oracles, schema, doc), true, `the oracles reject ${JSON.stringify(doc)}`);
        }),
        { numRuns: 40, seed: 7 + n },
      );
    });
  });
});
