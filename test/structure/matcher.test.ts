import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileJsonSchema, Matcher, Vocabulary } from '../../src/structure/index.js';
import { allowedBytes, byteVocab } from './helpers.js';

const schema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, n: { type: 'integer', minimum: 10, maximum: 12 } },
  required: ['ok', 'n'],
  additionalProperties: false,
};

describe('Matcher', () => {
  it('masks exactly the next possible bytes, with EOS only when complete', () => {
    const m = new Matcher(compileJsonSchema(schema), byteVocab);
    const mask = byteVocab.allocateMask();
    m.fillMask(mask);
    assert.deepEqual(allowedBytes(mask), ['{']);
    assert.ok(m.acceptString('{"ok":true,"n":1'));
    m.fillMask(mask);
    assert.deepEqual(allowedBytes(mask), ['0', '1', '2']);
    assert.ok(m.acceptString('2}'));
    m.fillMask(mask);
    assert.deepEqual(allowedBytes(mask), ['EOS']);
    assert.equal(m.isAccepting(), true);
    assert.ok(m.accept(256));
    assert.equal(m.isStopped(), true);
  });

  it('reports forced bytes and jump-forward tokens', () => {
    const m = new Matcher(compileJsonSchema(schema), byteVocab);
    assert.equal(new TextDecoder().decode(m.forcedBytes()), '{"ok":');
    assert.deepEqual(
      m.forcedTokens(),
      [...'{"ok":'].map((c) => c.charCodeAt(0)),
    );
    m.acceptString('{"ok":false,');
    assert.equal(new TextDecoder().decode(m.forcedBytes()), '"n":1');
  });

  it('keeps an error once hit, and empties the mask', () => {
    const m = new Matcher(compileJsonSchema(schema), byteVocab);
    assert.equal(m.accept('['.charCodeAt(0)), false);
    assert.match(m.error!.message, /not allowed/);
    assert.equal(m.accept('{'.charCodeAt(0)), false);
    const mask = byteVocab.allocateMask();
    m.fillMask(mask);
    assert.deepEqual(allowedBytes(mask), []);
    m.reset();
    assert.equal(m.error, undefined);
    assert.ok(m.accept('{'.charCodeAt(0)));
  });

  it('refuses EOS before the end and special tokens inside the document', () => {
    const vocab = Vocabulary.fromTokenBytes([Uint8Array.of(0x31), null, null], { eosTokenIds: [2] });
    const m = new Matcher(compileJsonSchema({ type: 'integer', minimum: 10 }), vocab);
    assert.equal(m.accept(2), false);
    m.reset();
    assert.equal(m.accept(1), false);
    assert.match(m.error!.message, /special token/);
  });

  it('rolls back tokens and EOS', () => {
    const m = new Matcher(compileJsonSchema({ type: 'string', maxLength: 2 }), byteVocab);
    for (const c of '"ab"') m.accept(c.charCodeAt(0));
    m.accept(256);
    assert.equal(m.isStopped(), true);
    m.rollback(3);
    assert.equal(m.isStopped(), false);
    assert.equal(m.consumedBytes, 2);
    assert.ok(m.acceptString('x"'));
    assert.equal(m.isAccepting(), true);
    assert.throws(() => m.rollback(99), RangeError);
  });

  it('checks the mask buffer size', () => {
    const m = new Matcher(compileJsonSchema({ type: 'null' }), byteVocab);
    assert.throws(() => m.fillMask(new Uint32Array(2)), /mask needs 9 words/);
  });
});

describe('Vocabulary', () => {
  it('decodes byte-level BPE strings and SentencePiece pieces', () => {
    const bpe = Vocabulary.fromByteLevelBpe(['Ġhi', 'Ċ', '{"', null], { eosTokenIds: [3] });
    assert.deepEqual([...bpe.tokens[0]!], [0x20, 0x68, 0x69]);
    assert.deepEqual([...bpe.tokens[1]!], [0x0a]);
    const sp = Vocabulary.fromSentencePiece(['<0x0A>', '▁hi', '<s>'], { eosTokenIds: [2], special: [2] });
    assert.deepEqual([...sp.tokens[0]!], [0x0a]);
    assert.deepEqual([...sp.tokens[1]!], [0x20, 0x68, 0x69]);
    assert.equal(sp.tokens[2], null);
    assert.equal(sp.trie.lookup(Uint8Array.of(0x20, 0x68, 0x69)) > 0, true);
  });

  it('rejects bad EOS ids and non-byte-level strings', () => {
    assert.throws(() => Vocabulary.fromTokenBytes([Uint8Array.of(1)], { eosTokenIds: [5] }), /outside the vocabulary/);
    assert.throws(() => Vocabulary.fromTokenBytes([Uint8Array.of(1)], { eosTokenIds: [0] }), /must be a special token/);
    assert.throws(() => Vocabulary.fromByteLevelBpe(['\u4e00'], { eosTokenIds: [] }), /not byte-level BPE/);
  });
});
