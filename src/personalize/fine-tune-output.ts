import { existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { JobRecord, ModelRecord, Store } from '../store/index.js';
import { newId } from '../util/index.js';
import { dreamboothJob, jobPaths, requireBaseModel } from './job-request.js';
import type { ResultEvent } from '../worker/index.js';

/** The part of the model registry a finished job needs (`ModelRegistry` from src/models satisfies it). */
export interface ModelInstaller {
  /** Moves a staged folder into the models folder and registers it under `name` (format detected there). */
  install(options: {
    name: string;
    staged: string;
    source: string;
    metadata?: Record<string, unknown>;
  }): ModelRecord;
}

/** What the finished job produced. */
export interface FineTuneOutput {
  jobId: string;
  /** Name to register the model under. */
  name: string;
  /** The base model's record. */
  base: ModelRecord;
  /** The worker's result path: a diffusers folder (full fine-tune) or LoRA weights (file or folder). */
  path: string;
  /** `full` or `lora`. */
  mode: string;
  /** Step the output was taken at. */
  step: number | null;
}

function totalSize(path: string): number {
  const info = statSync(path);
  if (!info.isDirectory()) return info.size;
  return readdirSync(path).reduce((sum, entry) => sum + totalSize(join(path, entry)), 0);
}

/**
 * Registers a job's output as a model generation can load:
 * - a full fine-tune is a complete diffusers folder: the registry moves it into the models folder;
 * - a LoRA is small weights on top of a base: it is moved under the models folder and registered as the base's
 *   format and path with `metadata.lora` naming the weights, so a generator loads the base and applies the adapter
 *   (`metadata.base_model` names the base, `metadata.lora_scale` its default strength).
 */
export function installFineTuneOutput(store: Store, installer: ModelInstaller, output: FineTuneOutput): ModelRecord {
  const metadata = {
    base_model: output.base.name,
    fine_tuning_job: output.jobId,
    method: 'dreambooth',
    mode: output.mode,
    step: output.step,
  };
  const source = `fine-tune:${output.jobId}`;
  const isDiffusersFolder = statSync(output.path).isDirectory() && existsSync(join(output.path, 'model_index.json'));
  if (output.mode !== 'lora' || isDiffusersFolder) {
    return installer.install({ name: output.name, staged: output.path, source, metadata });
  }
  const folder = join(store.layout.models, `${output.name.replace(/[/:]/g, '--')}-${newId('v', 8).slice(2)}`);
  mkdirSync(folder, { recursive: true });
  const lora = join(folder, basename(output.path));
  renameSync(output.path, lora);
  const record: ModelRecord = {
    name: output.name,
    format: output.base.format,
    path: output.base.path,
    size: totalSize(output.base.path) + totalSize(lora),
    source,
    revision: null,
    metadata: { ...metadata, lora, lora_scale: 1 },
    createdAt: Math.floor(Date.now() / 1000),
  };
  store.models.put(record);
  return record;
}

/**
 * The fine-tuned model's name, in OpenAI's `ft:` style: `ft:<base>:<suffix>:<job id tail>`, at most 128
 * characters (the registry's limit), using only characters model names allow.
 */
export function fineTunedModelName(base: string, suffix: string | null, jobId: string): string {
  const tail = jobId.slice(-8);
  const label = suffix ?? 'dreambooth';
  const room = 128 - `ft::${label}:${tail}`.length;
  const cleanBase = base.replace(/[^A-Za-z0-9._/-]/g, '-').replace(/\/{2,}/g, '/').slice(0, Math.max(room, 1));
  return `ft:${cleanBase}:${label}:${tail}`;
}

/** Registers what a succeeded job's worker reported (`result`) as the job's fine-tuned model. */
export function installJobOutput(store: Store, installer: ModelInstaller, job: JobRecord, result: ResultEvent): ModelRecord {
  return installFineTuneOutput(store, installer, {
    jobId: job.id,
    name: fineTunedModelName(job.model, dreamboothJob(job).params.suffix, job.id),
    base: requireBaseModel(store, job.model),
    path: result.path ?? join(jobPaths(store, job.id).outputDir, 'model'),
    mode: result.mode ?? dreamboothJob(job).hyperparameters.mode ?? 'lora',
    step: result.step,
  });
}
