/** Shared helpers for the structure tests: a byte vocabulary and a whole-document check through the mask. */
import {
  compileJsonSchema,
  Matcher,
  Vocabulary,
  type CompileOptions,
  type Grammar,
} from '../../src/structure/index.js';

/** 256 one-byte tokens (id = byte) plus EOS (id 256): every document is reachable, masks are easy to read. */
export const byteVocab = Vocabulary.fromTokenBytes([...Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)), null], {
  eosTokenIds: [256],
  cacheKey: 'test:bytes',
});

const encoder = new TextEncoder();

/** Feeds `text` token by token (checking each against the mask first) and then EOS; true if all accepted. */
export function acceptsThroughMask(grammar: Grammar, tokens: number[], vocab: Vocabulary = byteVocab): boolean {
  const m = new Matcher(grammar, vocab);
  const mask = vocab.allocateMask();
  for (const id of [...tokens, vocab.eosTokenIds[0]!]) {
    m.fillMask(mask);
    const allowed = ((mask[id >>> 5]! >>> (id & 31)) & 1) === 1;
    const accepted = m.accept(id);
    if (allowed !== accepted) throw new Error(`mask and accept disagree on token ${id}`);
    if (!accepted) return false;
  }
  return true;
}

/** Whether the schema's grammar accepts `text` (bytes as tokens), through the mask. */
export function accepts(schema: unknown, text: string, options?: CompileOptions): boolean {
  return acceptsThroughMask(compileJsonSchema(schema, options), Array.from(encoder.encode(text)));
}

/** Token ids allowed by a mask, as readable strings ('EOS' for 256). */
export function allowedBytes(mask: Uint32Array): string[] {
  const out: string[] = [];
  for (let id = 0; id <= 256; id++)
    if ((mask[id >>> 5]! >>> (id & 31)) & 1) out.push(id === 256 ? 'EOS' : String.fromCharCode(id));
  return out;
}
