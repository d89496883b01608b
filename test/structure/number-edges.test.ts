/**
 * Numeric bounds at the edges of what the number leaf writes (at most 15 significant digits): a bound beyond that
 * grid must never leave a mask with nothing allowed (the fuzz test found `minimum: 1e308` doing so); it is moved to
 * the grid or the schema is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError, compileJsonSchema, Matcher } from '../../src/structure/index.js';
import { accepts, byteVocab } from './helpers.js';

/** Walks the mask taking the highest allowed byte each step, until EOS is allowed; fails on an empty mask. */
function neverDeadEnds(schema: unknown): void {
  let grammar;
  try {
    grammar = compileJsonSchema(schema);
  } catch (e) {
    assert.ok(e instanceof CompileError, String(e));
    return;
  }
  for (const pick of ['first', 'last'] as const) {
    const m = new Matcher(grammar, byteVocab);
    const mask = byteVocab.allocateMask();
    for (let step = 0; step < 400; step++) {
      m.fillMask(mask);
      const allowed: number[] = [];
      for (let id = 0; id <= 256; id++) if ((mask[id >>> 5]! >>> (id & 31)) & 1) allowed.push(id);
      assert.ok(allowed.length > 0, `${JSON.stringify(schema)}: empty mask after ${step} bytes (${pick})`);
      if (allowed.includes(256)) break;
      assert.ok(m.accept(pick === 'first' ? allowed[0]! : allowed[allowed.length - 1]!));
    }
  }
}

// Spelled as text: these literals lose precision as numbers, which is the point (lint's no-loss-of-precision).
const TWO_53_PLUS_1 = Number('9007199254740993');
const LOW = Number('0.12345678901234567');
const HIGH = Number('0.12345678901234568');

describe('number bounds beyond 15 significant digits', () => {
  it('never dead-end', () => {
    for (const schema of [
      { type: 'integer', minimum: 1e308 },
      { type: 'number', minimum: 1e308 },
      { type: 'integer', minimum: 1e20 },
      { type: 'number', exclusiveMaximum: -1e308 },
      { type: 'integer', minimum: TWO_53_PLUS_1, maximum: TWO_53_PLUS_1 },
      { type: 'number', minimum: LOW, maximum: HIGH },
      { type: 'number', minimum: 1e14 },
      { type: 'number', minimum: -1e-7, maximum: 1e-7 },
      { type: 'number', exclusiveMinimum: 0, maximum: 1e-7 },
      { type: 'integer', maximum: TWO_53_PLUS_1 },
      { type: 'number', minimum: -0, maximum: 0 },
    ])
      neverDeadEnds(schema);
  });

  it('keeps the numbers of the grid on both sides of a moved bound', () => {
    const schema = { type: 'integer', minimum: -5, maximum: TWO_53_PLUS_1 };
    assert.equal(accepts(schema, '900719925474099'), true);
    assert.equal(accepts(schema, '-5'), true);
    assert.equal(accepts({ type: 'number', exclusiveMinimum: 0, maximum: 1e-7 }, '0.0000001'), true);
    assert.equal(accepts({ type: 'number', exclusiveMinimum: 0, maximum: 1e-7 }, '0'), false);
  });
});
