import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CheckpointRecord, JobRecord, ModelRecord, Store } from '../store/index.js';
import { newId } from '../util/index.js';
import { dreamboothJob, jobPaths, jobWorkerConfig, requireBaseModel } from './job-request.js';
import { learningReport } from './learning-report.js';
import type { ResultEvent } from '../worker/index.js';

/** The part of the model registry a finished job needs (`ModelRegistry` from src/models satisfies it). */
export interface ModelInstaller {
  /** Moves a staged folder into the models folder and registers it under `name` (format detected there). */
  install(options: { name: string; staged: string; source: string; metadata?: Record<string, unknown> }): ModelRecord;
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
  const cleanBase = base
    .replace(/[^A-Za-z0-9._/-]/g, '-')
    .replace(/\/{2,}/g, '/')
    .slice(0, Math.max(room, 1));
  return `ft:${cleanBase}:${label}:${tail}`;
}

/**
 * The kept checkpoint the learning report recommends when it is not the last step, unless the job's config pins
 * the last one (`judge.output: "last"`); undefined when the last step is the output.
 */
function recommendedCheckpoint(store: Store, job: JobRecord, lastStep: number | null): CheckpointRecord | undefined {
  const judge = jobWorkerConfig(store, job).config.judge as { output?: unknown } | undefined;
  const step = learningReport(store, job.id).recommendedStep;
  if (judge?.output === 'last' || step === null || step === lastStep) return undefined;
  return store.checkpoints.list(job.id).find((c) => c.step === step && existsSync(c.path));
}

/**
 * Registers `checkpoint` as the job's model: the base with the checkpoint applied at load time (as its
 * `…:ckpt-step-N` name loads it), the checkpoint file copied into the models folder so pruning cannot remove it.
 */
function installCheckpoint(store: Store, job: JobRecord, checkpoint: CheckpointRecord): ModelRecord {
  const base = requireBaseModel(store, job.model);
  const { params, hyperparameters } = dreamboothJob(job);
  const name = fineTunedModelName(job.model, params.suffix, job.id);
  const folder = join(store.layout.models, `${name.replace(/[/:]/g, '--')}-${newId('v', 8).slice(2)}`);
  mkdirSync(folder, { recursive: true });
  const copy = join(folder, basename(checkpoint.path));
  copyFileSync(checkpoint.path, copy);
  const config = typeof base.metadata.config === 'string' ? { config: base.metadata.config } : {};
  const metadata = { base_model: base.name, fine_tuning_job: job.id, method: 'dreambooth', recommended: true };
  const record: ModelRecord = {
    name,
    format: base.format,
    path: base.path,
    size: totalSize(base.path) + totalSize(copy),
    source: `fine-tune:${job.id}`,
    revision: null,
    metadata: { ...metadata, mode: hyperparameters.mode ?? 'lora', step: checkpoint.step, checkpoint: copy, ...config },
    createdAt: Math.floor(Date.now() / 1000),
  };
  store.models.put(record);
  return record;
}

/**
 * Registers a succeeded job's model: the checkpoint the learning report recommends (docs/dreambooth-training.md)
 * when the job was judged and that is not its last step, else what the worker reported (`result`).
 */
export function installJobOutput(
  store: Store,
  installer: ModelInstaller,
  job: JobRecord,
  result: ResultEvent,
): ModelRecord {
  const recommended = recommendedCheckpoint(store, job, result.step);
  if (recommended) return installCheckpoint(store, job, recommended);
  return installFineTuneOutput(store, installer, {
    jobId: job.id,
    name: fineTunedModelName(job.model, dreamboothJob(job).params.suffix, job.id),
    base: requireBaseModel(store, job.model),
    path: result.path ?? join(jobPaths(store, job.id).outputDir, 'model'),
    mode: result.mode ?? dreamboothJob(job).hyperparameters.mode ?? 'lora',
    step: result.step,
  });
}
