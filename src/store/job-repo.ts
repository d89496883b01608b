import type { SqlDatabase } from './sql-database.js';

/** Lifecycle of a job, with OpenAI fine-tuning's names. */
export type JobStatus = 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A long-running job (a fine-tune, a batch of images) as stored. */
export interface JobRecord {
  /** `ftjob-…` */
  id: string;
  /** What runs it: `fine_tuning`, `images`, … */
  kind: string;
  status: JobStatus;
  /** The base model. */
  model: string;
  /** The model it produced (fine-tunes), once succeeded. */
  resultModel: string | null;
  hyperparameters: Record<string, unknown>;
  /** Everything else the job was created with (training file, suffix, seed, …). */
  params: Record<string, unknown>;
  /** OpenAI-style `{code, message, param}` once failed. */
  error: { code: string; message: string; param: string | null } | null;
  /** Unix seconds. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

/** The fields a job is created with; the rest start empty. */
export type NewJob = Pick<JobRecord, 'id' | 'kind' | 'model' | 'hyperparameters' | 'params'> & {
  status?: JobStatus;
};

/** Fields that may change after creation. */
export type JobPatch = Partial<Pick<JobRecord, 'status' | 'resultModel' | 'error' | 'startedAt' | 'finishedAt'>>;

interface Row {
  seq: number;
  id: string;
  kind: string;
  status: JobStatus;
  model: string;
  result_model: string | null;
  hyperparameters: string;
  params: string;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

function fromRow(row: Row): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    model: row.model,
    resultModel: row.result_model,
    hyperparameters: JSON.parse(row.hyperparameters) as Record<string, unknown>,
    params: JSON.parse(row.params) as Record<string, unknown>,
    error: row.error === null ? null : (JSON.parse(row.error) as JobRecord['error']),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

const now = (): number => Math.floor(Date.now() / 1000);

/** Rows of the `jobs` table. Listing is newest first with cursor pagination on the job id, as OpenAI does. */
export class JobRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Inserts a job (status `queued` unless given) and returns it. */
  create(job: NewJob): JobRecord {
    const t = now();
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, status, model, hyperparameters, params, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        job.id,
        job.kind,
        job.status ?? 'queued',
        job.model,
        JSON.stringify(job.hyperparameters),
        JSON.stringify(job.params),
        t,
        t,
      );
    return this.get(job.id)!;
  }

  /** A job by id, or undefined. */
  get(id: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /**
   * Jobs of one kind, newest first. `after` is a job id: only older jobs are returned. Asks for `limit + 1` rows so
   * callers can report `has_more` without a second query.
   */
  list(kind: string, options: { after?: string; limit?: number } = {}): { data: JobRecord[]; hasMore: boolean } {
    const limit = options.limit ?? 20;
    const rows = this.db
      .prepare(
        `SELECT * FROM jobs WHERE kind = @kind
           AND (CAST(@after AS TEXT) IS NULL OR seq < (SELECT seq FROM jobs WHERE id = @after))
         ORDER BY seq DESC LIMIT @limit`,
      )
      .all({ kind, after: options.after ?? null, limit: limit + 1 }) as Row[];
    return { data: rows.slice(0, limit).map(fromRow), hasMore: rows.length > limit };
  }

  /** Jobs in any of the given statuses, oldest first (what a scheduler resumes after a restart). */
  listByStatus(statuses: JobStatus[]): JobRecord[] {
    const marks = statuses.map(() => '?').join(', ');
    return (
      this.db.prepare(`SELECT * FROM jobs WHERE status IN (${marks}) ORDER BY seq`).all(...statuses) as Row[]
    ).map(fromRow);
  }

  /** How many jobs there are of each kind in each status (for `/metrics`). */
  countByStatus(): { kind: string; status: JobStatus; count: number }[] {
    return this.db
      .prepare('SELECT kind, status, COUNT(*) AS count FROM jobs GROUP BY kind, status ORDER BY kind, status')
      .all() as { kind: string; status: JobStatus; count: number }[];
  }

  /** Applies a patch and returns the updated job; throws if the job does not exist. */
  update(id: string, patch: JobPatch): JobRecord {
    const result = this.db
      .prepare(
        `UPDATE jobs SET
           status = COALESCE(@status, status),
           result_model = CASE WHEN @has_result THEN @result_model ELSE result_model END,
           error = CASE WHEN @has_error THEN @error ELSE error END,
           started_at = COALESCE(@started_at, started_at),
           finished_at = COALESCE(@finished_at, finished_at),
           updated_at = @updated_at
         WHERE id = @id`,
      )
      .run({
        id,
        status: patch.status ?? null,
        has_result: patch.resultModel === undefined ? 0 : 1,
        result_model: patch.resultModel ?? null,
        has_error: patch.error === undefined ? 0 : 1,
        error: patch.error ? JSON.stringify(patch.error) : null,
        started_at: patch.startedAt ?? null,
        finished_at: patch.finishedAt ?? null,
        updated_at: now(),
      });
    if (result.changes === 0) throw new Error(`no job ${id}`);
    return this.get(id)!;
  }

  /**
   * Deletes a job with its events and checkpoint rows (files on disk are the caller's); false when there was none.
   * The child rows go first explicitly rather than through ON DELETE CASCADE alone, so a store opened without
   * foreign-key enforcement keeps no orphans.
   */
  remove(id: string): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM job_events WHERE job_id = ?').run(id);
      this.db.prepare('DELETE FROM checkpoints WHERE job_id = ?').run(id);
      return this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
    });
  }
}
