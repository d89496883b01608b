import type { DreamboothHyperparameters } from '../protocol/index.js';

/** A nested config object in the worker's schema (`python/atelier_diffusion/config.py`). */
export type WorkerConfig = Record<string, unknown>;

/** Folders a job trains with: all absolute. */
export interface JobPaths {
  /** The job's own folder: `<home>/fine-tunes/<job id>`. */
  root: string;
  /** Subject photos, written from the uploaded files. */
  instanceDir: string;
  /** Worker output (final model, TensorBoard logs). */
  outputDir: string;
  /** Resumable checkpoints. */
  checkpointDir: string;
  /** Class-image cache shared by all jobs (keyed by the worker on base model, prompt and sampler settings). */
  classImageCache: string;
}

/** What a job's worker config is built from. */
export interface DreamboothConfigInput {
  /** Path of the base model (diffusers folder or single-file checkpoint). */
  basePath: string;
  hyperparameters: DreamboothHyperparameters;
  /** The job's seed. */
  seed: number;
  paths: JobPaths;
  /** A YAML file's contents (CLI `--config`), below the hyperparameters. */
  fileConfig?: WorkerConfig;
  /** Raw overrides (`method.dreambooth.config`), above the hyperparameters. */
  overrides?: WorkerConfig;
  /** Train on per-photo captions (a curated job's `metadata.jsonl`) instead of the one instance prompt. */
  captions?: boolean;
}

/** Default identifier: a rare token that the CLIP tokenizer splits into few pieces (the paper's choice). */
export const defaultIdentifier = 'sks';
/** Default mode when neither hyperparameters nor a config file pick one: LoRA fits consumer GPUs. */
export const defaultMode = 'lora';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep merge in the worker's sense: objects merge key by key, anything else in `extra` replaces. */
export function mergeConfig(base: WorkerConfig, extra: WorkerConfig): WorkerConfig {
  const out: WorkerConfig = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlainObject(value) && isPlainObject(current) ? mergeConfig(current, value) : value;
  }
  return out;
}

/** Drops undefined leaves and sections left empty, so absent hyperparameters fall back to the worker's defaults. */
function prune(config: WorkerConfig): WorkerConfig {
  const out: WorkerConfig = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if (isPlainObject(value)) {
      const inner = prune(value);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else out[key] = value;
  }
  return out;
}

/** The prompts of a job: given ones win, else `a photo of <identifier> <class>` / `a photo of <class>`. */
export function dreamboothPrompts(hp: DreamboothHyperparameters): { instance: string; class: string | undefined } {
  const identifier = hp.identifier ?? defaultIdentifier;
  const instance = hp.instancePrompt ?? `a photo of ${identifier} ${hp.className ?? ''}`.trim();
  const classPrompt = hp.classPrompt ?? (hp.className ? `a photo of ${hp.className}` : undefined);
  return { instance, class: classPrompt };
}

/**
 * Builds the `config` of the worker's `train` command. Layers, later winning key by key: the config file, the API's
 * hyperparameters (mapped onto the worker's sections), raw overrides, and last the paths atelier owns (model, data,
 * output, checkpoints: a request cannot point them elsewhere). `checkpoint.resume` is `auto`, so a
 * restarted job continues from the newest checkpoint in its folder. The worker validates the result against its
 * schema before loading any model.
 */
export function buildDreamboothConfig(input: DreamboothConfigInput): WorkerConfig {
  const hp = input.hyperparameters;
  const prompts = dreamboothPrompts(hp);
  const fromFile = input.fileConfig ?? {};
  const fileHasRecipe = fromFile.recipe !== undefined || (isPlainObject(fromFile.train) && fromFile.train.method);
  const fromApi = prune({
    recipe: hp.mode ?? (fileHasRecipe ? undefined : defaultMode),
    preset: hp.preset,
    data: {
      instance_prompt: prompts.instance,
      captions: input.captions || undefined,
      class_prompt: prompts.class,
      resolution: hp.resolution,
    },
    prior: {
      enabled: hp.priorPreservation ?? (prompts.class === undefined ? false : undefined),
      loss_weight: hp.priorLossWeight,
      num_class_images: hp.numClassImages,
    },
    lora: { rank: hp.loraRank, alpha: hp.loraRank },
    train: {
      max_steps: hp.nSteps,
      lr: hp.learningRate,
      batch_size: typeof hp.batchSize === 'number' ? hp.batchSize : undefined,
      train_text_encoder: hp.trainTextEncoder,
      seed: input.seed,
    },
    checkpoint: { every_n_steps: hp.checkpointEvery },
  });
  const owned: WorkerConfig = {
    model: { base: input.basePath },
    data: { instance_dir: input.paths.instanceDir },
    prior: { cache_dir: input.paths.classImageCache },
    checkpoint: { dir: input.paths.checkpointDir, resume: 'auto' },
    output: { dir: input.paths.outputDir },
  };
  return mergeConfig(mergeConfig(mergeConfig(fromFile, fromApi), input.overrides ?? {}), owned);
}
