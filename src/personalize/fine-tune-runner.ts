import { EventEmitter } from 'node:events';
import { ConflictError, NotFoundError, type FineTuningJobCreate } from '../protocol/index.js';
import type { JobRecord, JobStatus, QueuedJob, Store } from '../store/index.js';
import { WorkerConfigSchema } from './config-schema.js';
import type { WorkerConfig } from './dreambooth-config.js';
import { installJobOutput } from './fine-tune-output.js';
import { fineTuningQueue, type FineTuneRunnerEvents, type FineTuneRunnerOptions } from './fine-tune-runner-options.js';
import { validateJobFiles } from './job-validation.js';
import { runFleetClaim } from './fleet-claim.js';
import { failedRunOutcome, launchJob, settleLaunch, stopLaunch, type JobLaunch } from './job-launch.js';
import { takeOverJob } from './job-owner.js';
import { JobRecorder, type LiveProgress } from './job-recorder.js';
import { curatedImages, fineTuningKind, jobParams, jobPaths, subjectSources } from './job-request.js';
import { createJob } from './job-create.js';
import { assertTransition, isTerminal } from './job-state.js';
import { LocalJobQueue } from './local-job-queue.js';
import { readSubjectImages, type SubjectImage } from './subject-images.js';
import type { CurationPlan } from './curation/index.js';

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
  private readonly queue: LocalJobQueue;
  private active: ActiveRun | null = null;
  private closed = false;
  private started = false;

  private readonly schema: WorkerConfigSchema;

  constructor(private readonly options: FineTuneRunnerOptions) {
    super();
    this.schema = new WorkerConfigSchema(options.worker);
    this.queue = new LocalJobQueue(
      async (id) => {
        const job = this.store.jobs.get(id);
        if (job?.status === 'queued') await this.run(job);
      },
      (id, error) => {
        process.stderr.write(
          `atelier: fine-tuning runner error on ${id}: ${(error as Error).stack ?? String(error)}\n`,
        );
        this.fail(id, 'internal_error', 'The fine-tuning runner failed; see the server log.');
      },
      () => this.closed,
    );
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
  async create(
    request: FineTuningJobCreate,
    fileConfig: WorkerConfig | null = null,
    plan: CurationPlan | null = null,
  ): Promise<JobRecord> {
    if (this.closed) throw new Error('the fine-tuning runner is closed');
    const curation = plan ?? this.options.curationJudge ?? null;
    const { job, images } = await createJob(this.store, this.schema, request, fileConfig, curation);
    this.validate(job, () => Promise.resolve(images));
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
    this.queue.remove(id);
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
      this.validate(job, async () =>
        curatedImages(jobParams(job), await readSubjectImages(this.store, subjectSources(jobParams(job)))),
      );
      return job;
    }
    if (job.status === 'running' && this.active?.jobId !== id) {
      if (!(await takeOverJob(jobPaths(this.store, id).root, this.options.worker?.killGraceMs))) {
        throw new ConflictError(`Job ${id} is being trained by another atelier process.`, {
          param: 'fine_tuning_job_id',
        });
      }
      job = this.setStatus(this.get(id), 'queued');
      this.recorder(id).message('The job will resume from its last checkpoint');
    }
    if (job.status === 'queued') this.queue.push(id);
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
    await this.queue.idle();
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

  /** `validating_files` → `queued` (or `failed`), once the photos are written where the worker reads them. */
  private validate(job: JobRecord, images: () => Promise<SubjectImage[]>): void {
    validateJobFiles(this.store, job, images, {
      stillValidating: () => !this.closed && this.get(job.id).status === 'validating_files',
      valid: () => this.enqueue(job.id),
      invalid: (message, param) => this.fail(job.id, 'invalid_training_file', message, param),
    });
  }

  /** `validating_files` → `queued`: on this node's queue, or on the fleet's in the same transaction. */
  private enqueue(id: string): void {
    const fleet = this.options.queue;
    if (!fleet) {
      this.setStatus(this.get(id), 'queued');
      this.queue.push(id);
      return;
    }
    this.store.transaction(() => {
      this.setStatus(this.get(id), 'queued');
      fleet.enqueue(fineTuningQueue, { jobId: id });
    });
  }

  /** Trains a job this node claimed from the fleet queue (fleet-claim.ts). */
  private async runClaimed(claimed: QueuedJob): Promise<void> {
    await runFleetClaim(claimed, {
      get: (id) => this.store.jobs.get(id),
      requeue: (job) => this.setStatus(job, 'queued'),
      note: (id, message) => this.recorder(id).message(message),
      run: (job) => this.run(job),
      stop: (id, why) => {
        if (this.active?.jobId !== id || this.active.stopping) return;
        this.active.stopping = why;
        void stopLaunch(this.active.launch);
      },
    });
  }

  private async run(queued: JobRecord): Promise<void> {
    const job = this.setStatus(queued, 'running', queued.startedAt === null ? { startedAt: now() } : {});
    const launch = launchJob(this.store, job, {
      ...this.options,
      onEvent: (event) => this.emit('event', job.id, event),
    });
    if (!('worker' in launch)) return this.fail(job.id, launch.code, launch.message);
    const active: ActiveRun = (this.active = { jobId: job.id, launch, stopping: null });
    const settled = await settleLaunch(launch);
    this.active = null;
    const { recorder } = launch;
    if ('error' in settled) {
      const outcome = failedRunOutcome(
        settled.error,
        active.stopping,
        this.get(job.id).status === 'cancelled',
        recorder,
      );
      if (outcome.kind === 'failed') this.fail(job.id, outcome.code, outcome.message, outcome.param);
      return;
    }
    try {
      const model = installJobOutput(this.store, this.options.installer, job, settled.result);
      recorder.message(`New fine-tuned model created: ${model.name}`, 'info', { model: model.name });
      // The last event is written before the status flips, so whoever sees `succeeded` (on any node) sees it too.
      recorder.message('The job has successfully completed');
      this.setStatus(this.get(job.id), 'succeeded', { resultModel: model.name, finishedAt: now() });
    } catch (error) {
      this.fail(
        job.id,
        'output_invalid',
        `training finished but its output could not be registered: ${(error as Error).message}`,
      );
    }
  }

  private fail(id: string, code: string, message: string, param: string | null = null): void {
    const job = this.get(id);
    if (isTerminal(job.status)) return;
    this.setStatus(job, 'failed', { error: { code, message, param }, finishedAt: now() });
    this.recorder(id).message(`The job failed: ${message}`, 'error', { code });
  }
}
