import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileJsonSchema, Matcher } from '../../src/structure/index.js';
import { loadTokenizer } from '../../bench/structure-tokenizers.js';

/** Schemas that exercise the mask's fast paths: patterned strings with length bounds, multi-byte classes, keys. */
const schemas: unknown[] = [
  { type: 'string', pattern: '^(?:\\S+\\s+){0,3}\\S+$', minLength: 3, maxLength: 14 },
  { type: 'string', pattern: '^[a-zé€😀 ]*$', maxLength: 5 },
  { type: 'string', pattern: 'é|x', minLength: 4, maxLength: 9 },
  { type: 'string', pattern: '^[^\\s]{2,}-[0-9a-f]{3}$' },
  { type: 'string', pattern: '^.{0,3}$', minLength: 2 },
  // Length-bounded free strings: far from the maximum the tokens that are not plain share one walk.
  { type: 'array', items: { type: 'string', minLength: 2, maxLength: 12 }, maxItems: 3 },
  // A pattern whose remaining need varies with its state, length-bounded: the shared walk must stop near the end.
  { type: 'string', pattern: '^(ab|[a-z]{5}é)+$', maxLength: 16 },
  // Unbounded patterns: an unanchored one accepts any text from every state, the other only from some.
  {
    type: 'array',
    items: [
      { type: 'string', pattern: 'ab?c' },
      { type: 'string', pattern: '^[a-c]+x|q' },
    ],
    minItems: 2,
    maxItems: 2,
  },
  // Keys under propertyNames: the additional-key leaf is constrained, declared names outside it are dead.
  {
    type: 'object',
    properties: { id: { type: 'integer' }, Name: { type: 'string' } },
    propertyNames: { pattern: '^[a-z]{1,3}$' },
  },
  // Narrow from the start (the code point trie is walked, not folded) and a literal too varied to fold.
  { type: 'string', pattern: '^[0-9]{1,3}(\\.[0-9]{1,3}){0,2}$' },
  { type: 'string', pattern: 'srn:type:file/[A-Z]+', maxLength: 30 },
  {
    type: 'object',
    properties: { id: { type: 'string', format: 'uuid' }, n: { type: 'integer', minimum: -5, maximum: 1200 } },
    patternProperties: { '^x-[a-z]{1,6}$': { type: 'number', exclusiveMinimum: 0, maximum: 2.5 } },
    additionalProperties: { type: 'string', pattern: '^\\w+$', maxLength: 4 },
  },
  {
    type: 'object',
    properties: { name: { type: 'string' }, 'nämé "q"': { type: 'boolean' } },
    patternProperties: { '^x-': { type: 'integer' } },
    additionalProperties: { type: 'integer', minimum: 0 },
    required: ['name'],
  },
];

/** A seeded generator, so every run walks the same states. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * The mask is a cached, shortcut computation (lexeme masks, precomputed plain-token masks, pattern walks shared
 * across lengths); the byte-level parser is the definition. At every state of random decoding on the real Llama 3
 * vocabulary, the mask must allow exactly the tokens whose bytes the parser can read — nothing more (soundness)
 * and nothing less (no valid output refused).
 */
describe('mask equals the byte-level parser on every token (Llama 3 vocabulary)', () => {
  const tok = loadTokenizer('llama3');
  const vocab = tok.vocabulary;
  schemas.forEach((schema, n) => {
    it(`schema ${n}`, () => {
      const grammar = compileJsonSchema(schema);
      const runtime = grammar.runtime;
      const mask = vocab.allocateMask();
      const random = rng(11 + n);
      for (let run = 0; run < 4; run++) {
        const m = new Matcher(grammar, vocab);
        for (let step = 0; step < 12 && !m.isStopped(); step++) {
          m.fillMask(mask);
          const state = (m as unknown as { state: number }).state;
          const allowed: number[] = [];
          for (let id = 0; id < vocab.size; id++) {
            const bytes = vocab.tokens[id];
            let readable = false;
            if (bytes) {
              let set = state;
              for (let i = 0; i < bytes.length && set !== 0; i++) set = runtime.step(set, bytes[i]!);
              readable = set !== 0;
            } else readable = vocab.eosTokenIds.includes(id) && m.isAccepting();
            const bit = ((mask[id >>> 5]! >>> (id & 31)) & 1) === 1;
            if (bit !== readable)
              assert.fail(
                `token ${id} ${JSON.stringify(bytes ? Buffer.from(bytes).toString('latin1') : 'special')}: mask ${bit}, parser ${readable}`,
              );
            if (bit) allowed.push(id);
          }
          assert.ok(allowed.length > 0, 'the mask never dead-ends');
          assert.ok(m.accept(allowed[Math.floor(random() * allowed.length)]!));
        }
      }
    });
  });
});
