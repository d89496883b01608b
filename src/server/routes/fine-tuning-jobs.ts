import { existsSync } from 'node:fs';
import { checkpointModelName } from '../../models/index.js';
import { dreamboothJob, learningReport, type FineTuneRunner } from '../../personalize/index.js';
import {
  cursorPage,
  fineTuningCheckpointToWire,
  fineTuningEventToWire,
  fineTuningJobToWire,
  fineTuningReportToWire,
  pageOf,
  parseCursorParams,
  parseFineTuningJobCreate,
  type FineTuningJobEventWire,
  type FineTuningJobWire,
} from '../../protocol/index.js';
import type { EventRecord, JobRecord } from '../../store/index.js';
import type { RoutePlugin } from '../create-server.js';

/**
 * `/v1/fine_tuning/jobs` in OpenAI's shapes with the `dreambooth` method: create, list (newest first, cursor
 * `after`/`limit`), retrieve, cancel, `/events` (newest first, paginated) and `/checkpoints` (those still on disk,
 * newest first, each with the judge's scores once judged) and `/report` (the learning report: scores per judged step
 * and the recommended checkpoint, docs/dreambooth-training.md). The runner starts once the server is ready (resuming jobs a previous run left unfinished) and is
 * closed with the server: a running worker saves a checkpoint and its job resumes at the next start.
 */
export function fineTuningJobsRoutes(runner: FineTuneRunner): RoutePlugin {
  return async (app, { store, scrubber }) => {
    // Job errors and events carry what the worker wrote, paths included: clients see their own file names only.
    const live = (job: JobRecord): FineTuningJobWire =>
      fineTuningJobToWire(
        dreamboothJob({ ...job, error: scrubber.json(job.error) }),
        runner.liveProgress(job.id)?.estimatedFinish,
      );
    const event = (record: EventRecord): FineTuningJobEventWire =>
      fineTuningEventToWire({ ...record, message: scrubber.text(record.message), data: scrubber.json(record.data) });
    app.addHook('onReady', async () => runner.start());
    app.addHook('onClose', async () => runner.close());
    app.post('/v1/fine_tuning/jobs', async (request) =>
      live(await runner.create(parseFineTuningJobCreate(request.body))),
    );
    app.get('/v1/fine_tuning/jobs', async (request) => {
      const { after, limit } = parseCursorParams(request.query);
      const { data, hasMore } = store.jobs.list('fine_tuning', { after: after ?? undefined, limit });
      return cursorPage(data.map(live), hasMore);
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
      return cursorPage(data.map(event), hasMore);
    });
    const kept = (job: JobRecord) => store.checkpoints.list(job.id).filter((checkpoint) => existsSync(checkpoint.path));
    app.get<{ Params: { id: string } }>('/v1/fine_tuning/jobs/:id/checkpoints', async (request) => {
      const job = runner.get(request.params.id);
      const scores = new Map(learningReport(store, job.id).entries.map((e) => [e.step, e.scores]));
      return pageOf(kept(job), parseCursorParams(request.query, 10), 'fine_tuning.job.checkpoint', (checkpoint) =>
        fineTuningCheckpointToWire(
          checkpoint,
          job.id,
          checkpointModelName(job, checkpoint.step),
          scores.get(checkpoint.step),
        ),
      );
    });
    app.get<{ Params: { id: string } }>('/v1/fine_tuning/jobs/:id/report', async (request) => {
      const job = runner.get(request.params.id);
      const report = learningReport(store, job.id);
      const steps = new Set(kept(job).map((checkpoint) => checkpoint.step));
      const entries = report.entries.map((e) => ({
        ...e,
        modelName: steps.has(e.step) ? checkpointModelName(job, e.step) : null,
      }));
      return fineTuningReportToWire({ ...report, entries });
    });
  };
}
