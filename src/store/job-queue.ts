/**
 * The fleet's job queue: pg-boss on the store's PostgreSQL. Why pg-boss (10.x, the line whose engines take Node 20;
 * graphile-worker 0.18 needs Node 22): its `fetch` claims with `FOR UPDATE SKIP LOCKED`, its `fail` re-queues a job
 * within a retry limit, and `send` takes a caller's connection (`db.executeSql`), which is what lets a job be enqueued
 * in the same transaction that records it. Its one missing piece is liveness of the claimer (an active job only
 * expires after `expireInSeconds`): nodes heartbeat in `fleet_nodes`, record what they run in `fleet_runs`, and every
 * node re-queues the runs of nodes whose heartbeat went stale. Cancels travel the same way: a flag on the run that the
 * running node reads on its next heartbeat.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { newId } from '../util/index.js';
import { FleetRepo, type FleetNode, type FleetRun, type NodeRole } from './fleet-repo.js';
import type { Store } from './open-store.js';
import { PostgresDatabase } from './postgres-database.js';

/** How a node joins the queue. */
export interface JobQueueOptions {
  /** The store, on PostgreSQL (the queue's tables live beside the store's, in schema `pgboss`). */
  store: Store;
  databaseUrl: string;
  role: NodeRole;
  /** Queues this node can run; a worker claims only from these. */
  capabilities: string[];
  /** Every queue of the fleet (created at start so any node can enqueue into any of them). */
  queues: string[];
  /** Heartbeat period; default 2000 ms. */
  heartbeatMs?: number;
  /** A node silent this long has lost its runs to the others; default 15 000 ms (several missed heartbeats). */
  staleMs?: number;
  /** Idle claim polling period; default 500 ms. */
  pollMs?: number;
  /** How often one job may be re-queued after losing its node; default 5. */
  retryLimit?: number;
  /** Where queue errors go; default stderr. */
  log?: (line: string) => void;
}

/** A claimed job handed to this node's handler. `signal` aborts on a cancel from any node or on `close()`. */
export interface QueuedJob {
  queueJobId: string;
  queue: string;
  data: Record<string, unknown>;
  signal: AbortSignal;
}

/** Runs one claimed job; resolving completes it, throwing fails it (re-queued within the retry limit). */
export type QueueHandler = (job: QueuedJob) => Promise<void>;

/** One node's membership of the fleet queue. Create with `JobQueue.start`, leave with `close`. */
export class JobQueue {
  /** This process's node id (`node-…`). */
  readonly nodeId = newId('node');
  private readonly fleet: FleetRepo;
  private readonly db: PostgresDatabase;
  private readonly startedAt = Date.now();
  private readonly running = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly boss: PgBoss,
    private readonly options: JobQueueOptions,
  ) {
    if (!(options.store.db instanceof PostgresDatabase)) {
      throw new Error('the job queue needs the store on PostgreSQL (ATELIER_DATABASE_URL)');
    }
    this.db = options.store.db;
    this.fleet = new FleetRepo(this.db);
  }

  /** Starts pg-boss (creating its schema on first use), makes the queues and registers this node. */
  static async start(options: JobQueueOptions): Promise<JobQueue> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    // No pg-boss supervision: its expiry fails any job active longer than a fixed time (at most 24 h), which would
    // hand a long training run to a second node while the first still trains. Liveness is the heartbeat's job here.
    const boss = new PgBoss({ connectionString: options.databaseUrl, max: 3, schedule: false, supervise: false });
    boss.on('error', (error) => log(`job queue: ${error.message}`));
    await boss.start();
    const queue = new JobQueue(boss, options);
    for (const name of options.queues) {
      // Nodes starting together may race to create a queue: only a queue still missing after an error is one.
      await boss
        .createQueue(name, { name, retryLimit: options.retryLimit ?? 5, retryDelay: 0 })
        .catch(async (error: Error) => {
          if (!(await boss.getQueue(name))) throw error;
        });
    }
    queue.tick();
    queue.timer = setInterval(() => queue.tick(), options.heartbeatMs ?? 2000);
    return queue;
  }

  /**
   * Enqueues `data` on `queue` through the store's own connection, so inside `store.transaction` the queue row commits
   * or rolls back with the rows that record the job. Returns the queue job id.
   */
  enqueue(queue: string, data: Record<string, unknown>): string {
    const id = randomUUID();
    let failure: unknown = null;
    let inserted = 0;
    // pg-boss calls executeSql synchronously from send(): this runs the INSERT now, in the caller's transaction.
    const db = {
      executeSql: (text: string, values: unknown[]) => {
        try {
          const rows = this.db.rawQuery(text, values);
          inserted = rows.length;
          return Promise.resolve({ rows });
        } catch (error) {
          failure = error;
          return Promise.reject(error as Error);
        }
      },
    };
    this.boss.send(queue, data, { id, db }).catch(() => undefined);
    if (failure) throw failure as Error;
    // The INSERT selects the queue's policy: no row back means no such queue.
    if (inserted === 0) throw new Error(`no job queue named '${queue}'`);
    return id;
  }

  /** Asks whichever node runs the job to stop it and marks it cancelled in the queue (a waiting job never starts). */
  async cancel(queue: string, queueJobId: string): Promise<void> {
    this.fleet.requestCancel(queueJobId);
    await this.boss.cancel(queue, queueJobId);
  }

  /** Starts claiming jobs from this node's capable queues, one at a time (training saturates a machine). */
  work(handler: QueueHandler): void {
    if (this.loop || this.options.role === 'api') return;
    this.loop = this.claimLoop(handler);
  }

  private async claimLoop(handler: QueueHandler): Promise<void> {
    while (!this.closed) {
      let claimed = false;
      for (const queue of this.options.capabilities) {
        const [job] = await this.boss.fetch<Record<string, unknown>>(queue, { batchSize: 1 });
        if (!job) continue;
        claimed = true;
        await this.run(queue, job.id, job.data ?? {}, handler);
        break;
      }
      if (!claimed && !this.closed) await sleep(this.options.pollMs ?? 500);
    }
  }

  private async run(
    queue: string,
    queueJobId: string,
    data: Record<string, unknown>,
    handler: QueueHandler,
  ): Promise<void> {
    const controller = new AbortController();
    this.fleet.addRun({ queueJobId, queue, node: this.nodeId, data, startedAt: Date.now() });
    this.running.set(queueJobId, controller);
    let error: unknown = null;
    try {
      await handler({ queueJobId, queue, data, signal: controller.signal });
    } catch (caught) {
      error = caught;
    }
    this.running.delete(queueJobId);
    // Only the holder of the run row settles the job: a supervisor that took it away (this node looked dead) has
    // already re-queued it, and a cancelled job stays cancelled.
    const held = this.fleet.releaseRun(queueJobId, this.nodeId);
    if (!held) return;
    // A failed run goes back to the queue within the retry limit (a close() of this node included: another node
    // resumes it); a cancelled one stays cancelled, as pg-boss's fail leaves settled states alone.
    if (error === null) await this.boss.complete(queue, queueJobId);
    else await this.boss.fail(queue, queueJobId, { message: String((error as Error)?.message ?? error) });
  }

  /** The fleet as the store sees it: nodes with their heartbeats, and which node runs which queue job. */
  snapshot(): { nodes: FleetNode[]; runs: FleetRun[] } {
    return { nodes: this.fleet.nodes(), runs: this.fleet.runs() };
  }

  /** Heartbeat, cancels for this node's runs, and re-queueing the runs of nodes that went silent. */
  private tick(): void {
    if (this.closed) return;
    const { role, capabilities } = this.options;
    this.fleet.beat({ id: this.nodeId, role, capabilities, pid: process.pid, startedAt: this.startedAt });
    for (const run of this.fleet.runs(this.nodeId)) {
      if (run.cancelRequested) this.running.get(run.queueJobId)?.abort(new Error('cancelled'));
    }
    for (const run of this.fleet.orphanedRuns(Date.now() - (this.options.staleMs ?? 15_000))) {
      if (!this.fleet.releaseRun(run.queueJobId, run.node)) continue;
      this.boss
        .fail(run.queue, run.queueJobId, { message: `node ${run.node} stopped heartbeating` })
        .catch((error: Error) => (this.options.log ?? console.error)(`job queue: ${error.message}`));
    }
  }

  /** Stops claiming, stops this node's running job (it goes back to the queue) and leaves the fleet. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const controller of this.running.values()) controller.abort(new Error('node shut down'));
    await this.loop;
    this.fleet.removeNode(this.nodeId);
    await this.boss.stop({ graceful: false, wait: true });
  }
}
