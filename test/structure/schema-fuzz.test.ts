/**
 * Property tests over generated schemas (schema-arbitrary.ts): whatever the decoder accepts — a generated instance
 * fed through the mask, or a document the mask itself produces by random decoding — both oracles must call valid
 * (the spec table decides where they disagree). Refusing a schema is always allowed; a test that refused nearly
 * everything would prove nothing, so the share of schemas compiled is asserted too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CompileError, compileJsonSchema, Matcher, type Grammar } from '../../src/structure/index.js';
import { acceptsThroughMask, byteVocab } from './helpers.js';
import { agreed, oraclesFor } from './oracles.js';
import { documentArb, instanceArb } from './schema-arbitrary.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function compileOrNull(schema: unknown, order: 'any' | 'schema'): Grammar | null {
  try {
    return compileJsonSchema(schema, { propertyOrder: order });
  } catch (e) {
    if (e instanceof CompileError) return null;
    throw e;
  }
}

function finite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  return v === null || typeof v !== 'object' || Object.values(v).every(finite);
}

/** One document by random decoding on the byte vocabulary (at most `steps` bytes), or null if it did not finish. */
function sample(grammar: Grammar, choices: readonly number[]): unknown {
  const m = new Matcher(grammar, byteVocab);
  const mask = byteVocab.allocateMask();
  const bytes: number[] = [];
  for (const choice of choices) {
    m.fillMask(mask);
    const allowed: number[] = [];
    for (let id = 0; id <= 256; id++) if ((mask[id >>> 5]! >>> (id & 31)) & 1) allowed.push(id);
    assert.ok(allowed.length > 0, 'the mask never dead-ends');
    // Take EOS whenever it is allowed half the time, so documents finish.
    const token = allowed.includes(256) && choice % 2 === 0 ? 256 : allowed[choice % allowed.length]!;
    assert.ok(m.accept(token), `mask allowed ${token} but accept refused`);
    if (token === 256) {
      const doc = JSON.parse(decoder.decode(Uint8Array.from(bytes))) as unknown;
      // An unbounded number may be written past the double range (0.1e+001000): valid JSON, but JavaScript parses
      // it to Infinity, which no oracle can judge as the number it is. Bounded numbers never take an exponent.
      return finite(doc) ? doc : undefined;
    }
    bytes.push(token);
  }
  return undefined;
}

describe('generated schemas: the decoder never accepts what the oracles reject', () => {
  it('generated instances through the mask, and documents sampled from the mask', async (t) => {
    let compiled = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        documentArb,
        fc.constantFrom('any' as const, 'schema' as const),
        fc.array(instanceArb, { maxLength: 6 }),
        fc.array(fc.array(fc.nat(), { minLength: 80, maxLength: 80 }), { minLength: 2, maxLength: 2 }),
        async (schema, order, instances, walks) => {
          runs++;
          const grammar = compileOrNull(schema, order);
          if (!grammar) return;
          compiled++;
          const oracles = await oraclesFor(schema);
          assert.ok(oracles.ajv && oracles.hyperjump, 'both oracles compile every schema the decoder compiles');
          for (const instance of instances) {
            const text = JSON.stringify(instance);
            if (acceptsThroughMask(grammar, Array.from(encoder.encode(text)))) {
              assert.equal(agreed(oracles, schema, instance), true, `decoder accepts ${text}`);
            }
          }
          for (const walk of walks) {
            const doc = sample(grammar, walk);
            if (doc !== undefined)
              assert.equal(agreed(oracles, schema, doc), true, `the mask produced ${JSON.stringify(doc)}`);
          }
        },
      ),
      { numRuns: 500, seed: 13 },
    );
    t.diagnostic(`${compiled} of ${runs} generated schemas compiled`);
    assert.ok(compiled >= runs * 0.4, `only ${compiled} of ${runs} generated schemas compiled`);
  });

  it('in schema order, a key is offered only if minProperties can still be reached after it (found by this test)', () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"constructor":{"type":"boolean"},"__proto__":{"type":"string","maxLength":0}},"additionalProperties":false,"minProperties":2}',
    ) as unknown;
    const grammar = compileOrNull(schema, 'schema')!;
    const text = (s: string) => Array.from(encoder.encode(s));
    assert.equal(acceptsThroughMask(grammar, text('{"__proto__":"","constructor":true}')), false);
    assert.equal(acceptsThroughMask(grammar, text('{"constructor":true,"__proto__":""}')), true);
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 60, maxLength: 60 }), (walk) => void sample(grammar, walk)),
      { numRuns: 200, seed: 5 },
    );
  });
});
