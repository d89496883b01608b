import type { SqlDatabase } from './sql-database.js';
import { newId } from '../util/index.js';

/** One line of a job's log, as stored. `seq` increases strictly in insertion order across all jobs. */
export interface EventRecord {
  seq: number;
  /** `ftevent-…` */
  id: string;
  jobId: string;
  level: 'info' | 'warn' | 'error';
  /** `message` or `metrics` (OpenAI's event types). */
  type: string;
  message: string;
  data: Record<string, unknown> | null;
  /** Unix seconds. */
  createdAt: number;
}

/** What a caller provides to append an event. */
export type NewEvent = Pick<EventRecord, 'jobId' | 'level' | 'message'> & {
  type?: string;
  data?: Record<string, unknown> | null;
};

interface Row {
  seq: number;
  id: string;
  job_id: string;
  level: EventRecord['level'];
  type: string;
  message: string;
  data: string | null;
  created_at: number;
}

function fromRow(row: Row): EventRecord {
  return {
    seq: row.seq,
    id: row.id,
    jobId: row.job_id,
    level: row.level,
    type: row.type,
    message: row.message,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    createdAt: row.created_at,
  };
}

/** Rows of `job_events`. */
export class EventRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Appends an event and returns it with its id and sequence number. */
  append(event: NewEvent): EventRecord {
    const id = newId('ftevent');
    this.db
      .prepare(
        `INSERT INTO job_events (id, job_id, level, type, message, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        event.jobId,
        event.level,
        event.type ?? 'message',
        event.message,
        event.data ? JSON.stringify(event.data) : null,
        Math.floor(Date.now() / 1000),
      );
    // Read back by the id just made (not SQLite's last rowid, which PostgreSQL has no equivalent of).
    return fromRow(this.db.prepare('SELECT * FROM job_events WHERE id = ?').get(id) as Row);
  }

  /**
   * A job's events newest first, as OpenAI's list-events endpoint returns them. `after` is an event id: only events
   * older than it are returned (the next page). `hasMore` says whether older events remain.
   */
  list(jobId: string, options: { after?: string; limit?: number } = {}): { data: EventRecord[]; hasMore: boolean } {
    const limit = options.limit ?? 20;
    const rows = this.db
      .prepare(
        `SELECT * FROM job_events WHERE job_id = @job
           AND (CAST(@after AS TEXT) IS NULL OR seq < (SELECT seq FROM job_events WHERE id = @after))
         ORDER BY seq DESC LIMIT @limit`,
      )
      .all({ job: jobId, after: options.after ?? null, limit: limit + 1 }) as Row[];
    return { data: rows.slice(0, limit).map(fromRow), hasMore: rows.length > limit };
  }

  /** A job's events with `seq > afterSeq`, oldest first: what a live follower polls for. */
  since(jobId: string, afterSeq = 0): EventRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq')
        .all(jobId, afterSeq) as Row[]
    ).map(fromRow);
  }
}
