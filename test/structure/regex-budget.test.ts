import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CharDfa, RegexSyntaxError } from '../../src/structure/char-dfa.js';
import { MAX_REGEX_WORK } from '../../src/structure/regex-budget.js';
import { CompileError, compileJsonSchema, withRegexBudget } from '../../src/structure/index.js';

/** Patterns whose automaton blows up (exponentially many DFA states, or huge class refinements). */
const costly = [
  '^.*b.{30}$',
  '^(a|b)*a(a|b){15}$',
  `(${'[a-z]'.repeat(2000)})`,
  Array.from({ length: 3000 }, (_, i) => `[${String.fromCodePoint(0x4e00 + i * 3)}]`).join('|'),
];

describe('regex work budget', () => {
  for (const pattern of costly) {
    it(`refuses ${pattern.slice(0, 30)}… as a CompileError naming pattern and its pointer`, () => {
      const schema = { type: 'object', properties: { v: { type: 'string', pattern } }, required: ['v'] };
      assert.throws(
        () => compileJsonSchema(schema),
        (e: unknown) =>
          e instanceof CompileError &&
          e.keyword === 'pattern' &&
          e.pointer === '/properties/v' &&
          /work budget/.test(e.message),
      );
    });
  }

  it('is deterministic: the same pattern is refused under the same budget at the same point, and passes a larger one', () => {
    const pattern = '^.*b.{8}$';
    const explore = (maxWork: number): boolean => {
      const dfa = CharDfa.fromPattern(pattern, true, 200_000, maxWork);
      return dfa.isLive(dfa.start);
    };
    assert.throws(() => explore(2_000), /exceeds its work budget of 2000 steps/);
    assert.throws(() => explore(2_000), /exceeds its work budget of 2000 steps/);
    assert.equal(explore(MAX_REGEX_WORK), true);
  });

  it('keeps ordinary patterns well inside the budget', () => {
    for (const pattern of [
      '^[a-z]{1,1000}$',
      '^\\d{4}-\\d{2}-\\d{2}$',
      '^[A-Z][a-z]+(?: [A-Z][a-z]+)*$',
      '^.*b.{10}$',
    ]) {
      assert.ok(compileJsonSchema({ type: 'string', pattern }), pattern);
    }
  });

  it('refuses a source longer than the budget before parsing it', () => {
    assert.throws(() => CharDfa.fromPattern('a'.repeat(MAX_REGEX_WORK + 1), true, 200_000), /work budget/);
  });

  it('scans group names linearly and still refuses unterminated ones', () => {
    assert.throws(() => CharDfa.fromPattern(`${'(?<a'.repeat(MAX_REGEX_WORK / 8)}>`, true, 200_000), RegexSyntaxError);
    assert.ok(CharDfa.fromPattern('(?<name>a)(?<n2>b)', true, 1_000));
  });
});

describe('shared regex budget of one request', () => {
  it('refuses a schema of many patterns that are each within budget but add up past the shared one', () => {
    const properties = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [
        `p${i}`,
        { type: 'string', pattern: `^.*${String.fromCodePoint(0x4e00 + i)}.{10}$` },
      ]),
    );
    const schema = { type: 'object', properties };
    assert.throws(
      () => withRegexBudget(() => compileJsonSchema(schema)),
      (e: unknown) =>
        e instanceof CompileError && e.keyword === 'pattern' && /budget its request shares/.test(e.message),
    );
    // Alone, the first of them compiles.
    assert.ok(withRegexBudget(() => compileJsonSchema({ type: 'string', pattern: properties.p0!.pattern })));
  });
});
