import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CompileError, compileJsonSchema } from '../../src/structure/index.js';
import { loadTokenizer } from '../../bench/structure-tokenizers.js';
import { acceptsThroughMask } from './helpers.js';
import { agreed, oraclesFor } from './oracles.js';

const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data/maskbench');
/** A fixed spread over the sorted files (every split represented); the full set runs in `npm run bench:structure`. */
const SAMPLE = 240;

/**
 * MaskBench correctness on a deterministic sample with the real Llama 3 tokenizer: each schema compiles or raises
 * CompileError; an instance the grammar accepts (token by token under the mask, then EOS) is never one that is
 * labelled invalid, and both oracles (ajv and hyperjump, the spec table where they disagree) agree it is valid.
 */
describe('MaskBench sample (Llama 3 tokens)', () => {
  it(`${SAMPLE} schemas: no invalid instance accepted, every accepted instance valid for both oracles`, async (t) => {
    assert.ok(existsSync(DATA), `MaskBench data expected at ${DATA}`);
    const files = readdirSync(DATA)
      .filter((f) => f.endsWith('.json'))
      .sort();
    const picked = Array.from({ length: SAMPLE }, (_, i) => files[Math.floor((i * files.length) / SAMPLE)]!);
    const tok = loadTokenizer('llama3');
    let compiled = 0;
    let validAccepted = 0;
    let validRejected = 0;
    let invalidRejected = 0;
    for (const file of picked) {
      const c = JSON.parse(readFileSync(join(DATA, file), 'utf8')) as {
        schema: unknown;
        tests: { valid: boolean; data: unknown }[];
      };
      let grammar;
      try {
        grammar = compileJsonSchema(c.schema, { propertyOrder: 'any' });
      } catch (e) {
        assert.ok(e instanceof CompileError, `${file}: compile threw ${String(e)}`);
        continue;
      }
      compiled++;
      const oracles = await oraclesFor(c.schema);
      c.tests.forEach((test, i) => {
        const accepted = acceptsThroughMask(grammar, tok.encode(JSON.stringify(test.data)), tok.vocabulary);
        if (accepted) {
          assert.ok(test.valid, `${file} #${i}: accepted an instance labelled invalid`);
          assert.notEqual(
            agreed(oracles, c.schema, test.data),
            false,
            `${file} #${i}: accepted an instance the oracles reject`,
          );
          validAccepted++;
        } else if (test.valid) validRejected++;
        else invalidRejected++;
      });
    }
    t.diagnostic(
      `compiled ${compiled}/${SAMPLE}, valid accepted ${validAccepted}, valid rejected ${validRejected}, invalid rejected ${invalidRejected}`,
    );
    assert.ok(compiled >= SAMPLE * 0.6, `only ${compiled} of ${SAMPLE} schemas compiled`);
  });
});
