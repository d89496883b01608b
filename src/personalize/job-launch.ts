import { existsSync } from 'node:fs';
import { ApiError } from '../protocol/index.js';
import type { JobRecord, Store } from '../store/index.js';
import { claimJob } from './job-owner.js';
import { JobRecorder } from './job-recorder.js';
import { jobWorkerConfig } from './job-request.js';
import { pythonExecutable } from './python-env.js';
import { WorkerProcess, workerFailure, type WorkerDriverOptions, type WorkerExit } from './worker-driver.js';
import type { WorkerEvent } from './worker-events.js';

/** How one job's worker is started and where its output goes. */
export interface JobLaunchOptions {
  /** Interpreter, extra env and kill grace (defaults: the pinned venv, none, 10 s). */
  worker?: Pick<WorkerDriverOptions, 'python' | 'env' | 'killGraceMs'>;
  /** Worker stderr and stray stdout, prefixed with the job id; default: dropped. */
  log?: (line: string) => void;
  /** Every typed worker event, after the job's recorder has stored it. */
  onEvent: (event: WorkerEvent) => void;
}

/** A started training worker for one job: its process, the recorder of its events, and the job's folder. */
export interface JobLaunch {
  worker: WorkerProcess;
  recorder: JobRecorder;
  root: string;
}

/** Why a job could not be started at all (no Python environment, a config that no longer builds). */
export interface JobLaunchFailure {
  code: string;
  message: string;
}

/**
 * Starts the `train` worker of a `running` job: resumes from its newest checkpoint on disk (the worker picks it
 * up itself, `checkpoint.resume: auto`), records its events, and claims the job folder for this process
 * (`job-owner.ts`) so a restarted server can tell a live driver from a dead one.
 */
export function launchJob(store: Store, job: JobRecord, options: JobLaunchOptions): JobLaunch | JobLaunchFailure {
  const python = options.worker?.python ?? pythonExecutable();
  if (!existsSync(python)) {
    const why = `the diffusion worker's Python environment is not installed (${python}); \`atelier train\` installs it`;
    return { code: 'worker_unavailable', message: why };
  }
  let launch: ReturnType<typeof jobWorkerConfig>;
  try {
    launch = jobWorkerConfig(store, job);
  } catch (error) {
    return { code: error instanceof ApiError ? (error.code ?? 'invalid_request') : 'internal_error', message: (error as Error).message };
  }
  const last = store.checkpoints.list(job.id).find((checkpoint) => existsSync(checkpoint.path));
  const recorder = new JobRecorder(store, job.id, last?.step ?? null, launch.maxSteps);
  recorder.message(last ? `Resuming from the checkpoint at step ${last.step}` : 'Fine-tuning job started');
  // stdin stays open until the worker answers: its end would tell the worker that we are gone and cancel the job.
  const worker = WorkerProcess.start({ cmd: 'train', id: job.id, config: launch.config }, {
    ...options.worker,
    python,
    cwd: launch.paths.root,
    onEvent: (event) => {
      recorder.record(event);
      options.onEvent(event);
    },
    onOutput: (line, stream) => options.log?.(`[${job.id} ${stream}] ${line}`),
  });
  claimJob(launch.paths.root, worker.pid ?? null);
  return { worker, recorder, root: launch.paths.root };
}

/** What a finished worker run means for its job. */
export type RunOutcome =
  | { kind: 'kept' }
  | { kind: 'succeeded' }
  | { kind: 'failed'; code: string; message: string; param: string | null };

/**
 * Reads a worker's exit: stopped by a shutdown (job stays `running` to be resumed) or by a cancel (job already
 * `cancelled`) → `kept`, with a note on the checkpoint left behind; a result → `succeeded`; else the worker's error.
 */
export function runOutcome(exit: WorkerExit, stopping: 'cancel' | 'shutdown' | null, cancelled: boolean, recorder: JobRecorder): RunOutcome {
  const kept = recorder.live.lastCheckpointStep;
  const keptNote = kept === null ? 'no checkpoint was written yet' : `the checkpoint at step ${kept} is kept`;
  if (stopping === 'shutdown') {
    recorder.message(`Training paused by a server shutdown; ${keptNote}`);
    return { kind: 'kept' };
  }
  if (stopping === 'cancel' || cancelled) {
    recorder.message(`The worker stopped; ${keptNote}`);
    return { kind: 'kept' };
  }
  if (exit.code === 0 && exit.result) return { kind: 'succeeded' };
  return { kind: 'failed', ...workerFailure(exit) };
}
