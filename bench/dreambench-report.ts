// DreamBench-mini tables (shaped like the DreamBooth paper's Table 1 and Table 3), target checks, and the record
// written into docs/BENCHMARKS.md. Pure formatting: every number comes from the Python scorer's JSON.
import { readFileSync, writeFileSync } from 'node:fs';

/** The four metrics of one model, averaged over subjects (null where a metric had no prompts). */
export interface Metrics {
  subject_fidelity: number | null;
  prompt_fidelity: number | null;
  class_drift: number | null;
  diversity: number | null;
}

/** Variants the benchmark compares, in table order, with the names the tables print. */
export const variantLabels: Record<string, string> = {
  base: 'Base model (no fine-tuning)',
  dreambooth: 'DreamBooth (full, prior preservation)',
  dreambooth_no_prior: 'DreamBooth (full, no prior preservation)',
  lora: 'DreamBooth LoRA (prior preservation)',
};

/** One target of issue 7 and whether this run met it. */
export interface TargetCheck {
  name: string;
  measured: string;
  met: boolean;
}

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : value.toFixed(3);
}

function table(head: string[], rows: string[][]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  return [...lines, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** Table 1: subject fidelity (paper: DINO, CLIP-I) and prompt fidelity (CLIP-T) for base, DreamBooth and LoRA. */
export function table1(means: Record<string, Metrics>): string {
  const rows = ['base', 'dreambooth', 'lora']
    .filter((v) => means[v])
    .map((v) => [variantLabels[v] ?? v, fmt(means[v]?.subject_fidelity), fmt(means[v]?.prompt_fidelity)]);
  return table(['Method', 'Subject fidelity ↑', 'Prompt fidelity ↑'], rows);
}

/** Table 3: drift (PRES) and diversity (DIV) with and without prior preservation, with the fidelities beside. */
export function table3(means: Record<string, Metrics>): string {
  const rows = ['dreambooth', 'dreambooth_no_prior', 'base']
    .filter((v) => means[v])
    .map((v) => [
      variantLabels[v] ?? v,
      fmt(means[v]?.class_drift),
      fmt(means[v]?.diversity),
      fmt(means[v]?.subject_fidelity),
      fmt(means[v]?.prompt_fidelity),
    ]);
  return table(['Method', 'PRES (drift) ↓', 'DIV ↑', 'Subject fidelity ↑', 'Prompt fidelity ↑'], rows);
}

/** The issue's targets, checked on this run's means and total seconds (with a cached base model). */
export function checkTargets(means: Record<string, Metrics>, benchSeconds: number): TargetCheck[] {
  const base = means.base;
  const db = means.dreambooth;
  const noPrior = means.dreambooth_no_prior;
  const out: TargetCheck[] = [];
  if (base && db) {
    const b = base.subject_fidelity ?? 0;
    const d = db.subject_fidelity ?? 0;
    out.push({
      name: 'DreamBooth subject fidelity ≥ 3× base',
      measured: `${fmt(d)} vs ${fmt(b)} (${b > 0 ? `${(d / b).toFixed(1)}×` : d > 0 ? 'base 0' : 'both 0'})`,
      met: d > 0 && d >= 3 * b,
    });
    const bp = base.prompt_fidelity ?? 0;
    const dp = db.prompt_fidelity ?? 0;
    out.push({
      name: 'prompt fidelity within 10 % of base',
      measured: `${fmt(dp)} vs ${fmt(bp)}`,
      met: dp >= 0.9 * bp,
    });
  }
  if (db && noPrior) {
    out.push({
      name: 'prior preservation lowers drift (PRES)',
      measured: `${fmt(noPrior.class_drift)} → ${fmt(db.class_drift)}`,
      met: (db.class_drift ?? 1) < (noPrior.class_drift ?? 0),
    });
    out.push({
      name: 'prior preservation keeps diversity (DIV)',
      measured: `${fmt(noPrior.diversity)} → ${fmt(db.diversity)}`,
      met: (db.diversity ?? 0) >= (noPrior.diversity ?? 1),
    });
  }
  out.push({
    name: 'whole benchmark ≤ 15 min (base cached)',
    measured: `${(benchSeconds / 60).toFixed(1)} min`,
    met: benchSeconds <= 900,
  });
  return out;
}

/** Target checks as a table. */
export function targetTable(checks: TargetCheck[]): string {
  return table(
    ['Target (issue 7)', 'Measured', 'Met'],
    checks.map((c) => [c.name, c.measured, c.met ? 'yes' : 'no']),
  );
}

const startMark = '<!-- dreambench:start -->';
const endMark = '<!-- dreambench:end -->';

/**
 * Replaces the DreamBench-mini section of `docs/BENCHMARKS.md` (between its markers) with `body`, or appends it.
 * Only this section is touched: other benchmarks own the rest of the file.
 */
export function recordSection(path: string, body: string): void {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    text = '# Benchmarks\n';
  }
  const section = `${startMark}\n${body.trim()}\n${endMark}`;
  const start = text.indexOf(startMark);
  const end = text.indexOf(endMark);
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + section + text.slice(end + endMark.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
