import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CompileError, compileJsonSchema, Matcher, type Grammar } from '../../src/structure/index.js';
import { loadTokenizer, type BenchTokenizer } from '../../bench/structure-tokenizers.js';
import { agreed, oraclesFor } from './oracles.js';

const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/maskbench');
/** Schemas spread over the sorted files; each is decoded under several budgets. */
const SAMPLE = 100;
/** Schemas whose shortest completion takes more tokens than this are left out (their runs would take most of the time). */
const MAX_MINIMUM = 400;

/** A small deterministic PRNG (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random tokens under the mask with a token budget: any allowed token is a candidate (EOS half the time once
 * allowed). Returns the text and how it ended; the mask must never be empty.
 */
function decode(
  grammar: Grammar,
  tok: BenchTokenizer,
  budget: number,
  rand: () => number,
): { text: string; byBudget: boolean } {
  const vocab = tok.vocabulary;
  const m = new Matcher(grammar, vocab);
  m.setTokenBudget(budget);
  const mask = vocab.allocateMask();
  const bytes: number[] = [];
  for (let step = 0; step < budget; step++) {
    m.fillMask(mask);
    const allowed: number[] = [];
    for (let w = 0; w < mask.length; w++)
      for (let bits = mask[w]!; bits !== 0; bits &= bits - 1) allowed.push((w * 32 + Math.clz32(bits & -bits)) ^ 31);
    assert.ok(allowed.length > 0, `empty mask at step ${step} of ${budget}: ${m.error?.message ?? ''}`);
    const token = allowed.includes(tok.eos) && rand() < 0.5 ? tok.eos : allowed[Math.floor(rand() * allowed.length)]!;
    assert.ok(m.accept(token), `mask allowed ${token} but accept refused: ${m.error?.message}`);
    if (token === tok.eos)
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes)), byBudget: false };
    bytes.push(...vocab.tokens[token]!);
  }
  assert.ok(m.isAccepting(), 'the budget ran out before the document was complete');
  return { text: new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes)), byBudget: true };
}

describe('token budget on a MaskBench sample (Llama 3 tokens)', () => {
  it(`${SAMPLE} schemas under budgets from their minimum up: every output parses and validates`, async (t) => {
    assert.ok(existsSync(DATA), `MaskBench data expected at ${DATA}`);
    const files = readdirSync(DATA)
      .filter((f) => f.endsWith('.json'))
      .sort();
    const picked = Array.from({ length: SAMPLE }, (_, i) => files[Math.floor(((i + 0.5) * files.length) / SAMPLE)]!);
    const tok = loadTokenizer('llama3');
    const rand = random(13);
    let runs = 0;
    let cut = 0;
    let skipped = 0;
    let unsettled = 0;
    for (const file of picked) {
      const { schema } = JSON.parse(readFileSync(join(DATA, file), 'utf8')) as { schema: unknown };
      let grammar: Grammar;
      try {
        grammar = compileJsonSchema(schema);
      } catch (e) {
        assert.ok(e instanceof CompileError, `${file}: compile threw ${String(e)}`);
        continue;
      }
      const minimum = new Matcher(grammar, tok.vocabulary).shortestCompletion();
      // Infinity: the search gave up (an object whose optional keys combine past its cap) — no budget guarantee.
      if (!Number.isFinite(minimum)) unsettled++;
      if (minimum > MAX_MINIMUM) {
        skipped++;
        continue;
      }
      const oracles = await oraclesFor(schema);
      for (const budget of [minimum, minimum + 1 + Math.floor(rand() * 4), minimum + 8 + Math.floor(rand() * 40)]) {
        const { text, byBudget } = decode(grammar, tok, budget, rand);
        runs++;
        if (byBudget) cut++;
        const doc = JSON.parse(text) as unknown;
        // Both oracles where both compile the schema; a disagreement goes to the spec table (`agreed`).
        const [a, h] = [oracles.ajv?.(doc) ?? null, oracles.hyperjump?.(doc) ?? null];
        const verdict = a !== null && h !== null && a !== h ? agreed(oracles, schema, doc) : (a ?? h);
        assert.notEqual(verdict, false, `${file} (budget ${budget}): the oracles reject ${text}`);
      }
    }
    t.diagnostic(
      `${runs} runs, ${cut} ended by the budget, ${skipped} schemas with a shortest completion over ${MAX_MINIMUM} tokens (${unsettled} unsettled) left out`,
    );
    assert.ok(runs >= SAMPLE * 2, `only ${runs} runs`);
    assert.ok(unsettled <= SAMPLE * 0.05, `${unsettled} schemas without a settled minimum`);
  });
});
