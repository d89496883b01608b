import type { JobStatus } from '../store/index.js';

/**
 * The fine-tuning job state machine (OpenAI's statuses):
 *
 *     validating_files → queued → running → succeeded
 *            │             │         ├───→ failed
 *            └─────────────┴─────────┴───→ cancelled        (and validating_files/queued → failed)
 *
 * `running → queued` is the one backwards edge: a job whose worker was stopped by a server shutdown goes back to the
 * queue and resumes from its last checkpoint. Terminal states never change again.
 */
const transitions: Record<JobStatus, readonly JobStatus[]> = {
  validating_files: ['queued', 'failed', 'cancelled'],
  queued: ['running', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

/** Whether `status` is final (succeeded, failed or cancelled). */
export function isTerminal(status: JobStatus): boolean {
  return transitions[status].length === 0;
}

/** Whether a job may move from `from` to `to`. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return transitions[from].includes(to);
}

/** Throws when `from → to` is not an edge of the state machine: a bug in the runner, never a user error. */
export function assertTransition(jobId: string, from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) throw new Error(`job ${jobId}: illegal status change ${from} → ${to}`);
}
