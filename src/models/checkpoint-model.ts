import { existsSync } from 'node:fs';
import type { JobRecord, ModelRecord, Store } from '../store/index.js';

const checkpointSuffix = /^(.+):ckpt-step-(\d{1,9})$/;

/**
 * The model name a fine-tuning job's checkpoint is generated with (OpenAI's `fine_tuned_model_checkpoint`):
 * `<fine-tuned model>:ckpt-step-<n>`, or `ft:<base>:<job id>:ckpt-step-<n>` while the job has no model yet.
 */
export function checkpointModelName(job: Pick<JobRecord, 'id' | 'model' | 'resultModel'>, step: number): string {
  return `${job.resultModel ?? `ft:${job.model}:${job.id}`}:ckpt-step-${step}`;
}

/** The job a checkpoint name's prefix names: a fine-tuned model's job, else the prefix's last `:` field as a job id. */
function jobOf(store: Store, prefix: string): JobRecord | undefined {
  const model = store.models.get(prefix);
  const id =
    typeof model?.metadata.fine_tuning_job === 'string' ? model.metadata.fine_tuning_job : prefix.split(':').at(-1);
  return id === undefined ? undefined : store.jobs.get(id);
}

/**
 * A checkpoint addressed by its model name as a model record generation can load: the job's base model with
 * `metadata.checkpoint` naming the training checkpoint the diffusion worker applies on top
 * (python/atelier_diffusion/checkpoint_weights.py). Undefined when the name is not a checkpoint name, the job or
 * its base is gone, or the checkpoint was pruned. Never stored: checkpoints come and go with training.
 */
export function checkpointModel(store: Store, name: string): ModelRecord | undefined {
  const match = checkpointSuffix.exec(name);
  if (!match) return undefined;
  const job = jobOf(store, match[1]!);
  const step = Number(match[2]);
  if (!job || checkpointModelName(job, step) !== name) return undefined;
  const checkpoint = store.checkpoints.list(job.id).find((c) => c.step === step && existsSync(c.path));
  const base = store.models.get(job.model);
  if (!checkpoint || !base) return undefined;
  const config = base.metadata.config;
  return {
    name,
    format: base.format,
    path: base.path,
    size: base.size,
    source: `fine-tune:${job.id}`,
    revision: null,
    metadata: {
      base_model: base.name,
      fine_tuning_job: job.id,
      method: 'dreambooth',
      step,
      checkpoint: checkpoint.path,
      ...(typeof config === 'string' ? { config } : {}),
    },
    createdAt: checkpoint.createdAt,
  };
}
