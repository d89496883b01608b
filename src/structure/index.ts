/**
 * atelier's constrained decoder: JSON Schema (and tool-call specs) → grammar → per-token masks over any vocabulary.
 * Imports nothing outside src/structure and src/util, and no engine.
 *
 * Typical use by the chat layer:
 * ```ts
 * const vocab = Vocabulary.fromByteLevelBpe(tokenStrings, { eosTokenIds: [128009], special: specialIds, cacheKey: 'llama3' });
 * const grammar = compileJsonSchema(schema);            // throws CompileError { keyword, pointer }; cached by hash
 * const matcher = new Matcher(grammar, vocab);
 * const mask = vocab.allocateMask();                    // Uint32Array(ceil(size / 32)), bit id&31 of word id>>>5
 * while (!matcher.isStopped()) {
 *   const forced = matcher.forcedTokens();              // jump-forward: emit without a model step
 *   if (forced.length) { forced.forEach((t) => matcher.accept(t)); continue; }
 *   matcher.fillMask(mask);                             // synchronous; EOS bits set iff the document may end
 *   const token = sample(logits, mask);
 *   if (!matcher.accept(token)) throw matcher.error;    // an error stays set; masks are then empty
 * }
 * ```
 * Grammar guarantees: output is compact JSON (or bounded whitespace with `whitespace: { maxWhitespace }`), strings
 * use JSON.stringify's escaping, declared properties come in schema order (`propertyOrder: 'any'` lifts that).
 * Anything the decoder cannot enforce exactly is a CompileError — never a looser grammar. See docs/structure.md.
 */
export { Vocabulary, type VocabularyOptions } from './vocabulary.js';
export { compileJsonSchema, type CompileOptions } from './compile-json-schema.js';
export { Grammar } from './grammar.js';
export { Matcher } from './matcher.js';
export { embedSchemaAt, escapePointerToken } from './embed-schema.js';
export { CompileError, MatcherError } from './errors.js';
export { MAX_REGEX_WORK, MAX_REQUEST_REGEX_WORK, withRegexBudget } from './regex-budget.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { conformanceMarkdown, conformanceMatrix, type ConformanceRow } from './conformance.js';
export { KEYWORD_TABLE, type KeywordFamily, type KeywordStatus } from './keywords.js';
