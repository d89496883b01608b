import type { FineTuningJobCreate } from '../protocol/index.js';
import type { JobRecord, Store } from '../store/index.js';
import type { WorkerConfigSchema } from './config-schema.js';
import type { CurationPlan, JudgeFor } from './curation/index.js';
import type { WorkerConfig } from './dreambooth-config.js';
import { JobRecorder } from './job-recorder.js';
import { checkJobConfig, curateJob, fineTuningKind, prepareJob, recordCuration } from './job-request.js';
import type { SubjectImage } from './subject-images.js';

/** A job just recorded as `validating_files`, with the photos its validation step will write. */
export interface CreatedJob {
  job: JobRecord;
  images: SubjectImage[];
}

/**
 * Checks a fine-tuning request and records its job: photos read and checked, curation run (by `plan` when given,
 * else by the VLM `judge`), the worker config checked against the worker's schema — all before anything is stored,
 * so a 4xx leaves nothing behind. The plan goes into the job's events.
 */
export async function createJob(
  store: Store,
  schema: WorkerConfigSchema,
  request: FineTuningJobCreate,
  fileConfig: WorkerConfig | null,
  curation: CurationPlan | JudgeFor | null,
): Promise<CreatedJob> {
  const prepared = await prepareJob(store, request, fileConfig);
  const curated = await curateJob(prepared, request, curation);
  await checkJobConfig(store, schema, prepared);
  const job = store.jobs.create({
    id: prepared.id,
    kind: fineTuningKind,
    model: prepared.base.name,
    status: 'validating_files',
    hyperparameters: prepared.hyperparameters,
    params: prepared.params as unknown as Record<string, unknown>,
  });
  const recorder = new JobRecorder(store, job.id, null);
  recorder.message(`Created fine-tuning job: ${job.id}`);
  if (curated) recordCuration(recorder, curated);
  return { job, images: prepared.images };
}
