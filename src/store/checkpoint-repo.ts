import type { SqlDatabase } from './sql-database.js';
import { newId } from '../util/index.js';

/** A saved training checkpoint of a job. */
export interface CheckpointRecord {
  /** `ftckpt-…` */
  id: string;
  jobId: string;
  /** Optimizer step the checkpoint was taken at. */
  step: number;
  /** Absolute path of the checkpoint file or folder. */
  path: string;
  /** Metrics at that step (train loss, …). */
  metrics: Record<string, number>;
  /** Unix seconds. */
  createdAt: number;
}

interface Row {
  id: string;
  job_id: string;
  step: number;
  path: string;
  metrics: string;
  created_at: number;
}

function fromRow(row: Row): CheckpointRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    step: row.step,
    path: row.path,
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    createdAt: row.created_at,
  };
}

/** Rows of `checkpoints`. */
export class CheckpointRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Records a checkpoint and returns it. */
  add(checkpoint: Omit<CheckpointRecord, 'id' | 'createdAt'>): CheckpointRecord {
    const record: CheckpointRecord = { ...checkpoint, id: newId('ftckpt'), createdAt: Math.floor(Date.now() / 1000) };
    this.db
      .prepare('INSERT INTO checkpoints (id, job_id, step, path, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(record.id, record.jobId, record.step, record.path, JSON.stringify(record.metrics), record.createdAt);
    return record;
  }

  /** A job's checkpoints, newest step first. */
  list(jobId: string): CheckpointRecord[] {
    return (
      this.db.prepare('SELECT * FROM checkpoints WHERE job_id = ? ORDER BY step DESC, seq DESC').all(jobId) as Row[]
    ).map(fromRow);
  }
}
