import type { ErrorEvent, WorkerProblem } from './worker-events.js';

/**
 * A worker call failed. `code` is the worker's own (`invalid_config`, `invalid_images`, `invalid_params`,
 * `invalid_model`, `internal_error`, …, python/atelier_diffusion/protocol.py) or one of the subclasses' codes below;
 * `details` lists every problem the worker found (a config key or an image file, and why).
 */
export class WorkerError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details: readonly WorkerProblem[] = [],
  ) {
    super(message);
    this.name = 'WorkerError';
  }

  /** The error for a worker's `error` line: WorkerCancelledError for code `cancelled`, else a WorkerError. */
  static fromEvent(event: ErrorEvent): WorkerError {
    if (event.code === 'cancelled') return new WorkerCancelledError(event.message);
    return new WorkerError(event.message, event.code ?? 'internal_error', event.details);
  }
}

/** The call was cancelled (its abort signal fired): the worker stopped it, keeping what it had saved. */
export class WorkerCancelledError extends WorkerError {
  constructor(message: string) {
    super(message, 'cancelled');
    this.name = 'WorkerCancelledError';
  }
}

/**
 * The worker process could not start or died with the call in flight (code `worker_crashed`). The message ends
 * with the last stderr lines (the traceback); the next call starts a fresh process.
 */
export class WorkerCrashError extends WorkerError {
  constructor(
    message: string,
    /** Exit status, or null when killed by a signal or never started. */
    readonly exitCode: number | null,
    /** The signal that ended it, or null. */
    readonly signal: NodeJS.Signals | null,
    /** The last bytes of its stderr (up to 16 KiB). */
    readonly stderrTail: string,
  ) {
    super(message, 'worker_crashed');
    this.name = 'WorkerCrashError';
  }
}

/** The client was closed before or while the call ran (code `worker_closed`). */
export class WorkerClosedError extends WorkerError {
  constructor(message = 'the diffusion worker is shut down') {
    super(message, 'worker_closed');
    this.name = 'WorkerClosedError';
  }
}
