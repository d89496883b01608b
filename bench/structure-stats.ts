/** Counters and timing summaries for the structure bench, one instance per engine. */

/** Per-engine tallies over a run. */
export class EngineStats {
  schemas = 0;
  passing = 0;
  compileErrors = 0;
  internalErrors = 0;
  timeouts = 0;
  validRejected = 0;
  schemasWithValidRejected = 0;
  invalidAccepted = 0;
  /** Accepted although ajv says invalid (whatever the data set's label). */
  ajvInvalidAccepted = 0;
  private tbm: number[] = [];
  private ttfm: number[] = [];
  private slowestFirstMask = { ms: -1, schema: '' };
  readonly examples: string[] = [];

  constructor(readonly name: string) {}

  /** Records one mask+accept step, in milliseconds. */
  step(ms: number): void {
    this.tbm.push(ms);
  }

  /** Records one time-to-first-mask (compile + first mask), in milliseconds, of the schema in file `schema`. */
  firstMask(ms: number, schema: string): void {
    this.ttfm.push(ms);
    if (ms > this.slowestFirstMask.ms) this.slowestFirstMask = { ms, schema };
  }

  /** Notes an example of a failure (kept short, first 12). */
  note(text: string): void {
    if (this.examples.length < 12) this.examples.push(text);
  }

  /** The summary the table and the --json line print. */
  summary(): Record<string, number | string> {
    const tbm = Float64Array.from(this.tbm).sort();
    const ttfm = Float64Array.from(this.ttfm).sort();
    const q = (a: Float64Array, p: number): number =>
      a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))]! : NaN;
    const avg = tbm.length ? tbm.reduce((s, v) => s + v, 0) / tbm.length : NaN;
    const us = (ms: number): number => Math.round(ms * 1000 * 10) / 10;
    const ms = (v: number): number => Math.round(v * 100) / 100;
    return {
      engine: this.name,
      schemas: this.schemas,
      passing: this.passing,
      compile_errors: this.compileErrors,
      internal_errors: this.internalErrors,
      timeouts: this.timeouts,
      valid_rejected: this.validRejected,
      schemas_with_valid_rejected: this.schemasWithValidRejected,
      invalid_accepted: this.invalidAccepted,
      ajv_invalid_accepted: this.ajvInvalidAccepted,
      tokens: tbm.length,
      tbm_avg_us: us(avg),
      tbm_p50_us: us(q(tbm, 0.5)),
      tbm_p99_us: us(q(tbm, 0.99)),
      tbm_p999_us: us(q(tbm, 0.999)),
      ttfm_p50_ms: ms(q(ttfm, 0.5)),
      ttfm_p99_ms: ms(q(ttfm, 0.99)),
      ttfm_max_ms: ms(ttfm.length ? ttfm[ttfm.length - 1]! : NaN),
      ttfm_max_schema: this.slowestFirstMask.schema,
    };
  }
}

/** Prints summaries side by side, one row per field. */
export function printTable(rows: Record<string, number | string>[]): void {
  const keys = Object.keys(rows[0]!);
  const width = Math.max(...keys.map((k) => k.length)) + 2;
  for (const k of keys) console.log(k.padEnd(width) + rows.map((r) => String(r[k]).padStart(14)).join(''));
}
