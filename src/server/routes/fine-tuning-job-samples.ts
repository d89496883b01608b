import { createReadStream, existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { FineTuneRunner } from '../../personalize/index.js';
import { NotFoundError } from '../../protocol/index.js';
import type { EventRecord } from '../../store/index.js';
import type { RoutePlugin } from '../create-server.js';

/** A validation sample as `GET /v1/fine_tuning/jobs/{id}/samples` lists it (atelier extension). */
export interface FineTuningSampleWire {
  /** The `sample` event's id. */
  id: string;
  object: 'fine_tuning.job.sample';
  step: number;
  prompt: string | null;
  created_at: number;
  /** Where its PNG is served (same API key). */
  url: string;
}

/**
 * The worker's validation images as the job recorder stores them: events whose data holds the PNG's `path`
 * (`<job>/…/step-NNNNNNNN-i.png`, written by python/atelier_diffusion/callbacks.py ValidationCallback) and a step.
 * Only files inside the job's own folder count, so an event can never point the route at another file.
 */
function samplePath(event: EventRecord, jobRoot: string): string | null {
  const path = event.data?.path;
  if (typeof path !== 'string' || typeof event.data?.step !== 'number' || !/step-\d+-\d+\.png$/.test(path)) return null;
  const full = resolve(path);
  return full.startsWith(jobRoot + sep) && existsSync(full) ? full : null;
}

/**
 * `GET /v1/fine_tuning/jobs/{id}/samples` (oldest first) and `GET …/samples/{sample_id}/content` (the PNG) — an
 * atelier extension: the validation samples a job drew while training (worker config `tracking.validation_prompts`,
 * every `tracking.validation_every_n_steps` and after the last step), for previews while it runs.
 */
export function fineTuningJobSampleRoutes(runner: FineTuneRunner): RoutePlugin {
  return async (app, { store }) => {
    const samples = (jobId: string): { event: EventRecord; path: string }[] => {
      const jobRoot = resolve(join(store.layout.shared, 'fine-tunes', jobId));
      return store.events.since(jobId).flatMap((event) => {
        const path = samplePath(event, jobRoot);
        return path ? [{ event, path }] : [];
      });
    };
    app.get<{ Params: { id: string } }>('/v1/fine_tuning/jobs/:id/samples', async (request) => {
      const job = runner.get(request.params.id);
      const data: FineTuningSampleWire[] = samples(job.id).map(({ event }) => ({
        id: event.id,
        object: 'fine_tuning.job.sample',
        step: event.data!.step as number,
        prompt: typeof event.data!.prompt === 'string' ? event.data!.prompt : null,
        created_at: event.createdAt,
        url: `/v1/fine_tuning/jobs/${job.id}/samples/${event.id}/content`,
      }));
      return { object: 'list', data };
    });
    app.get<{ Params: { id: string; sample: string } }>(
      '/v1/fine_tuning/jobs/:id/samples/:sample/content',
      async (request, reply) => {
        const job = runner.get(request.params.id);
        const found = samples(job.id).find(({ event }) => event.id === request.params.sample);
        if (!found)
          throw new NotFoundError(`No such sample: ${request.params.sample}`, {
            param: 'sample_id',
            code: 'not_found',
          });
        return reply.type('image/png').send(createReadStream(found.path));
      },
    );
  };
}
