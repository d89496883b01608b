import { isTerminal, type FineTuneRunner } from '../../personalize/index.js';
import { ConflictError, InvalidRequestError } from '../../protocol/index.js';
import type { RoutePlugin } from '../create-server.js';

/** The body `DELETE /v1/fine_tuning/jobs/{id}` answers with, shaped like OpenAI's other `*.deleted` objects. */
export interface FineTuningJobDeletedWire {
  id: string;
  object: 'fine_tuning.job.deleted';
  deleted: true;
  /** The fine-tuned model deleted with it (only with `delete_model=true`), else null. */
  deleted_model: string | null;
}

/** `?delete_model=true|false` (absent: false); anything else is a 400 rather than a silent keep. */
function deleteModelFlag(query: unknown): boolean {
  const value = (query as Record<string, unknown> | null)?.delete_model;
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new InvalidRequestError('delete_model must be true or false', { param: 'delete_model' });
}

/**
 * `DELETE /v1/fine_tuning/jobs/{id}` — an atelier extension (OpenAI has no such route): removes a finished job with
 * its events and checkpoint rows. Its outputs stay (the fine-tuned model stays installed and usable) unless
 * `?delete_model=true`, which also uninstalls that model. A job that can still change is a 409: cancel it first, so
 * a worker never writes to a job that no longer exists.
 */
export function fineTuningJobDeleteRoutes(runner: FineTuneRunner): RoutePlugin {
  return async (app, { store, registry }) => {
    app.delete<{ Params: { id: string } }>(
      '/v1/fine_tuning/jobs/:id',
      async (request): Promise<FineTuningJobDeletedWire> => {
        const job = runner.get(request.params.id);
        const deleteModel = deleteModelFlag(request.query);
        if (!isTerminal(job.status)) {
          throw new ConflictError(`Job ${job.id} is ${job.status}; cancel it before deleting it.`, {
            param: 'fine_tuning_job_id',
          });
        }
        let deletedModel: string | null = null;
        if (deleteModel && job.resultModel && store.models.get(job.resultModel)) {
          deletedModel = registry.remove(job.resultModel).name;
        }
        store.jobs.remove(job.id);
        return { id: job.id, object: 'fine_tuning.job.deleted', deleted: true, deleted_model: deletedModel };
      },
    );
  };
}
