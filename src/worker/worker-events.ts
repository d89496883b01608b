/**
 * Typed view of the JSON lines the Python worker (`python/atelier_diffusion/protocol.py`) writes on stdout. The wire
 * is snake_case; these types are camelCase and every field the TS side relies on is checked here, once, so the rest
 * of the code never touches raw worker JSON. Fields the worker adds later survive in `data`.
 */

/** Log severity as the worker reports it. */
export type WorkerLogLevel = 'debug' | 'info' | 'warning' | 'error';

/** Fields common to every event. */
interface EventBase {
  /** The whole decoded object, for fields not modelled here (kept in job events as `data`). */
  data: Record<string, unknown>;
}

/**
 * Progress of one stage (`class_images` generation, `train` steps, ...): `step` of `total` done. Training progress
 * may carry the step's `loss`; losses otherwise arrive as `metric` events.
 */
export interface ProgressEvent extends EventBase {
  type: 'progress';
  stage: string;
  step: number;
  total: number;
  loss: number | null;
  /** Seconds the worker estimates remain, when it sends one. */
  etaSeconds: number | null;
}

/** A line for people. */
export interface LogEvent extends EventBase {
  type: 'log';
  level: WorkerLogLevel;
  message: string;
}

/** Named scalars at a step (loss parts, grad norm, lr). */
export interface MetricEvent extends EventBase {
  type: 'metric';
  step: number;
  values: Record<string, number>;
}

/** A checkpoint was written (full state: enough to resume exactly). */
export interface CheckpointEvent extends EventBase {
  type: 'checkpoint';
  step: number;
  path: string;
  loss: number | null;
}

/** A validation/sample image was written. */
export interface SampleEvent extends EventBase {
  type: 'sample';
  step: number;
  path: string;
  prompt: string | null;
}

/** Prior-preservation class images are ready in `dir`: `count` in all, `generated` of them made by this run. */
export interface ClassImagesEvent extends EventBase {
  type: 'class_images';
  dir: string;
  count: number;
  generated: number;
  cacheHit: boolean;
}

/** The judge's scores of the checkpoint at `step` (python/atelier_diffusion/judge.py; `prompt` null without texts). */
export interface JudgeEvent extends EventBase {
  type: 'judge';
  step: number;
  scores: { subject: number; prompt: number | null; drift: number; diversity: number };
}

/**
 * A command finished. For `train`, `path` is the output folder (a diffusers pipeline, or LoRA weights with
 * `atelier_adapter.json`) and `mode` says which (`full` | `lora`);
 * other commands (e.g. `ping`) leave them null and put their answer in `data`.
 */
export interface ResultEvent extends EventBase {
  type: 'result';
  path: string | null;
  mode: string | null;
  step: number | null;
}

/** One problem behind an error: `path` names a config key or an image file. */
export interface WorkerProblem {
  path: string;
  message: string;
}

/** The command failed; `message` is meant for people, `code` for machines (`invalid_config`, `cancelled`, ...). */
export interface ErrorEvent extends EventBase {
  type: 'error';
  message: string;
  code: string | null;
  details: WorkerProblem[];
}

/** Any event the worker can send. */
export type WorkerEvent =
  | ProgressEvent
  | LogEvent
  | MetricEvent
  | CheckpointEvent
  | SampleEvent
  | ClassImagesEvent
  | JudgeEvent
  | ResultEvent
  | ErrorEvent;

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function first(data: Record<string, unknown>, keys: string[]): unknown {
  for (const key of keys) if (data[key] !== undefined) return data[key];
  return undefined;
}

function levelOf(value: unknown): WorkerLogLevel {
  const text = str(value)?.toLowerCase();
  if (text === 'debug' || text === 'error') return text;
  if (text === 'warn' || text === 'warning') return 'warning';
  return 'info';
}

function problemsOf(value: unknown): WorkerProblem[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    if (item === null || typeof item !== 'object') return [];
    const { path, message } = item as Record<string, unknown>;
    return typeof message === 'string' ? [{ path: typeof path === 'string' ? path : '', message }] : [];
  });
}

function numericValues(data: Record<string, unknown>): Record<string, number> {
  const source = data.values && typeof data.values === 'object' ? (data.values as Record<string, unknown>) : data;
  const values: Record<string, number> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key !== 'step' && key !== 'type' && num(value) !== null) values[key] = value as number;
  }
  if (str(data.name) !== null && num(data.value) !== null) values[data.name as string] = data.value as number;
  return values;
}

/**
 * Converts one decoded JSON object into a typed event, or null when it is not a worker event (no known `type`, or a
 * required field missing) — the driver logs those rather than trusting them.
 */
export function parseWorkerEvent(data: Record<string, unknown>): WorkerEvent | null {
  const step = num(data.step);
  switch (data.type) {
    case 'progress': {
      const total = num(first(data, ['total', 'total_steps']));
      if (step === null || total === null) return null;
      const etaSeconds = num(first(data, ['eta_s', 'eta_seconds']));
      const stage = str(data.stage) ?? 'train';
      return { type: 'progress', stage, step, total, loss: num(data.loss), etaSeconds, data };
    }
    case 'log': {
      const message = str(data.message);
      return message === null ? null : { type: 'log', level: levelOf(data.level), message, data };
    }
    case 'metric':
      return step === null ? null : { type: 'metric', step, values: numericValues(data), data };
    case 'checkpoint': {
      const path = str(data.path);
      return step === null || path === null ? null : { type: 'checkpoint', step, path, loss: num(data.loss), data };
    }
    case 'sample': {
      const path = str(data.path);
      return path === null ? null : { type: 'sample', step: step ?? 0, path, prompt: str(data.prompt), data };
    }
    case 'class_images': {
      const count = num(data.count);
      if (count === null) return null;
      const generated = num(data.generated) ?? 0;
      return {
        type: 'class_images',
        dir: str(data.dir) ?? '',
        count,
        generated,
        cacheHit: data.cache_hit === true,
        data,
      };
    }
    case 'judge': {
      const s = (data.scores ?? {}) as Record<string, unknown>;
      const [subject, drift, diversity] = [num(s.subject), num(s.drift), num(s.diversity)];
      if (step === null || subject === null || drift === null || diversity === null) return null;
      return { type: 'judge', step, scores: { subject, prompt: num(s.prompt), drift, diversity }, data };
    }
    case 'result': {
      // train answers {model_dir, kind: diffusers | lora, steps, ...} (python/atelier_diffusion/output.py).
      const path = str(first(data, ['model_dir', 'output_dir', 'path']));
      const kind = str(first(data, ['kind', 'mode']));
      const mode = kind === 'diffusers' ? 'full' : kind;
      return { type: 'result', path, mode, step: num(first(data, ['steps', 'step'])), data };
    }
    case 'error': {
      const message = str(data.message) ?? 'the worker reported an error without a message';
      return { type: 'error', message, code: str(data.code), details: problemsOf(data.details), data };
    }
    default:
      return null;
  }
}
