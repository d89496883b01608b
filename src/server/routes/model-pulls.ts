import {
  HubHttpError,
  HubOfflineError,
  IntegrityError,
  parseRepoSpec,
  pull,
  validateModelName,
} from '../../models/index.js';
import { InvalidRequestError, NotFoundError } from '../../protocol/index.js';
import type { RoutePlugin } from '../create-server.js';
import { PullJob, type ModelPullWire } from './pull-jobs.js';

/** Finished pulls kept for clients that look late; the oldest finished ones go first. */
const keptPulls = 50;

interface PullRequest {
  repo: string;
  name?: string;
  include?: string[];
}

/** `{repo, name?, include?}` checked the way `atelier pull` checks its arguments, as a 400 naming the field. */
function parsePullRequest(body: unknown): PullRequest {
  const fields = (body ?? {}) as Record<string, unknown>;
  if (typeof fields.repo !== 'string')
    throw new InvalidRequestError('repo must be a string: <org>/<name>[@revision]', { param: 'repo' });
  try {
    parseRepoSpec(fields.repo);
  } catch (error) {
    throw new InvalidRequestError((error as Error).message, { param: 'repo' });
  }
  const request: PullRequest = { repo: fields.repo };
  if (fields.name !== undefined && fields.name !== '') {
    if (typeof fields.name !== 'string') throw new InvalidRequestError('name must be a string', { param: 'name' });
    request.name = validateModelName(fields.name);
  }
  if (fields.include !== undefined) {
    if (!Array.isArray(fields.include) || !fields.include.every((glob) => typeof glob === 'string' && glob !== '')) {
      throw new InvalidRequestError('include must be an array of file globs', { param: 'include' });
    }
    request.include = fields.include as string[];
  }
  return request;
}

/** What a failed pull reports: the hub's own trouble by kind, anything else as `pull_failed`. */
function failureCode(error: unknown): string {
  if (error instanceof HubOfflineError) return 'hub_unreachable';
  if (error instanceof HubHttpError) return 'hub_error';
  if (error instanceof IntegrityError) return 'integrity_error';
  return 'pull_failed';
}

/**
 * `POST /v1/pulls`, `GET /v1/pulls`, `GET /v1/pulls/{id}` — an atelier extension (OpenAI has no such routes): pulls
 * a model from the hub (HF_ENDPOINT, HF_TOKEN; what `atelier pull` does, resumable the same way) in the background
 * and reports its progress as a `model.pull` object to poll: files and bytes done of the total, an ETA, notes and
 * the outcome. Behind the same API key as the rest of /v1. Pulls live in memory: a restart forgets them, and
 * pulling again resumes from the partial files.
 */
export const modelPullRoutes: RoutePlugin = (app, { registry, scrubber }) => {
  const pulls = new Map<string, PullJob>();
  const forgetOld = (): void => {
    const finished = [...pulls.values()].filter((job) => job.snapshot().status !== 'running');
    for (const job of finished.slice(0, Math.max(0, finished.length - keptPulls))) pulls.delete(job.id);
  };
  app.post('/v1/pulls', async (request, reply): Promise<ModelPullWire> => {
    const asked = parsePullRequest(request.body);
    const job = new PullJob(asked.repo, asked.name ?? parseRepoSpec(asked.repo).repo);
    pulls.set(job.id, job);
    forgetOld();
    const options = {
      spec: asked.repo,
      reporter: job,
      ...(asked.name && { name: asked.name }),
      ...(asked.include && { include: asked.include }),
    };
    pull(registry, options).then(
      () => job.finish(),
      (error: unknown) => job.finish({ message: scrubber.text((error as Error).message), code: failureCode(error) }),
    );
    void reply.code(202);
    return job.snapshot();
  });
  app.get('/v1/pulls', async () => ({
    object: 'list',
    data: [...pulls.values()].reverse().map((job) => job.snapshot()),
  }));
  app.get<{ Params: { id: string } }>('/v1/pulls/:id', async (request) => {
    const job = pulls.get(request.params.id);
    if (!job) throw new NotFoundError(`No such pull: ${request.params.id}`, { param: 'pull_id', code: 'not_found' });
    return job.snapshot();
  });
};
