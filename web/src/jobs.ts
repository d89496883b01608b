import { getJson } from './api.js';

/** The parts of a `fine_tuning.job` the studio shows. */
export interface Job {
  id: string;
  created_at: number;
  finished_at: number | null;
  estimated_finish: number | null;
  status: 'validating_files' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  model: string;
  fine_tuned_model: string | null;
  /** The suffix the job was created with: what people call it before its model exists. */
  user_provided_suffix?: string | null;
  training_file: string;
  seed: number;
  error: { code: string; message: string; param: string | null } | null;
  method: { type: string; dreambooth?: { hyperparameters?: Record<string, unknown>; instance_files?: string[] } };
}

/** A `fine_tuning.job.checkpoint`. */
export interface Checkpoint {
  id: string;
  step_number: number;
  fine_tuned_model_checkpoint: string;
  metrics: { step?: number; train_loss?: number };
  created_at: number;
}

/** A cursor page of OpenAI's list endpoints. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
  last_id: string | null;
}

/** Whether a job can still change (and so is worth polling or cancelling). */
export function isActive(job: Job): boolean {
  return !['succeeded', 'failed', 'cancelled'].includes(job.status);
}

/** The prompt a DreamBooth model was trained to answer: `a photo of <identifier> <class>`. */
export function subjectPrompt(job: Job): string {
  const hp = job.method.dreambooth?.hyperparameters ?? {};
  const instance = hp.instance_prompt;
  if (typeof instance === 'string') return instance;
  return `a photo of ${String(hp.identifier ?? 'sks')} ${String(hp.class_name ?? '')}`.trim();
}

/** `GET /v1/fine_tuning/jobs` (newest first), one page. */
export function listJobs(after?: string, limit = 20): Promise<Page<Job>> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (after) query.set('after', after);
  return getJson<Page<Job>>(`/v1/fine_tuning/jobs?${query}`);
}

/** `GET /v1/fine_tuning/jobs/{id}`. */
export function getJob(id: string): Promise<Job> {
  return getJson<Job>(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}`);
}

/** `GET /v1/fine_tuning/jobs/{id}/checkpoints`: the checkpoints still on disk, newest first. */
export async function listCheckpoints(id: string): Promise<Checkpoint[]> {
  return (await getJson<Page<Checkpoint>>(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/checkpoints?limit=100`)).data;
}

/** What to call a job: its suffix, else its subject (`sks dog`), with the id for when two look alike. */
export function jobName(job: Job): string {
  const hp = job.method.dreambooth?.hyperparameters ?? {};
  const subject = `${String(hp.identifier ?? 'sks')} ${String(hp.class_name ?? '')}`.trim();
  return job.user_provided_suffix || subject;
}

/** The request that made `job` again (same photos, settings and suffix): for Retry. */
export function jobRequest(job: Job): Record<string, unknown> {
  const dreambooth: Record<string, unknown> = { hyperparameters: job.method.dreambooth?.hyperparameters ?? {} };
  if (job.method.dreambooth?.instance_files?.length) dreambooth.instance_files = job.method.dreambooth.instance_files;
  const body: Record<string, unknown> = {
    model: job.model,
    training_file: job.training_file,
    method: { type: 'dreambooth', dreambooth },
  };
  if (job.user_provided_suffix) body.suffix = job.user_provided_suffix;
  return body;
}

/** A Unix time in seconds as local date and time. */
export function when(seconds: number | null): string {
  return seconds === null ? '—' : new Date(seconds * 1000).toLocaleString();
}
