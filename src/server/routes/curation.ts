import { curatePhotos, readSubjectImages, type PhotoJudge } from '../../personalize/index.js';
import { InvalidRequestError } from '../../protocol/index.js';
import type { RoutePlugin } from '../create-server.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function bad(param: string, message: string): never {
  throw new InvalidRequestError(message, { param, code: 'invalid_value' });
}

/** The fields of a curation request, checked (they mirror `method.dreambooth.curation` plus the photos). */
function parseCurationBody(body: unknown) {
  if (!isObject(body)) bad('body', 'The request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!['training_file', 'instance_files', 'model', 'class_name', 'seed', 'min_size'].includes(key))
      bad(key, `Unknown parameter: '${key}'.`);
  }
  const text = (key: string): string | undefined => {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.trim() === '' || value.length > 256)
      bad(key, `'${key}' must be a non-empty string.`);
    return value;
  };
  const whole = (key: string, min: number, max: number): number | undefined => {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
      bad(key, `'${key}' must be an integer between ${min} and ${max}.`);
    return value as number;
  };
  const trainingFile = text('training_file') ?? bad('training_file', "Missing required parameter: 'training_file'.");
  const model = text('model') ?? bad('model', "Missing required parameter: 'model' (a vision-language chat model).");
  const files = body.instance_files ?? [];
  if (!Array.isArray(files) || files.length > 200 || files.some((f) => typeof f !== 'string')) {
    bad('instance_files', "'instance_files' must be a list of at most 200 file ids.");
  }
  return {
    sources: [
      { id: trainingFile, param: 'training_file' },
      ...(files as string[]).map((id, i) => ({ id, param: `instance_files[${i}]` })),
    ],
    model,
    className: text('class_name') ?? null,
    seed: whole('seed', 0, 2 ** 31 - 1) ?? 0,
    minSize: whole('min_size', 1, 16_384),
  };
}

/**
 * `POST /v1/fine_tuning/curations` (atelier extension): the curation plan of uploaded subject photos
 * (docs/CURATION.md) without starting a job — what the studio shows before training. The body names the photos as
 * a job does (`training_file`, `instance_files`) plus the VLM (`model`) and optional `class_name`, `seed`,
 * `min_size`; the answer is the plan (docs/curation-plan.schema.json). A job created with the same photos, model
 * and seed in `method.dreambooth.curation` makes the same plan.
 */
export function curationRoutes(judgeFor: (model: string, seed: number) => Promise<PhotoJudge>): RoutePlugin {
  return async (app, { store }) => {
    app.post('/v1/fine_tuning/curations', async (request) => {
      const input = parseCurationBody(request.body);
      const photos = await readSubjectImages(store, input.sources);
      const judge = await judgeFor(input.model, input.seed);
      return curatePhotos(photos, {
        model: input.model,
        judge,
        className: input.className,
        seed: input.seed,
        ...(input.minSize !== undefined && { minSize: input.minSize }),
      });
    });
  };
}
