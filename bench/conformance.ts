/**
 * The decoder's conformance matrix: per JSON Schema keyword family, enforced / partial / refused / annotation with
 * the reason, generated from the compiler's keyword table and checked by running each family's probes.
 *
 *   npm run bench:conformance -- [--json] [--markdown]
 *
 * `--markdown` prints the table docs/structure.md carries; the process exits 1 when a probe disagrees with the table.
 */
import { parseArgs } from 'node:util';
import { conformanceMarkdown, conformanceMatrix } from '../src/structure/index.js';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean', default: false }, markdown: { type: 'boolean', default: false } },
});
const rows = conformanceMatrix();
const mismatches = rows.flatMap((r) => r.probes.filter((p) => p.mismatch).map((p) => `${r.family}: ${p.outcome}`));

if (args.markdown) console.log(conformanceMarkdown(rows));
else {
  const width = Math.max(...rows.map((r) => r.family.length));
  for (const r of rows) {
    console.log(`${r.family.padEnd(width)}  ${r.status.padEnd(10)}  ${r.keywords.join(', ')}`);
    console.log(`${' '.repeat(width)}  ${r.note}`);
    for (const p of r.probes) console.log(`${' '.repeat(width)}    probe ${p.mismatch ? 'MISMATCH ' : ''}${p.outcome}`);
  }
  const count = (s: string) => rows.filter((r) => r.status === s).length;
  console.log(
    `\nfamilies ${rows.length}: enforced ${count('enforced')}, partial ${count('partial')}, refused ${count('refused')}, annotation ${count('annotation')}; probe mismatches ${mismatches.length}`,
  );
}
if (args.json)
  console.log(
    JSON.stringify({
      families: rows.length,
      rows: rows.map((r) => ({ family: r.family, keywords: r.keywords, status: r.status, note: r.note })),
      mismatches,
    }),
  );
if (mismatches.length > 0) {
  console.error(mismatches.join('\n'));
  process.exitCode = 1;
}
