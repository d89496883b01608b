/**
 * Fine-tuning objects from atelier's camelCase shapes to OpenAI's snake_case wire, and the hyperparameter names both
 * ways. The only place where a fine-tuning field changes spelling.
 */
import type {
  CheckpointScores,
  DreamboothHyperparameters,
  FineTuningCheckpointSource,
  FineTuningEventSource,
  FineTuningJobSource,
} from './fine-tuning-job.js';
import type {
  DreamboothHyperparametersWire,
  DreamboothMethodWire,
  FineTuningJobCheckpointWire,
  FineTuningJobEventWire,
  FineTuningJobWire,
  FineTuningReportWire,
} from './fine-tuning.js';

/** Each hyperparameter's wire name by its own (every key of `DreamboothHyperparameters`, in the API's order). */
export const hyperparameterWireNames = {
  className: 'class_name',
  identifier: 'identifier',
  instancePrompt: 'instance_prompt',
  classPrompt: 'class_prompt',
  preset: 'preset',
  mode: 'mode',
  nSteps: 'n_steps',
  learningRate: 'learning_rate',
  batchSize: 'batch_size',
  resolution: 'resolution',
  priorPreservation: 'prior_preservation',
  priorLossWeight: 'prior_loss_weight',
  numClassImages: 'num_class_images',
  loraRank: 'lora_rank',
  checkpointEvery: 'checkpoint_every',
  trainTextEncoder: 'train_text_encoder',
} as const satisfies Record<keyof DreamboothHyperparameters, keyof DreamboothHyperparametersWire>;

/** Renames the set hyperparameters to their wire names. */
export function hyperparametersToWire(hp: DreamboothHyperparameters): DreamboothHyperparametersWire {
  const out: Record<string, unknown> = {};
  for (const [name, wire] of Object.entries(hyperparameterWireNames)) {
    const value = hp[name as keyof DreamboothHyperparameters];
    if (value !== undefined) out[wire] = value;
  }
  return out as DreamboothHyperparametersWire;
}

/** Renames the set wire hyperparameters to atelier's names (the parser has checked each value). */
export function hyperparametersFromWire(wire: DreamboothHyperparametersWire): DreamboothHyperparameters {
  const out: Record<string, unknown> = {};
  for (const [name, wireName] of Object.entries(hyperparameterWireNames)) {
    const value = wire[wireName];
    if (value !== undefined) out[name] = value;
  }
  return out as DreamboothHyperparameters;
}

/**
 * The `fine_tuning.job` object. OpenAI's own hyperparameters are reported as `auto` (DreamBooth has no epochs or
 * learning-rate multiplier); the real ones are under `method.dreambooth`. `estimatedFinish` (Unix seconds) comes from
 * the live worker and is shown while the job runs.
 */
export function fineTuningJobToWire(
  job: FineTuningJobSource,
  estimatedFinish: number | null = null,
): FineTuningJobWire {
  const hp = job.hyperparameters;
  const dreambooth: DreamboothMethodWire['dreambooth'] = { hyperparameters: hyperparametersToWire(hp) };
  // Rows written by hand (tests, older versions) may lack params; the object keeps OpenAI's types regardless.
  const instanceFiles = job.params.instanceFiles ?? [];
  if (instanceFiles.length > 0) dreambooth.instance_files = [...instanceFiles];
  return {
    id: job.id,
    object: 'fine_tuning.job',
    created_at: job.createdAt,
    error: job.error,
    fine_tuned_model: job.resultModel,
    finished_at: job.finishedAt,
    hyperparameters: {
      batch_size: typeof hp.batchSize === 'number' ? hp.batchSize : 'auto',
      learning_rate_multiplier: 'auto',
      n_epochs: 'auto',
    },
    model: job.model,
    organization_id: 'org-atelier',
    result_files: [],
    seed: job.params.seed ?? 0,
    status: job.status,
    trained_tokens: null,
    training_file: job.params.trainingFile ?? '',
    validation_file: null,
    estimated_finish: job.status === 'running' ? estimatedFinish : null,
    integrations: null,
    metadata: job.params.metadata ?? null,
    user_provided_suffix: job.params.suffix ?? null,
    method: { type: 'dreambooth', dreambooth },
  };
}

const eventDataWireNames: Readonly<Record<string, string>> = {
  totalSteps: 'total_steps',
  trainLoss: 'train_loss',
  cacheHit: 'cache_hit',
  etaSeconds: 'eta_seconds',
};

/**
 * An event's `data` on the wire: atelier's fields renamed, a metrics event's `metrics` (the worker's own names)
 * flattened in their place, as OpenAI's metrics events carry `step`, `train_loss`, `total_steps` side by side.
 */
export function eventDataToWire(data: Readonly<Record<string, unknown>> | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data ?? {})) {
    if (key === 'metrics' && value !== null && typeof value === 'object') Object.assign(out, value);
    else out[eventDataWireNames[key] ?? key] = value;
  }
  return out;
}

/** The `fine_tuning.job.event` object. */
export function fineTuningEventToWire(event: FineTuningEventSource): FineTuningJobEventWire {
  return {
    id: event.id,
    object: 'fine_tuning.job.event',
    created_at: event.createdAt,
    level: event.level,
    message: event.message,
    type: event.type === 'metrics' ? 'metrics' : 'message',
    data: eventDataToWire(event.data),
  };
}

/**
 * The `fine_tuning.job.checkpoint` object of job `jobId`; `modelName` is what generation loads it by
 * (`<model>:ckpt-step-<n>`).
 */
export function fineTuningCheckpointToWire(
  checkpoint: FineTuningCheckpointSource,
  jobId: string,
  modelName: string,
  scores?: CheckpointScores,
): FineTuningJobCheckpointWire {
  const metrics: FineTuningJobCheckpointWire['metrics'] = {};
  if (checkpoint.metrics.step !== undefined) metrics.step = checkpoint.metrics.step;
  if (checkpoint.metrics.trainLoss !== undefined) metrics.train_loss = checkpoint.metrics.trainLoss;
  if (scores) Object.assign(metrics, scores);
  return {
    id: checkpoint.id,
    object: 'fine_tuning.job.checkpoint',
    created_at: checkpoint.createdAt,
    fine_tuned_model_checkpoint: modelName,
    fine_tuning_job_id: jobId,
    metrics,
    step_number: checkpoint.step,
  };
}

/** A job's learning report as the report route renders it; `modelName` names a step's checkpoint while kept. */
export interface FineTuningReportSource {
  jobId: string;
  driftTolerance: number;
  recommendedStep: number | null;
  entries: readonly { step: number; scores: CheckpointScores; modelName: string | null }[];
}

/** The `fine_tuning.job.report` object. */
export function fineTuningReportToWire(report: FineTuningReportSource): FineTuningReportWire {
  const recommended = report.entries.find((e) => e.step === report.recommendedStep);
  return {
    object: 'fine_tuning.job.report',
    fine_tuning_job_id: report.jobId,
    drift_tolerance: report.driftTolerance,
    recommended_step: report.recommendedStep,
    recommended_checkpoint: recommended?.modelName ?? null,
    data: report.entries.map((e) => ({ step_number: e.step, fine_tuned_model_checkpoint: e.modelName, ...e.scores })),
  };
}
