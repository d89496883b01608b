import type { SqlDatabase } from './sql-database.js';

/** What a node does: serve the API, run queued jobs, or both (`atelier serve --role`). */
export type NodeRole = 'api' | 'worker' | 'all';

/** A node of the fleet as it last reported itself. Times are Unix milliseconds (heartbeats come every few seconds). */
export interface FleetNode {
  /** `node-…`, new for every process. */
  id: string;
  role: NodeRole;
  /** The queues this node can run (`fine_tuning:cpu`, `fine_tuning:cuda`, …). */
  capabilities: string[];
  pid: number;
  startedAt: number;
  heartbeatAt: number;
}

/** A queued job a node has claimed and is running. */
export interface FleetRun {
  /** The queue's job id (pg-boss). */
  queueJobId: string;
  queue: string;
  /** The node running it. */
  node: string;
  data: Record<string, unknown>;
  startedAt: number;
  cancelRequested: boolean;
}

interface RunRow {
  queue_job_id: string;
  queue: string;
  node: string;
  data: string;
  started_at: number;
  cancel_requested: number;
}

const runOf = (row: RunRow): FleetRun => ({
  queueJobId: row.queue_job_id,
  queue: row.queue,
  node: row.node,
  data: JSON.parse(row.data) as Record<string, unknown>,
  startedAt: row.started_at,
  cancelRequested: row.cancel_requested !== 0,
});

/** Rows of `fleet_nodes` and `fleet_runs`: who is alive, and who runs what. */
export class FleetRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Records (or refreshes) a node and its heartbeat. */
  beat(node: Omit<FleetNode, 'heartbeatAt'>, at = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO fleet_nodes (id, role, capabilities, pid, started_at, heartbeat_at)
         VALUES (@id, @role, @capabilities, @pid, @startedAt, @at)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      )
      .run({ ...node, capabilities: JSON.stringify(node.capabilities), at });
  }

  /** Every node, newest heartbeat first. */
  nodes(): FleetNode[] {
    const rows = this.db.prepare('SELECT * FROM fleet_nodes ORDER BY heartbeat_at DESC, id').all() as {
      id: string;
      role: NodeRole;
      capabilities: string;
      pid: number;
      started_at: number;
      heartbeat_at: number;
    }[];
    return rows.map((row) => ({
      id: row.id,
      role: row.role,
      capabilities: JSON.parse(row.capabilities) as string[],
      pid: row.pid,
      startedAt: row.started_at,
      heartbeatAt: row.heartbeat_at,
    }));
  }

  /** Removes a node that stopped cleanly. */
  removeNode(id: string): void {
    this.db.prepare('DELETE FROM fleet_nodes WHERE id = ?').run(id);
  }

  /** Records that `run.node` holds a claimed queue job. */
  addRun(run: Omit<FleetRun, 'cancelRequested'>): void {
    this.db
      .prepare('INSERT INTO fleet_runs (queue_job_id, queue, node, data, started_at) VALUES (?, ?, ?, ?, ?)')
      .run(run.queueJobId, run.queue, run.node, JSON.stringify(run.data), run.startedAt);
  }

  /** Every run, or one node's. */
  runs(node?: string): FleetRun[] {
    const rows = this.db
      .prepare('SELECT * FROM fleet_runs WHERE CAST(? AS TEXT) IS NULL OR node = ? ORDER BY started_at')
      .all(node ?? null, node ?? null) as RunRow[];
    return rows.map(runOf);
  }

  /**
   * Ends `node`'s hold on a run; false when it no longer held it (another node's supervisor took it away). The one
   * that deletes the row is the one that may settle the queue job, so a job is settled once.
   */
  releaseRun(queueJobId: string, node: string): boolean {
    return (
      this.db.prepare('DELETE FROM fleet_runs WHERE queue_job_id = ? AND node = ?').run(queueJobId, node).changes > 0
    );
  }

  /** Asks the node running a queue job to stop it; false when no node runs it. */
  requestCancel(queueJobId: string): boolean {
    return (
      this.db.prepare('UPDATE fleet_runs SET cancel_requested = 1 WHERE queue_job_id = ?').run(queueJobId).changes > 0
    );
  }

  /** Runs held by nodes whose last heartbeat is older than `before` (or that have no node row any more). */
  orphanedRuns(before: number): FleetRun[] {
    const rows = this.db
      .prepare(
        `SELECT r.* FROM fleet_runs r LEFT JOIN fleet_nodes n ON n.id = r.node
         WHERE n.id IS NULL OR n.heartbeat_at < ? ORDER BY r.started_at`,
      )
      .all(before) as RunRow[];
    return rows.map(runOf);
  }
}
