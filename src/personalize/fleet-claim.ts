import type { JobRecord, QueuedJob } from '../store/index.js';
import { isTerminal } from './job-state.js';

/** What `runFleetClaim` needs of the runner. */
export interface FleetClaimHooks {
  /** The job as the store has it now (any node may have changed it). */
  get: (id: string) => JobRecord | undefined;
  /** `running` → `queued`, for a job whose node died. */
  requeue: (job: JobRecord) => JobRecord;
  /** A message in the job's events. */
  note: (id: string, message: string) => void;
  /** Trains a queued job on this node until it settles. */
  run: (job: JobRecord) => Promise<void>;
  /** Stops this node's training of `id`, for a cancel seen in the store or this node's shutdown. */
  stop: (id: string, why: 'cancel' | 'shutdown') => void;
}

/**
 * Trains a job this node claimed from the fleet queue. A job found `running` lost its node: it resumes here from the
 * newest checkpoint in the shared job folder. A cancel from any node is seen in the store within a second. If this
 * node stops first, the job stays `running` and the thrown error puts it back in the queue for another node.
 */
export async function runFleetClaim(claimed: QueuedJob, hooks: FleetClaimHooks): Promise<void> {
  const id = String(claimed.data.jobId);
  const job = hooks.get(id);
  if (!job || isTerminal(job.status)) return;
  if (job.status === 'running') hooks.note(id, 'Its node stopped; resuming on another node from the last checkpoint');
  const queued = job.status === 'running' ? hooks.requeue(job) : job;
  claimed.signal.addEventListener('abort', () => hooks.stop(id, 'shutdown'));
  const watch = setInterval(() => hooks.get(id)?.status === 'cancelled' && hooks.stop(id, 'cancel'), 1000);
  try {
    await hooks.run(queued);
  } finally {
    clearInterval(watch);
  }
  if (hooks.get(id)?.status === 'running') throw new Error(`job ${id} paused on this node; back to the queue`);
}
