import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CharDfa, RegexSyntaxError } from '../../src/structure/char-dfa.js';

/** Runs a DFA over a whole string (code points) with JSON Schema's search semantics. */
function dfaMatches(dfa: CharDfa, text: string): boolean {
  let s = dfa.start;
  for (const ch of text) {
    s = dfa.step(s, ch.codePointAt(0)!);
    if (s < 0) return false;
  }
  return dfa.isAccepting(s);
}

const patterns = [
  '^[a-c]+(-[a-c]+)*$',
  'ab|c',
  '^a{2,3}b?$',
  '^(?:x|yz)*$',
  '\\d\\s',
  '^[^a]b.$',
  '^\\w+@\\w+\\.[a-z]{2}$',
  'b$',
  '^$',
  '(?<n>a)[\\-b]',
];

describe('CharDfa', () => {
  for (const pattern of patterns) {
    it(`agrees with RegExp(u) on ${pattern}`, () => {
      const dfa = CharDfa.fromPattern(pattern, true, 10_000);
      const re = new RegExp(pattern, 'u');
      const alphabet = fc.constantFrom('a', 'b', 'c', '-', 'x', 'y', 'z', '1', ' ', '@', '.', '\n', 'é', '😀');
      fc.assert(
        fc.property(
          fc.array(alphabet, { maxLength: 10 }).map((a) => a.join('')),
          (text) => dfaMatches(dfa, text) === re.test(text),
        ),
        { numRuns: 300, seed: 42 },
      );
    });
  }

  it('refuses non-regular or unsupported syntax', () => {
    for (const p of ['(a)\\1', '(?=a)', '(?<!a)b', '\\bx', '\\p{L}', 'a{2', '[b-a]', '(']) {
      assert.throws(() => CharDfa.fromPattern(p, true, 1000), RegexSyntaxError, p);
    }
  });

  it('bounds its size', () => {
    assert.throws(() => CharDfa.fromPattern('(a|b|c|d){1000}', true, 500), /exceeds 500/);
  });
});
