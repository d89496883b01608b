import { EventEmitter } from 'node:events';
import { ApiError, ConflictError, NotFoundError, type FineTuningJobCreate } from '../protocol/index.js';
import type { JobQueue, JobRecord, JobStatus, QueuedJob, Store } from '../store/index.js';
import type { WorkerClientOptions, WorkerEvent } from '../worker/index.js';
import { WorkerConfigSchema } from './config-schema.js';
import type { WorkerConfig } from './dreambooth-config.js';
import { installJobOutput, type ModelInstaller } from './fine-tune-output.js';
import { failedRunOutcome, launchJob, settleLaunch, stopLaunch, type JobLaunch } from './job-launch.js';
import { takeOverJob } from './job-owner.js';
import { JobRecorder, type LiveProgress } from './job-recorder.js';
import {
  checkJobConfig,
  curatedImages,
  curateJob,
  fineTuningKind,
  jobParams,
  jobPaths,
  prepareJob,
  recordCuration,
  subjectSources,
  writeJobPhotos,
} from './job-request.js';
import { assertTransition, isTerminal } from './job-state.js';
import { readSubjectImages, type SubjectImage } from './subject-images.js';
import type { CurationPlan, JudgeFor } from './curation/index.js';

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

interface ActiveRun {
  jobId: string;
  launch: JobLaunch;
  /** Why the worker is being stopped, if it is. */
  stopping: 'cancel' | 'shutdown' | null;
}

const now = (): number => Math.floor(Date.now() / 1000);

/**
 * Runs DreamBooth jobs one at a time (training saturates the accelerator) through the state machine in
 * `job-state.ts`, persisting every step in the store so that a restarted server picks up where it stopped:
 * `start()` re-queues jobs left `running` and the worker resumes them from their newest checkpoint.
 */
export class FineTuneRunner extends EventEmitter<FineTuneRunnerEvents> {
  private readonly queue: string[] = [];
  private active: ActiveRun | null = null;
  private closed = false;
  private started = false;
  private pumping: Promise<void> | null = null;

  private readonly schema: WorkerConfigSchema;

  constructor(private readonly options: FineTuneRunnerOptions) {
    super();
    this.schema = new WorkerConfigSchema(options.worker);
  }

  private get store(): Store {
    return this.options.store;
  }

  /**
   * Picks up unfinished jobs from the store (oldest first) and starts working; jobs another live atelier process is
   * training are left to it. Later calls do nothing.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const fleet = this.options.queue;
    // In a fleet the queue owns unfinished jobs: a job whose node died is handed to another by the heartbeat check.
    if (fleet) return fleet.work((claimed) => this.runClaimed(claimed));
    for (const job of this.store.jobs.listByStatus(['validating_files', 'queued', 'running'])) {
      if (job.kind !== fineTuningKind || this.closed) continue;
      await this.resume(job.id).catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
    }
  }

  /**
   * Validates and creates a job (status `validating_files`), then queues it. Throws OpenAI-shaped 4xx errors for bad
   * requests, including a raw `config` or `fileConfig` (CLI `--config`, layered under the hyperparameters) that
   * breaks the worker's schema. A request with `curation` is curated first, by `plan` when given (an edited plan),
   * else by the configured VLM judge; the plan goes into the job's events.
   */
  async create(request: FineTuningJobCreate, fileConfig: WorkerConfig | null = null, plan: CurationPlan | null = null): Promise<JobRecord> {
    if (this.closed) throw new Error('the fine-tuning runner is closed');
    const prepared = await prepareJob(this.store, request, fileConfig);
    const curated = await curateJob(prepared, request, plan ?? this.options.curationJudge ?? null);
    await checkJobConfig(this.store, this.schema, prepared);
    const job = this.store.jobs.create({
      id: prepared.id,
      kind: fineTuningKind,
      model: prepared.base.name,
      status: 'validating_files',
      hyperparameters: prepared.hyperparameters,
      params: prepared.params as unknown as Record<string, unknown>,
    });
    this.recorder(job.id).message(`Created fine-tuning job: ${job.id}`);
    if (curated) recordCuration(this.recorder(job.id), curated);
    this.validate(job, () => Promise.resolve(prepared.images));
    return job;
  }

  /** A fine-tuning job by id; 404 when there is none. */
  get(id: string): JobRecord {
    const job = this.store.jobs.get(id);
    if (!job || job.kind !== fineTuningKind) {
      throw new NotFoundError(`No such fine-tuning job: ${id}`, { param: 'fine_tuning_job_id', code: 'not_found' });
    }
    return job;
  }

  /** Live progress of the running job, or null when `id` is not running here. */
  liveProgress(id: string): LiveProgress | null {
    return this.active?.jobId === id ? this.active.launch.recorder.live : null;
  }

  /**
   * Cancels a job: it becomes `cancelled` at once; a running `train` call is then cancelled (the worker saves a
   * checkpoint; SIGKILL after the grace period) and its checkpoints are kept. 409 when the job already finished.
   */
  cancel(id: string): JobRecord {
    const job = this.get(id);
    if (isTerminal(job.status)) {
      throw new ConflictError(`Job ${id} has already ${job.status === 'succeeded' ? 'completed' : job.status}.`, {
        param: 'fine_tuning_job_id',
      });
    }
    const cancelled = this.setStatus(job, 'cancelled', { finishedAt: now() });
    this.recorder(id).message('The job was cancelled');
    const index = this.queue.indexOf(id);
    if (index >= 0) this.queue.splice(index, 1);
    if (this.active?.jobId === id) {
      this.active.stopping = 'cancel';
      void stopLaunch(this.active.launch);
    }
    return cancelled;
  }

  /**
   * Queues an unfinished job again: at start-up, or the CLI's `--resume` after a Ctrl-C left it `running`. A worker
   * orphaned by a crashed process is stopped first (`takeOverJob`). 409 when the job already finished or another
   * live atelier process is training it.
   */
  async resume(id: string): Promise<JobRecord> {
    let job = this.get(id);
    if (isTerminal(job.status)) {
      throw new ConflictError(`Job ${id} has already finished (${job.status}); nothing to resume.`, {
        param: 'fine_tuning_job_id',
      });
    }
    if (job.status === 'validating_files') {
      // The photos were only in memory when the process stopped: read them from the uploaded files again.
      this.validate(job, async () => curatedImages(jobParams(job), await readSubjectImages(this.store, subjectSources(jobParams(job)))));
      return job;
    }
    if (job.status === 'running' && this.active?.jobId !== id) {
      if (!(await takeOverJob(jobPaths(this.store, id).root, this.options.worker?.killGraceMs))) {
        throw new ConflictError(`Job ${id} is being trained by another atelier process.`, { param: 'fine_tuning_job_id' });
      }
      job = this.setStatus(this.get(id), 'queued');
      this.recorder(id).message('The job will resume from its last checkpoint');
    }
    if (!this.queue.includes(id) && job.status === 'queued') this.queue.push(id);
    this.pump();
    return job;
  }

  /** Resolves with the job once it reaches a terminal status (or once the runner closes). */
  async wait(id: string): Promise<JobRecord> {
    for (let job = this.get(id); ; job = this.get(id)) {
      if (isTerminal(job.status) || this.closed) return job;
      await new Promise<void>((resolve) => {
        const done = (changed?: JobRecord): void => {
          if (changed && changed.id !== id) return;
          this.off('status', done).off('closed', done);
          resolve();
        };
        this.on('status', done).on('closed', done);
      });
    }
  }

  /** Resolves once no worker is running and nothing is queued (tests; the CLI). */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  /**
   * Stops the runner for a shutdown: the running `train` call is cancelled (the worker saves a checkpoint) and its
   * job stays `running`, so the next `start()` resumes it. Queued jobs stay queued.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.active) {
      this.active.stopping = 'shutdown';
      await stopLaunch(this.active.launch);
    }
    await this.idle();
    this.emit('closed');
  }

  private recorder(jobId: string): JobRecorder {
    return new JobRecorder(this.store, jobId, null);
  }

  private setStatus(job: JobRecord, to: JobStatus, patch: Parameters<Store['jobs']['update']>[1] = {}): JobRecord {
    assertTransition(job.id, job.status, to);
    const updated = this.store.jobs.update(job.id, { ...patch, status: to });
    this.emit('status', updated);
    return updated;
  }

  /**
   * `validating_files` → `queued` (or `failed`): writes the photos where the worker reads them. Deferred to the next
   * turn of the event loop so a create request answers at once, with the job still `validating_files`.
   */
  private validate(job: JobRecord, images: () => Promise<SubjectImage[]>): void {
    const stillValidating = (): boolean => !this.closed && this.get(job.id).status === 'validating_files';
    // Archives are extracted on a worker thread and photos written asynchronously, so this runs across awaits: the
    // job may be cancelled meanwhile, and is then left as it is.
    setImmediate(() => void (async () => {
      if (!stillValidating()) return;
      try {
        const photos = await images();
        if (!stillValidating()) return;
        await writeJobPhotos(jobPaths(this.store, job.id).instanceDir, photos, jobParams(job));
        this.recorder(job.id).message(`Validated training files: ${photos.length} subject photos`, 'info', {
          images: photos.map((image) => image.name),
        });
      } catch (error) {
        const param = error instanceof ApiError ? error.param : null;
        if (stillValidating()) this.fail(job.id, 'invalid_training_file', (error as Error).message, param ?? 'training_file');
        return;
      }
      if (!stillValidating()) return;
      this.enqueue(job.id);
    })());
  }

  /** `validating_files` → `queued`: on this node's queue, or on the fleet's in the same transaction. */
  private enqueue(id: string): void {
    const fleet = this.options.queue;
    if (!fleet) {
      this.setStatus(this.get(id), 'queued');
      this.queue.push(id);
      this.pump();
      return;
    }
    this.store.transaction(() => {
      this.setStatus(this.get(id), 'queued');
      fleet.enqueue(fineTuningQueue, { jobId: id });
    });
  }

  /**
   * Trains a job this node claimed from the fleet queue. A job found `running` lost its node: it resumes here from
   * the newest checkpoint in the shared job folder. A cancel from any node is seen in the store within a second. If
   * this node stops first, the job stays `running` and the thrown error puts it back in the queue for another node.
   */
  private async runClaimed(claimed: QueuedJob): Promise<void> {
    const id = String(claimed.data.jobId);
    const job = this.store.jobs.get(id);
    if (!job || isTerminal(job.status)) return;
    if (job.status === 'running') this.recorder(id).message('Its node stopped; resuming on another node from the last checkpoint');
    const queued = job.status === 'running' ? this.setStatus(job, 'queued') : job;
    const stop = (why: 'cancel' | 'shutdown'): void => {
      if (this.active?.jobId !== id || this.active.stopping) return;
      this.active.stopping = why;
      void stopLaunch(this.active.launch);
    };
    claimed.signal.addEventListener('abort', () => stop('shutdown'));
    const watch = setInterval(() => this.get(id).status === 'cancelled' && stop('cancel'), 1000);
    try {
      await this.run(queued);
    } finally {
      clearInterval(watch);
    }
    if (this.get(id).status === 'running') throw new Error(`job ${id} paused on this node; back to the queue`);
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    const drain = async (): Promise<void> => {
      while (!this.closed && this.queue.length > 0) {
        const id = this.queue.shift()!;
        const job = this.store.jobs.get(id);
        if (job?.status !== 'queued') continue;
        // A bug in one run must not take the server down with an unhandled rejection, nor stall the queue.
        await this.run(job).catch((error: unknown) => {
          process.stderr.write(`atelier: fine-tuning runner error on ${id}: ${(error as Error).stack ?? String(error)}\n`);
          this.fail(id, 'internal_error', 'The fine-tuning runner failed; see the server log.');
        });
      }
    };
    // `.finally` runs after this assignment even when the queue is empty, so `pumping` is never left stale.
    this.pumping = drain().finally(() => {
      this.pumping = null;
      if (!this.closed && this.queue.length > 0) this.pump();
    });
  }

  private async run(queued: JobRecord): Promise<void> {
    const job = this.setStatus(queued, 'running', queued.startedAt === null ? { startedAt: now() } : {});
    const launch = launchJob(this.store, job, { ...this.options, onEvent: (event) => this.emit('event', job.id, event) });
    if (!('worker' in launch)) return this.fail(job.id, launch.code, launch.message);
    const active: ActiveRun = (this.active = { jobId: job.id, launch, stopping: null });
    const settled = await settleLaunch(launch);
    this.active = null;
    const { recorder } = launch;
    if ('error' in settled) {
      const outcome = failedRunOutcome(settled.error, active.stopping, this.get(job.id).status === 'cancelled', recorder);
      if (outcome.kind === 'failed') this.fail(job.id, outcome.code, outcome.message, outcome.param);
      return;
    }
    try {
      const model = installJobOutput(this.store, this.options.installer, job, settled.result);
      recorder.message(`New fine-tuned model created: ${model.name}`, 'info', { model: model.name });
      this.setStatus(this.get(job.id), 'succeeded', { resultModel: model.name, finishedAt: now() });
      recorder.message('The job has successfully completed');
    } catch (error) {
      this.fail(job.id, 'output_invalid', `training finished but its output could not be registered: ${(error as Error).message}`);
    }
  }

  private fail(id: string, code: string, message: string, param: string | null = null): void {
    const job = this.get(id);
    if (isTerminal(job.status)) return;
    this.setStatus(job, 'failed', { error: { code, message, param }, finishedAt: now() });
    this.recorder(id).message(`The job failed: ${message}`, 'error', { code });
  }
}
