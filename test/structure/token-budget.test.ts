import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileJsonSchema, Matcher, Vocabulary, type Grammar } from '../../src/structure/index.js';
import { loadTokenizer } from '../../bench/structure-tokenizers.js';
import { byteVocab } from './helpers.js';

const encoder = new TextEncoder();

/**
 * The independent oracle: breadth-first search over bytes on the runtime's own parse sets (only `step` and
 * `isAccepting`, the parser's ground truth) for the nearest set where the document may end.
 */
function bfsShortest(
  grammar: Grammar,
  from: number,
  usable: readonly number[] = [...Array(256).keys()],
  maxDepth = 40,
): number {
  const runtime = grammar.runtime;
  let frontier = [from];
  const seen = new Set(frontier);
  for (let depth = 0; depth <= maxDepth; depth++) {
    if (frontier.some((s) => runtime.isAccepting(s))) return depth;
    const next: number[] = [];
    for (const s of frontier) {
      for (const b of usable) {
        const t = runtime.step(s, b);
        if (t !== 0 && !seen.has(t)) {
          seen.add(t);
          next.push(t);
        }
      }
    }
    frontier = next;
  }
  return Infinity;
}

/** The runtime's parse set after `text`. */
function setAfter(grammar: Grammar, text: string): number {
  let set = grammar.runtime.initial;
  for (const b of encoder.encode(text)) set = grammar.runtime.step(set, b);
  return set;
}

const tiny: [unknown, string[]][] = [
  [
    {
      type: 'object',
      properties: { name: { type: 'string', minLength: 3 }, age: { type: 'integer' } },
      required: ['name', 'age'],
      additionalProperties: false,
    },
    ['', '{', '{"name":"ab', '{"name":"abcdef"', '{"name":"xyz","age":-'],
  ],
  [
    { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 4 },
    ['', '[', '["a', '["a\\', '["a\\u00', '["\xc3', '["",""'],
  ],
  [{ enum: ['abc', 'de', 'fghij'] }, ['', '"f', '"a']],
  [{ type: 'string', pattern: '^[a-z]{4}-\\d+$' }, ['', '"ab', '"abcd-']],
  [{ type: 'integer', minimum: 100, maximum: 250 }, ['', '1', '2', '24']],
  [{ type: 'number', maximum: -5 }, ['', '-', '-5.']],
  [{ anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'integer' }, minItems: 3 }] }, ['', '[', '[1,']],
  [
    {
      $defs: {
        n: { type: 'object', properties: { c: { $ref: '#/$defs/n' }, v: { type: 'boolean' } }, required: ['v'] },
      },
      $ref: '#/$defs/n',
    },
    ['', '{"c":', '{"c":{"v":tr'],
  ],
  [
    {
      type: 'object',
      properties: { a: { const: 'xyz' }, b: { type: 'array', items: { type: 'number' }, minItems: 1 } },
      required: ['b', 'a'],
    },
    ['', '{"a":"xy', '{"a":"xyz","b":[', '{"a":"xyz","b":[1],"q":'],
  ],
];

describe('shortest completion', () => {
  tiny.forEach(([schema, prefixes], n) => {
    it(`tiny grammar ${n}: matches breadth-first search over bytes at every prefix`, () => {
      for (const propertyOrder of ['schema', 'any'] as const) {
        const grammar = compileJsonSchema(schema, { propertyOrder });
        for (const prefix of prefixes) {
          const m = new Matcher(grammar, byteVocab);
          assert.ok(m.acceptString(prefix), `prefix ${prefix} must parse`);
          assert.equal(
            m.shortestCompletion(),
            bfsShortest(grammar, setAfter(grammar, prefix)),
            `${JSON.stringify(schema)} after ${JSON.stringify(prefix)}`,
          );
        }
      }
    });
  });

  it('a vocabulary without some one-byte tokens counts only the bytes it can spell', () => {
    // No "0" token: the shortest integer ≥ 100 is then "111"... but "100" is cheaper with "00" as one token —
    // either way the count stays an upper bound on tokens, and here it is the search restricted to one-byte tokens.
    const tokens = [
      ...Array.from({ length: 256 }, (_, b) => (b === 0x30 ? Uint8Array.of(0x30, 0x30) : Uint8Array.of(b))),
      null,
    ];
    const vocab = Vocabulary.fromTokenBytes(tokens, { eosTokenIds: [256] });
    const grammar = compileJsonSchema({ type: 'integer', minimum: 100, maximum: 250 });
    const usable = [...Array(256).keys()].filter((b) => b !== 0x30);
    assert.equal(
      new Matcher(grammar, vocab).shortestCompletion(),
      bfsShortest(grammar, grammar.runtime.initial, usable),
    );
    assert.equal(new Matcher(grammar, vocab).shortestCompletion(), 3);
    assert.equal(new Matcher(compileJsonSchema({ const: '0' }), vocab).shortestCompletion(), Infinity);
  });
});

describe('token budget', () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string', minLength: 3 }, tags: { type: 'array', items: { type: 'string' } } },
    required: ['name', 'tags'],
    additionalProperties: false,
  };

  it('a budget below the shortest completion is refused; the shortest completion itself is allowed', () => {
    const m = new Matcher(compileJsonSchema(schema), byteVocab);
    assert.equal(m.shortestCompletion(), '{"name":"xxx","tags":[]}'.length);
    assert.throws(() => m.setTokenBudget(23), /below the 24 tokens/);
    m.setTokenBudget(24);
  });

  it('steers byte by byte to the shortest completion when the budget is exact', () => {
    const m = new Matcher(compileJsonSchema(schema), byteVocab);
    m.setTokenBudget(24);
    const mask = byteVocab.allocateMask();
    const out: number[] = [];
    for (let i = 0; i < 24; i++) {
      m.fillMask(mask);
      // Always the highest byte allowed: the budget alone keeps the string from running on.
      let pick = -1;
      for (let b = 255; b >= 0 && pick < 0; b--) if ((mask[b >>> 5]! >>> (b & 31)) & 1) pick = b;
      assert.ok(pick >= 0, `mask empty at step ${i}`);
      assert.ok(m.accept(pick));
      out.push(pick);
    }
    assert.ok(m.isAccepting());
    const doc = JSON.parse(new TextDecoder().decode(Uint8Array.from(out))) as { name: string; tags: unknown[] };
    assert.equal(doc.name.length, 3);
    assert.deepEqual(doc.tags, []);
    assert.ok(m.budgetShapedOutput);
    m.fillMask(mask);
    assert.deepEqual(
      [...mask].flatMap((w, i) => (w ? [i] : [])),
      [256 >>> 5],
      'only EOS is left',
    );
  });

  it('accept refuses a token that leaves too little budget, and the error stops the matcher', () => {
    const m = new Matcher(compileJsonSchema(schema), byteVocab);
    m.setTokenBudget(25);
    for (const b of encoder.encode('{"name":"')) assert.ok(m.accept(b));
    assert.ok(m.accept(0x61));
    assert.ok(m.accept(0x61));
    assert.ok(m.accept(0x61));
    assert.ok(m.accept(0x61), 'one spare token');
    assert.equal(m.accept(0x61), false);
    assert.match(m.error!.message, /too few tokens/);
  });

  it('a far budget leaves the mask untouched', () => {
    const tok = loadTokenizer('llama3');
    const grammar = compileJsonSchema(schema);
    const [a, b] = [new Matcher(grammar, tok.vocabulary), new Matcher(grammar, tok.vocabulary)];
    b.setTokenBudget(1000);
    const [ma, mb] = [tok.vocabulary.allocateMask(), tok.vocabulary.allocateMask()];
    for (const t of tok.encode('{"name":"hello world')) {
      a.fillMask(ma);
      b.fillMask(mb);
      assert.deepEqual(mb, ma);
      assert.ok(a.accept(t) && b.accept(t));
    }
    assert.equal(b.budgetShapedOutput, false);
  });
});
