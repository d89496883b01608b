import { existsSync } from 'node:fs';
import type { FineTuneRunner } from '../../personalize/index.js';
import {
  parseCursorParams,
  parseFineTuningJobCreate,
  type CursorPageWire,
  type DreamboothMethod,
  type FineTuningJobCheckpointWire,
  type FineTuningJobEventWire,
  type FineTuningJobWire,
} from '../../protocol/index.js';
import type { CheckpointRecord, EventRecord, JobRecord } from '../../store/index.js';
import type { RoutePlugin } from '../create-server.js';

/** The `fine_tuning.job` object of a stored job; `estimated_finish` comes from the live worker when running. */
export function jobToWire(job: JobRecord, estimatedFinish: number | null = null): FineTuningJobWire {
  const params = job.params as { training_file?: string; seed?: number; metadata?: Record<string, string> | null };
  const hp = job.hyperparameters as Record<string, unknown>;
  const dreambooth: DreamboothMethod['dreambooth'] = { hyperparameters: hp };
  const instanceFiles = (job.params as { instance_files?: string[] }).instance_files;
  if (instanceFiles && instanceFiles.length > 0) dreambooth.instance_files = instanceFiles;
  return {
    id: job.id,
    object: 'fine_tuning.job',
    created_at: job.createdAt,
    error: job.error,
    fine_tuned_model: job.resultModel,
    finished_at: job.finishedAt,
    hyperparameters: {
      batch_size: typeof hp.batch_size === 'number' ? hp.batch_size : 'auto',
      learning_rate_multiplier: 'auto',
      n_epochs: 'auto',
    },
    model: job.model,
    organization_id: 'org-atelier',
    result_files: [],
    seed: params.seed ?? 0,
    status: job.status,
    trained_tokens: null,
    training_file: params.training_file ?? '',
    validation_file: null,
    estimated_finish: job.status === 'running' ? estimatedFinish : null,
    integrations: null,
    metadata: params.metadata ?? null,
    method: { type: 'dreambooth', dreambooth },
  };
}

/** The `fine_tuning.job.event` object of a stored event. */
export function eventToWire(event: EventRecord): FineTuningJobEventWire {
  return {
    id: event.id,
    object: 'fine_tuning.job.event',
    created_at: event.createdAt,
    level: event.level,
    message: event.message,
    type: event.type === 'metrics' ? 'metrics' : 'message',
    data: event.data ?? {},
  };
}

/** The `fine_tuning.job.checkpoint` object; the checkpoint's name is `<model>:ckpt-step-<n>`. */
export function checkpointToWire(job: JobRecord, checkpoint: CheckpointRecord): FineTuningJobCheckpointWire {
  return {
    id: checkpoint.id,
    object: 'fine_tuning.job.checkpoint',
    created_at: checkpoint.createdAt,
    fine_tuned_model_checkpoint: `${job.resultModel ?? `ft:${job.model}:${job.id}`}:ckpt-step-${checkpoint.step}`,
    fine_tuning_job_id: job.id,
    metrics: checkpoint.metrics,
    step_number: checkpoint.step,
  };
}

function page<T extends { id: string }>(data: T[], hasMore: boolean): CursorPageWire<T> {
  return {
    object: 'list',
    data,
    has_more: hasMore,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
  };
}

/**
 * `/v1/fine_tuning/jobs` in OpenAI's shapes with the `dreambooth` method: create, list (newest first, cursor
 * `after`/`limit`), retrieve, cancel, `/events` (newest first, paginated) and `/checkpoints` (those still on disk,
 * newest first). The runner starts once the server is ready (resuming jobs a previous run left unfinished) and is
 * closed with the server: a running worker saves a checkpoint and its job resumes at the next start.
 */
export function fineTuningJobsRoutes(runner: FineTuneRunner): RoutePlugin {
  return async (app, { store, scrubber }) => {
    // Job errors and events carry what the worker wrote, paths included: clients see their own file names only.
    const live = (job: JobRecord): FineTuningJobWire =>
      jobToWire({ ...job, error: scrubber.json(job.error) }, runner.liveProgress(job.id)?.estimatedFinish);
    const event = (record: EventRecord): FineTuningJobEventWire =>
      eventToWire({ ...record, message: scrubber.text(record.message), data: scrubber.json(record.data) });
    app.addHook('onReady', async () => runner.start());
    app.addHook('onClose', async () => runner.close());
    app.post('/v1/fine_tuning/jobs', async (request) => live(await runner.create(parseFineTuningJobCreate(request.body))));
    app.get('/v1/fine_tuning/jobs', async (request) => {
      const { after, limit } = parseCursorParams(request.query);
      const { data, hasMore } = store.jobs.list('fine_tuning', { after: after ?? undefined, limit });
      return page(data.map(live), hasMore);
    });
    app.get<{ Params: { id: string } }>('/v1/fine_tuning/jobs/:id', async (request) =>
      live(runner.get(request.params.id)),
    );
    app.post<{ Params: { id: string } }>('/v1/fine_tuning/jobs/:id/cancel', async (request) =>
      live(runner.cancel(request.params.id)),
    );
    app.get<{ Params: { id: string } }>('/v1/fine_tuning/jobs/:id/events', async (request) => {
      const job = runner.get(request.params.id);
      const { after, limit } = parseCursorParams(request.query);
      const { data, hasMore } = store.events.list(job.id, { after: after ?? undefined, limit });
      return page(data.map(event), hasMore);
    });
    app.get<{ Params: { id: string } }>('/v1/fine_tuning/jobs/:id/checkpoints', async (request) => {
      const job = runner.get(request.params.id);
      const { after, limit } = parseCursorParams(request.query, 10);
      const kept = store.checkpoints.list(job.id).filter((checkpoint) => existsSync(checkpoint.path));
      const start = after === null ? 0 : kept.findIndex((checkpoint) => checkpoint.id === after) + 1;
      const data = kept.slice(start, start + limit).map((checkpoint) => checkpointToWire(job, checkpoint));
      return page(data, start + limit < kept.length);
    });
  };
}
