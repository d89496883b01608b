/**
 * Validation of `POST /v1/fine_tuning/jobs` bodies: the wire's snake_case in, atelier's `FineTuningJobCreate` out.
 */
import { InvalidRequestError } from './errors.js';
import type { DreamboothCuration, DreamboothHyperparameters, FineTuningJobCreate } from './fine-tuning-job.js';
import { hyperparametersFromWire, hyperparameterWireNames } from './fine-tuning-wire.js';
import { dreamboothModes, dreamboothPresets, type DreamboothHyperparametersWire } from './fine-tuning.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fail(param: string, message: string): never {
  throw new InvalidRequestError(message, { param, code: 'invalid_value' });
}

function rejectUnknown(object: Json, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) fail(`${prefix}${key}`, `Unknown parameter: '${prefix}${key}'.`);
  }
}

function optionalString(object: Json, key: string, prefix: string, maxLength = 1000): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > maxLength) {
    fail(`${prefix}${key}`, `'${prefix}${key}' must be a non-empty string of at most ${maxLength} characters.`);
  }
  return value;
}

function optionalNumber(object: Json, key: string, prefix: string, min: number, max: number, integer: boolean) {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
  if (!ok || (integer && !Number.isInteger(value))) {
    const kind = integer ? 'an integer' : 'a number';
    fail(
      `${prefix}${key}`,
      `'${prefix}${key}' must be ${kind} between ${min} and ${max}; got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function optionalEnum<T extends string>(object: Json, key: string, prefix: string, values: readonly T[]) {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !values.includes(value as T)) {
    fail(`${prefix}${key}`, `'${prefix}${key}' must be one of ${values.map((v) => `'${v}'`).join(', ')}.`);
  }
  return value as T;
}

function optionalBoolean(object: Json, key: string, prefix: string): boolean | undefined {
  const value = object[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') fail(`${prefix}${key}`, `'${prefix}${key}' must be a boolean.`);
  return value;
}

const hyperparameterKeys: readonly string[] = Object.values(hyperparameterWireNames);

function parseHyperparameters(raw: unknown, curated: boolean): DreamboothHyperparameters {
  const p = 'method.dreambooth.hyperparameters.';
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) fail(p.slice(0, -1), `'${p.slice(0, -1)}' must be an object.`);
  rejectUnknown(raw, hyperparameterKeys, p);
  const identifier = optionalString(raw, 'identifier', p, 64);
  if (identifier !== undefined && /\s/.test(identifier)) fail(`${p}identifier`, 'The identifier must be one word.');
  const batch = raw.batch_size === 'auto' ? 'auto' : optionalNumber(raw, 'batch_size', p, 1, 64, true);
  const hp: DreamboothHyperparametersWire = {
    class_name: optionalString(raw, 'class_name', p, 200),
    identifier,
    instance_prompt: optionalString(raw, 'instance_prompt', p),
    class_prompt: optionalString(raw, 'class_prompt', p),
    preset: optionalEnum(raw, 'preset', p, dreamboothPresets),
    mode: optionalEnum(raw, 'mode', p, dreamboothModes),
    n_steps: optionalNumber(raw, 'n_steps', p, 1, 1_000_000, true),
    learning_rate: optionalNumber(raw, 'learning_rate', p, Number.MIN_VALUE, 1, false),
    batch_size: batch,
    resolution: optionalNumber(raw, 'resolution', p, 8, 4096, true),
    prior_preservation: optionalBoolean(raw, 'prior_preservation', p),
    prior_loss_weight: optionalNumber(raw, 'prior_loss_weight', p, 0, 100, false),
    num_class_images: optionalNumber(raw, 'num_class_images', p, 0, 100_000, true),
    lora_rank: optionalNumber(raw, 'lora_rank', p, 1, 1024, true),
    checkpoint_every: optionalNumber(raw, 'checkpoint_every', p, 1, 1_000_000, true),
    train_text_encoder: optionalBoolean(raw, 'train_text_encoder', p),
  };
  if (hp.resolution !== undefined && hp.resolution % 8 !== 0) {
    fail(`${p}resolution`, 'The resolution must be a multiple of 8 (the VAE downsamples by 8).');
  }
  if (hp.lora_rank !== undefined && hp.mode === 'full') fail(`${p}lora_rank`, "'lora_rank' needs mode 'lora'.");
  const hasPrompts =
    hp.instance_prompt !== undefined && (hp.class_prompt !== undefined || hp.prior_preservation === false);
  if (hp.class_name === undefined && !hasPrompts && !curated) {
    fail(`${p}class_name`, "DreamBooth needs the subject's class: set 'class_name' (e.g. 'dog') or both prompts.");
  }
  return hyperparametersFromWire(hp);
}

type ParsedMethod = Pick<FineTuningJobCreate, 'hyperparameters' | 'instanceFiles' | 'config' | 'curation'>;

function parseCuration(raw: unknown): DreamboothCuration | null {
  const p = 'method.dreambooth.curation.';
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw))
    fail(p.slice(0, -1), `'${p.slice(0, -1)}' must be an object naming the vision model: {"model": ...}.`);
  rejectUnknown(raw, ['model', 'captions', 'min_size', 'seed'], p);
  const model = optionalString(raw, 'model', p, 256);
  if (model === undefined) fail(`${p}model`, `Missing required parameter: '${p}model' (a vision-language chat model).`);
  return {
    model,
    captions: optionalBoolean(raw, 'captions', p) ?? true,
    minSize: optionalNumber(raw, 'min_size', p, 1, 16_384, true) ?? null,
    seed: optionalNumber(raw, 'seed', p, 0, 2 ** 31 - 1, true) ?? 0,
  };
}

function parseMethod(raw: unknown): ParsedMethod {
  if (!isObject(raw)) fail('method', "'method' must be an object with type 'dreambooth'.");
  rejectUnknown(raw, ['type', 'dreambooth'], 'method.');
  if (raw.type !== 'dreambooth') {
    fail(
      'method.type',
      `atelier fine-tunes image models with method type 'dreambooth'; got ${JSON.stringify(raw.type)}.`,
    );
  }
  const db = raw.dreambooth;
  if (!isObject(db)) fail('method.dreambooth', "'method.dreambooth' must be an object holding 'hyperparameters'.");
  rejectUnknown(db, ['hyperparameters', 'instance_files', 'config', 'curation'], 'method.dreambooth.');
  const files = db.instance_files;
  if (
    files !== undefined &&
    (!Array.isArray(files) || files.some((f) => typeof f !== 'string') || files.length > 200)
  ) {
    fail('method.dreambooth.instance_files', "'instance_files' must be a list of at most 200 file ids.");
  }
  if (db.config !== undefined && !isObject(db.config)) fail('method.dreambooth.config', "'config' must be an object.");
  const curation = parseCuration(db.curation);
  return {
    hyperparameters: parseHyperparameters(db.hyperparameters, curation !== null),
    instanceFiles: (files as string[] | undefined) ?? [],
    config: (db.config as Json | undefined) ?? null,
    curation,
  };
}

function parseMetadata(raw: unknown): Record<string, string> | null {
  if (raw === undefined || raw === null) return null;
  const ok =
    isObject(raw) &&
    Object.keys(raw).length <= 16 &&
    Object.entries(raw).every(([k, v]) => k.length <= 64 && typeof v === 'string' && v.length <= 512);
  if (!ok) fail('metadata', "'metadata' must map at most 16 keys (≤ 64 chars) to strings (≤ 512 chars).");
  return raw as Record<string, string>;
}

/**
 * Validates a `POST /v1/fine_tuning/jobs` body. Only the `dreambooth` method is accepted; `hyperparameters` at the
 * top level (OpenAI's deprecated spelling) is refused so nobody believes it took effect. Throws InvalidRequestError
 * naming the offending field.
 */
export function parseFineTuningJobCreate(body: unknown): FineTuningJobCreate {
  if (!isObject(body)) fail('body', 'The request body must be a JSON object.');
  const allowed = ['model', 'training_file', 'method', 'seed', 'suffix', 'validation_file', 'metadata', 'integrations'];
  rejectUnknown(body, allowed, '');
  const model = optionalString(body, 'model', '', 256);
  if (model === undefined) fail('model', "Missing required parameter: 'model'.");
  const trainingFile = optionalString(body, 'training_file', '', 256);
  if (trainingFile === undefined) fail('training_file', "Missing required parameter: 'training_file'.");
  if (body.method === undefined) fail('method', "Missing required parameter: 'method' (type 'dreambooth').");
  if (
    body.integrations !== undefined &&
    body.integrations !== null &&
    !(Array.isArray(body.integrations) && body.integrations.length === 0)
  ) {
    fail('integrations', 'Integrations are not supported; configure Weights & Biases in the worker config instead.');
  }
  if (body.validation_file !== undefined && body.validation_file !== null) {
    fail('validation_file', 'DreamBooth jobs take no validation file.');
  }
  const suffix = optionalString(body, 'suffix', '', 64);
  if (suffix !== undefined && !/^[A-Za-z0-9_-]+$/.test(suffix)) {
    fail('suffix', "'suffix' may hold letters, digits, '-' and '_' only.");
  }
  return {
    model,
    trainingFile,
    ...parseMethod(body.method),
    seed: optionalNumber(body, 'seed', '', 0, 2 ** 31 - 1, true) ?? null,
    suffix: suffix ?? null,
    metadata: parseMetadata(body.metadata),
  };
}
