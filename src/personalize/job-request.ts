import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiError,
  InvalidRequestError,
  ModelNotFoundError,
  type DreamboothHyperparameters,
  type DreamboothJobParams,
  type FineTuningJobCreate,
  type FineTuningJobSource,
} from '../protocol/index.js';
import type { JobRecord, ModelRecord, Store } from '../store/index.js';
import { newId } from '../util/index.js';
import type { WorkerConfigSchema } from './config-schema.js';
import {
  applyCurationToJob,
  curationSummary,
  keptPhotos,
  writeCaptions,
  type CurationPlan,
  type JudgeFor,
  type PlanSource,
} from './curation/index.js';
import { buildDreamboothConfig, type JobPaths, type WorkerConfig } from './dreambooth-config.js';
import type { JobRecorder } from './job-recorder.js';
import { readSubjectImages, writeSubjectImages, type SubjectImage } from './subject-images.js';

/** The `kind` of fine-tuning rows in the shared `jobs` table. */
export const fineTuningKind = 'fine_tuning';

/**
 * A stored fine-tuning job with its typed JSON columns: `hyperparameters` and `params` (`DreamboothJobParams`) as
 * protocol parsed them, camelCase (migration 2 converted rows written before that).
 */
export type DreamboothJob = Omit<JobRecord, 'hyperparameters' | 'params'> &
  FineTuningJobSource & { params: DreamboothJobParams };

/** A `jobs` row of kind `fine_tuning`, typed. */
export function dreamboothJob(job: JobRecord): DreamboothJob {
  return job as unknown as DreamboothJob;
}

/** A validated request, ready to be inserted: the row, and the photos read from the uploaded files. */
export interface PreparedJob {
  id: string;
  base: ModelRecord;
  params: DreamboothJobParams;
  hyperparameters: DreamboothHyperparameters;
  images: SubjectImage[];
}

/** Folders of one job under `<home>/fine-tunes/<id>`, and the shared class-image cache. */
export function jobPaths(store: Store, jobId: string): JobPaths {
  // The shared folder (the home, or a fleet's blob mount) so any node can resume a job from its checkpoints.
  const root = join(store.layout.shared, 'fine-tunes', jobId);
  return {
    root,
    instanceDir: join(root, 'instance'),
    outputDir: join(root, 'output'),
    checkpointDir: join(root, 'checkpoints'),
    classImageCache: join(store.layout.shared, 'cache', 'class-images'),
  };
}

/** The base model of a request: installed, and an image model (diffusers folder or single-file SD checkpoint). */
export function requireBaseModel(store: Store, name: string): ModelRecord {
  const model = store.models.get(name);
  if (!model) throw new ModelNotFoundError(name);
  if (model.format !== 'diffusers' && model.format !== 'sd-checkpoint') {
    throw new InvalidRequestError(
      `Model '${name}' is a ${model.format} model; DreamBooth fine-tunes Stable Diffusion (diffusers or checkpoint).`,
      { param: 'model', code: 'model_not_supported' },
    );
  }
  return model;
}

/**
 * Checks everything about a create request that can be checked without the worker — base model, file ids and
 * purposes, photo count — and throws OpenAI-shaped 4xx errors on the first problem. The photos' pixels are the
 * worker's to check (it lists every bad file at once, before any compute).
 */
export async function prepareJob(
  store: Store,
  request: FineTuningJobCreate,
  fileConfig: WorkerConfig | null = null,
): Promise<PreparedJob> {
  const base = requireBaseModel(store, request.model);
  const images = await readSubjectImages(store, subjectSources(request));
  return {
    id: newId('ftjob'),
    base,
    images,
    hyperparameters: { ...request.hyperparameters },
    params: {
      trainingFile: request.trainingFile,
      instanceFiles: request.instanceFiles,
      seed: request.seed ?? randomInt(0, 2 ** 31 - 1),
      suffix: request.suffix,
      metadata: request.metadata,
      config: request.config,
      fileConfig,
    },
  };
}

/**
 * Curates a prepared job when its request asks for it (`method.dreambooth.curation`, or a ready plan from
 * `atelier train --plan`): keeps the plan's photos, fills in the class noun, keeps plan and captions in the params.
 * Returns the plan, or null without curation.
 */
export async function curateJob(
  prepared: PreparedJob,
  request: FineTuningJobCreate,
  planOrJudge: CurationPlan | JudgeFor | null,
): Promise<CurationPlan | null> {
  if (!request.curation) return null;
  const source: PlanSource | null =
    planOrJudge === null ? null : typeof planOrJudge === 'function' ? { judge: planOrJudge } : { plan: planOrJudge };
  if (!source) {
    throw new InvalidRequestError('Curation needs a vision-language chat model, and this host runs no chat engines.', {
      param: 'method.dreambooth.curation',
      code: 'curation_unavailable',
    });
  }
  const applied = await applyCurationToJob(prepared.images, prepared.hyperparameters, request.curation, source);
  prepared.images = applied.images;
  prepared.hyperparameters = applied.hyperparameters;
  prepared.params.curation = { plan: applied.plan as unknown as Record<string, unknown>, captions: applied.captions };
  return applied.plan;
}

/** Records a job's curation in its events: the summary with the whole plan, then one warning per dropped photo. */
export function recordCuration(recorder: JobRecorder, plan: CurationPlan): void {
  recorder.message(curationSummary(plan), 'info', { plan: plan as unknown as Record<string, unknown> });
  for (const photo of plan.photos.filter((p) => !p.keep)) {
    recorder.message(`Dropped photo ${photo.name}: ${photo.reasons.map((r) => r.message).join('; ')}`, 'warn');
  }
}

/** Writes a job's photos into its instance folder, with the caption rows (`metadata.jsonl`) of a curated job. */
export async function writeJobPhotos(dir: string, photos: SubjectImage[], params: DreamboothJobParams): Promise<void> {
  await writeSubjectImages(photos, dir);
  if (params.curation?.captions) await writeCaptions(dir, params.curation.captions);
}

/** A stored job's photos after its curation plan (all of them for a job without one). */
export function curatedImages(params: DreamboothJobParams, images: SubjectImage[]): SubjectImage[] {
  const plan = params.curation?.plan as CurationPlan | undefined;
  return plan ? keptPhotos(images, plan, 'method.dreambooth.curation') : images;
}

/** The uploaded files holding a job's photos, each with the request field that named it (for error `param`s). */
export function subjectSources(params: Pick<DreamboothJobParams, 'trainingFile' | 'instanceFiles'>) {
  return [
    { id: params.trainingFile, param: 'training_file' },
    ...params.instanceFiles.map((id, i) => ({ id, param: `method.dreambooth.instance_files[${i}]` })),
  ];
}

/** The params of a stored job, typed. */
export function jobParams(job: JobRecord): DreamboothJobParams {
  return dreamboothJob(job).params;
}

/**
 * The `train` command config of a stored job (base model resolved now, so a removed base fails the job with a 404
 * message), its folders (created), and the step count for progress. Rebuilt identically on every resume.
 */
export function jobWorkerConfig(
  store: Store,
  job: JobRecord,
): { config: WorkerConfig; paths: JobPaths; maxSteps: number } {
  const { params, hyperparameters } = dreamboothJob(job);
  const paths = jobPaths(store, job.id);
  mkdirSync(paths.outputDir, { recursive: true });
  const config = buildDreamboothConfig({
    basePath: requireBaseModel(store, job.model).path,
    hyperparameters,
    seed: params.seed,
    paths,
    fileConfig: params.fileConfig ?? undefined,
    overrides: params.config ?? undefined,
    captions: Boolean(params.curation?.captions),
  });
  const maxSteps = (config.train as { max_steps?: unknown } | undefined)?.max_steps;
  return { config, paths, maxSteps: typeof maxSteps === 'number' ? maxSteps : 0 };
}

/**
 * Refuses (400 `invalid_config`) a job whose raw worker config — request `config` or a CLI config file — breaks the
 * worker's schema, checking the config exactly as the worker will receive it. Jobs without raw config skip this
 * (hyperparameters map onto valid keys). When no worker can start, the check is left to the worker.
 */
export async function checkJobConfig(store: Store, schema: WorkerConfigSchema, prepared: PreparedJob): Promise<void> {
  if (prepared.params.config === null && prepared.params.fileConfig === null) return;
  const config = buildDreamboothConfig({
    basePath: prepared.base.path,
    hyperparameters: prepared.hyperparameters,
    seed: prepared.params.seed,
    paths: jobPaths(store, prepared.id),
    fileConfig: prepared.params.fileConfig ?? undefined,
    overrides: prepared.params.config ?? undefined,
    captions: Boolean(prepared.params.curation?.captions),
  });
  await schema.check(config, 'method.dreambooth.config').catch((error: unknown) => {
    if (error instanceof ApiError) throw error;
  });
}
