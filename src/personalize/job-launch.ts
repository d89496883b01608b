import { existsSync } from 'node:fs';
import { ApiError } from '../protocol/index.js';
import type { JobRecord, Store } from '../store/index.js';
import {
  PythonEnv,
  WorkerClient,
  WorkerCrashError,
  WorkerError,
  type ResultEvent,
  type WorkerClientOptions,
  type WorkerEvent,
} from '../worker/index.js';
import { claimJob, releaseJob } from './job-owner.js';
import { JobRecorder } from './job-recorder.js';
import { jobWorkerConfig } from './job-request.js';

/** How one job's worker is started and where its output goes. */
export interface JobLaunchOptions {
  /** Interpreter, extra env and kill grace (defaults: the pinned venv, none, 10 s). */
  worker?: Pick<WorkerClientOptions, 'python' | 'env' | 'killGraceMs'>;
  /** Worker stderr and stray stdout, prefixed with the job id; default: dropped. */
  log?: (line: string) => void;
  /** Every typed worker event, after the job's recorder has stored it. */
  onEvent: (event: WorkerEvent) => void;
}

/**
 * A started training worker for one job: the client (its own process), the `train` call in flight, the
 * controller whose abort cancels it, the recorder of its events, and the job's folder.
 */
export interface JobLaunch {
  worker: WorkerClient;
  run: Promise<ResultEvent>;
  abort: AbortController;
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
  const python = options.worker?.python ?? new PythonEnv().python;
  if (!existsSync(python)) {
    const why =
      `the diffusion worker's Python environment is not installed (${python}); \`atelier train\` installs it, and so ` +
      'does `atelier serve` in the background unless started with --no-python';
    return { code: 'worker_unavailable', message: why };
  }
  let launch: ReturnType<typeof jobWorkerConfig>;
  try {
    launch = jobWorkerConfig(store, job);
  } catch (error) {
    return {
      code: error instanceof ApiError ? (error.code ?? 'invalid_request') : 'internal_error',
      message: (error as Error).message,
    };
  }
  const last = store.checkpoints.list(job.id).find((checkpoint) => existsSync(checkpoint.path));
  const recorder = new JobRecorder(store, job.id, last?.step ?? null, launch.maxSteps);
  recorder.message(last ? `Resuming from the checkpoint at step ${last.step}` : 'Fine-tuning job started');
  const worker = new WorkerClient({
    ...options.worker,
    python,
    cwd: launch.paths.root,
    onOutput: (line, stream) => options.log?.(`[${job.id} ${stream}] ${line}`),
  });
  const abort = new AbortController();
  const onEvent = (event: WorkerEvent): void => {
    recorder.record(event);
    options.onEvent(event);
  };
  const run = worker.call('train', { config: launch.config }, { onEvent, signal: abort.signal });
  claimJob(launch.paths.root, worker.pid ?? null);
  return { worker, run, abort, recorder, root: launch.paths.root };
}

/** Cancels a launched `train` call through the worker's own cancel, then closes its process (SIGKILL after the grace). */
export async function stopLaunch(launch: JobLaunch): Promise<void> {
  launch.abort.abort();
  await launch.worker.close();
}

/**
 * Waits for a launched `train` call to settle, then for its process to exit and releases the job folder: a job's
 * status changes only once its worker is gone, so a finished job never has a live one.
 */
export async function settleLaunch(launch: JobLaunch): Promise<{ result: ResultEvent } | { error: unknown }> {
  const settled = await launch.run.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  await launch.worker.close();
  releaseJob(launch.root);
  return settled;
}

/**
 * A failed `train` call as a job error: the worker's code (`invalid_images`, `invalid_config`, ...) or
 * `worker_failed` for anything else, the message followed by one line per problem it listed, and the request field
 * it concerns.
 */
export function workerFailure(error: unknown): { code: string; message: string; param: string | null } {
  if (!(error instanceof WorkerError)) return { code: 'worker_failed', message: String(error), param: null };
  const details = error.details.map((d) => `${d.path}: ${d.message}`);
  const code = error instanceof WorkerCrashError ? 'worker_failed' : error.code;
  const param = code === 'invalid_images' ? 'training_file' : code === 'invalid_config' ? 'method' : null;
  return { code, message: [error.message, ...details].join('\n'), param };
}

/** What a failed `train` call means for its job. */
export type RunOutcome = { kind: 'kept' } | { kind: 'failed'; code: string; message: string; param: string | null };

/**
 * Reads how a `train` call failed: stopped by a shutdown (job stays `running` to be resumed) or by a cancel (job
 * already `cancelled`) → `kept`, with a note on the checkpoint left behind; else the worker's error.
 */
export function failedRunOutcome(
  error: unknown,
  stopping: 'cancel' | 'shutdown' | null,
  cancelled: boolean,
  recorder: JobRecorder,
): RunOutcome {
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
  return { kind: 'failed', ...workerFailure(error) };
}
