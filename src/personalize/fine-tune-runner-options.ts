/** The contract of `FineTuneRunner`: what it is given, and what it tells. */
import type { JobQueue, JobRecord, Store } from '../store/index.js';
import type { WorkerClientOptions, WorkerEvent } from '../worker/index.js';
import type { ModelInstaller } from './fine-tune-output.js';
import type { JudgeFor } from './curation/index.js';

/** How the runner starts workers and registers results. */
export interface FineTuneRunnerOptions {
  store: Store;
  /** Registers finished models (the model registry). */
  installer: ModelInstaller;
  /** Interpreter, extra env and kill grace for workers (defaults: the pinned venv, none, 10 s). */
  worker?: Pick<WorkerClientOptions, 'python' | 'env' | 'killGraceMs'>;
  /** Where worker stderr and stray stdout go; default: dropped (they are in the job's events when they matter). */
  log?: (line: string) => void;
  /**
   * The VLM judge of a named chat model sampling with `seed`, for `method.dreambooth.curation`; none: curation
   * requests get a 400.
   */
  curationJudge?: JudgeFor;
  /**
   * Fleet mode (docs/FLEET.md): jobs go to this shared queue in the transaction that queues them, and this node
   * trains the ones it claims (none with role `api`); without it jobs run here, one at a time.
   */
  queue?: JobQueue;
}

/** The fleet queue fine-tuning jobs travel on. */
export const fineTuningQueue = 'fine_tuning';

/** Live notifications: `event` for every worker event of a job, `status` after each status change. */
export interface FineTuneRunnerEvents {
  event: [jobId: string, event: WorkerEvent];
  status: [job: JobRecord];
  closed: [];
}
