import { compileJsonSchema } from './compile-json-schema.js';
import { CompileError } from './errors.js';
import { KEYWORD_TABLE, type KeywordStatus } from './keywords.js';

/** One row of the conformance matrix: a keyword family, its status, and what its probes did. */
export interface ConformanceRow {
  family: string;
  keywords: readonly string[];
  status: KeywordStatus;
  note: string;
  /** Per probe: `compiles`, or `refused: <keyword> at <pointer>: <message>`; `mismatch` marks a probe that did not do what the table says. */
  probes: { outcome: string; mismatch: boolean }[];
}

/**
 * Runs every probe of the keyword table through the compiler: the matrix a user reads before sending a schema,
 * and the check that the table says what the compiler does.
 */
export function conformanceMatrix(): ConformanceRow[] {
  return KEYWORD_TABLE.map((f) => ({
    family: f.family,
    keywords: f.keywords,
    status: f.status,
    note: f.note,
    probes: f.probes.map((p) => {
      try {
        compileJsonSchema(p.schema);
        return { outcome: 'compiles', mismatch: p.expect !== 'compiles' };
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        const named = p.refusedAs === e.keyword || f.keywords.includes(e.keyword);
        return { outcome: `refused: ${e.message}`, mismatch: p.expect !== 'refused' || !named };
      }
    }),
  }));
}

/** The matrix as the Markdown table docs/structure.md carries (between its conformance markers). */
export function conformanceMarkdown(rows: readonly ConformanceRow[] = conformanceMatrix()): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = ['| family | keywords | status | what is enforced / why refused |', '| --- | --- | --- | --- |'];
  for (const r of rows)
    lines.push(
      `| ${cell(r.family)} | ${r.keywords.map((k) => `\`${k}\``).join(' ')} | ${r.status} | ${cell(r.note)} |`,
    );
  return lines.join('\n');
}
