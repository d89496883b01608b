import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CharDfa } from '../../src/structure/char-dfa.js';
import { foldByClass, plainCodePointTrie, type SymbolTrie } from '../../src/structure/class-trie.js';
import { plainChars } from '../../src/structure/leaf-masks.js';
import { loadTokenizer } from '../../bench/structure-tokenizers.js';

/** The node reached from the root by following `symbols`, or -1. */
function follow(trie: SymbolTrie, symbols: number[]): number {
  let node = 0;
  for (const s of symbols) {
    let c = node + 1;
    while (c < trie.end[node]! && trie.symbol[c] !== s) c = trie.end[c]!;
    if (c >= trie.end[node]!) return -1;
    node = c;
  }
  return node;
}

describe('class tries (Llama 3 vocabulary)', () => {
  const vocab = loadTokenizer('llama3').vocabulary;
  const chars = Int32Array.from(vocab.tokens, (t) => (t ? plainChars(t) : -1));
  const cpt = plainCodePointTrie(vocab, chars);
  const plain = vocab.tokens.flatMap((t, id) => (t && chars[id]! > 0 ? [id] : []));

  it('the code point trie holds every plain token once, at the node its code points lead to', () => {
    assert.equal(cpt.tokenIds.length, plain.length);
    assert.equal(new Set(cpt.tokenIds).size, plain.length);
    for (const id of plain.filter((_, i) => i % 97 === 0)) {
      const node = follow(
        cpt,
        [...Buffer.from(vocab.tokens[id]!).toString('utf8')].map((ch) => ch.codePointAt(0)!),
      );
      assert.ok(node > 0);
      assert.ok(cpt.tokenIds.subarray(cpt.tokenStart[node]!, cpt.tokenStart[node + 1]!).includes(id));
    }
  });

  it('folding by class puts each token at its class sequence, in far fewer nodes', () => {
    const dfa = CharDfa.fromPattern('^(?:\\S+\\s+){0,9}\\S+$', true, 10_000);
    // \S and \s are unions of many code point ranges; ranges in the same sets are one class (surrogates apart).
    assert.equal(dfa.classes.classCount, 3);
    const folded = foldByClass(dfa, cpt)!;
    assert.ok(folded.symbol.length < cpt.symbol.length / 100, `${folded.symbol.length} nodes`);
    assert.equal(folded.tokenIds.length, plain.length);
    for (const id of plain.filter((_, i) => i % 89 === 0)) {
      const classes = [...Buffer.from(vocab.tokens[id]!).toString('utf8')].map((ch) =>
        dfa.classes.classOf(ch.codePointAt(0)!),
      );
      const node = follow(folded, classes);
      assert.ok(
        folded.tokenIds.subarray(folded.tokenStart[node]!, folded.tokenStart[node + 1]!).includes(id),
        `token ${id}`,
      );
    }
  });

  it('a pattern with many literal characters is not folded (it would barely shrink)', () => {
    assert.equal(foldByClass(CharDfa.fromPattern('srn:type:file/[A-Z]+', true, 10_000), cpt), null);
  });
});
