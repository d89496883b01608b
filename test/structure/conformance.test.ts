/**
 * The conformance matrix is generated from the compiler's keyword table: every family's probes must do what the
 * table says (compile, or be refused naming the family's keyword), the table must cover every keyword, and
 * docs/structure.md must carry exactly the generated table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { conformanceMarkdown, conformanceMatrix, KEYWORD_TABLE } from '../../src/structure/index.js';

const DOC = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/structure.md');

describe('conformance matrix', () => {
  it('every probe does what the keyword table says', () => {
    for (const row of conformanceMatrix()) {
      for (const p of row.probes) assert.equal(p.mismatch, false, `${row.family}: ${p.outcome}`);
      if (row.status === 'partial')
        assert.deepEqual(
          new Set(row.probes.map((p) => p.outcome.startsWith('refused'))),
          new Set([false, true]),
          `${row.family}: a partial family shows both sides`,
        );
      if (row.status === 'refused')
        assert.ok(
          row.probes.every((p) => p.outcome.startsWith('refused')),
          row.family,
        );
    }
  });

  it('lists each JSON Schema keyword once', () => {
    const all = KEYWORD_TABLE.flatMap((f) => f.keywords);
    assert.equal(new Set(all).size, all.length);
    for (const k of [
      'type',
      'enum',
      'const',
      'multipleOf',
      'maximum',
      'exclusiveMaximum',
      'minimum',
      'exclusiveMinimum',
      'maxLength',
      'minLength',
      'pattern',
      'format',
      'maxItems',
      'minItems',
      'uniqueItems',
      'items',
      'prefixItems',
      'additionalItems',
      'contains',
      'minContains',
      'maxContains',
      'maxProperties',
      'minProperties',
      'required',
      'properties',
      'patternProperties',
      'additionalProperties',
      'propertyNames',
      'dependencies',
      'dependentRequired',
      'dependentSchemas',
      'allOf',
      'anyOf',
      'oneOf',
      'not',
      'if',
      'then',
      'else',
      '$ref',
      'unevaluatedItems',
      'unevaluatedProperties',
      '$dynamicRef',
      '$recursiveRef',
      '$defs',
      '$anchor',
      '$dynamicAnchor',
    ]) {
      assert.ok(all.includes(k), k);
    }
  });

  it('docs/structure.md carries the generated table', () => {
    const doc = readFileSync(DOC, 'utf8');
    const m = /<!-- conformance:begin -->\n([\s\S]*?)\n<!-- conformance:end -->/.exec(doc);
    assert.ok(m, 'conformance markers in docs/structure.md');
    assert.equal(m[1], conformanceMarkdown(), 'regenerate with npm run bench:conformance -- --markdown');
  });
});
