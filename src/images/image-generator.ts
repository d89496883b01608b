import { randomInt } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import {
  InternalServerError,
  InvalidRequestError,
  RateLimitError,
  ServiceUnavailableError,
  type ApiError,
  type ImageRequest,
  type ImageSampler,
} from '../protocol/index.js';
import type { ModelRecord } from '../store/index.js';
import { newId } from '../util/index.js';
import { WorkerError, type WorkerClient } from '../worker/index.js';
import { modelSource, nativeSize, type ModelSource } from './model-source.js';

/** Defaults for fields a request leaves out. */
export interface ImageDefaults {
  /** Denoising steps; default 30. */
  steps: number;
  /** Classifier-free guidance scale; default 7.5. */
  guidanceScale: number;
  /** Default `euler_a` (A1111's default). */
  sampler: ImageSampler;
}

/** What the generator needs. */
export interface ImageGeneratorOptions {
  /** The resident worker: one client kept alive, so models stay loaded between requests. */
  worker: WorkerClient;
  /** Folder the PNGs are written to (created). */
  outputDir: string;
  /** Requests waiting or running at most; more are refused with 429 and Retry-After. Default 16. */
  maxQueue?: number;
  defaults?: Partial<ImageDefaults>;
}

/** One generated image on disk. */
export interface GeneratedImage {
  /** Absolute path of the PNG (with an A1111 `parameters` chunk). */
  path: string;
  /** File name inside the output folder (what the `url` form serves). */
  file: string;
  /** The seed of this image alone. */
  seed: number;
}

/** Progress of one request: `stage` is `load` (model not resident yet) or `generate` (denoising `step` of `total`). */
export interface ImageProgress {
  stage: string;
  step: number;
  total: number;
}

/** Per-call options. */
export interface GenerateOptions {
  onProgress?: (progress: ImageProgress) => void;
  /** Aborting cancels the request between denoising steps (or before it starts). */
  signal?: AbortSignal;
  /** File name prefix; images are `<prefix>-<i>.png`. Default: a random id (names are unguessable URLs). */
  prefix?: string;
}

/** The request as sent to the worker, with every default filled in (also what the PNGs record). */
export interface ResolvedImageRequest {
  prompt: string;
  negativePrompt: string;
  n: number;
  width: number;
  height: number;
  steps: number;
  guidanceScale: number;
  sampler: ImageSampler;
  seed: number;
}

/**
 * Text-to-image for base models and DreamBooth results through the resident worker. Fills defaults (the model's
 * native size, a random seed), bounds the queue, maps worker failures onto the API's errors.
 */
export class ImageGenerator {
  private queued = 0;
  private readonly defaults: ImageDefaults;

  constructor(private readonly options: ImageGeneratorOptions) {
    this.defaults = { steps: 30, guidanceScale: 7.5, sampler: 'euler_a', ...options.defaults };
    mkdirSync(options.outputDir, { recursive: true });
  }

  /** Stops the worker (its resident models are released). */
  close(): Promise<void> {
    return this.options.worker.close();
  }

  /** The folder PNGs are written to. */
  get outputDir(): string {
    return this.options.outputDir;
  }

  /** Fills a request's defaults for `model`. */
  resolve(model: ModelRecord, request: ImageRequest): ResolvedImageRequest {
    const size = nativeSize(model);
    return {
      prompt: request.prompt,
      negativePrompt: request.negativePrompt,
      n: request.n,
      width: request.width ?? size,
      height: request.height ?? size,
      steps: request.steps ?? this.defaults.steps,
      guidanceScale: request.guidanceScale ?? this.defaults.guidanceScale,
      sampler: request.sampler ?? this.defaults.sampler,
      seed: request.seed ?? randomInt(0, 2 ** 32 - 1),
    };
  }

  /** Generates `request.n` images with `model`; resolves once every PNG is written. */
  async generate(model: ModelRecord, request: ImageRequest, options: GenerateOptions = {}): Promise<GeneratedImage[]> {
    const source = withLoraScale(model, modelSource(model), request.loraScale);
    const maxQueue = this.options.maxQueue ?? 16;
    if (this.queued >= maxQueue) {
      throw new RateLimitError(`The image queue is full (${maxQueue} requests); retry shortly`, 5);
    }
    const resolved = this.resolve(model, request);
    this.queued += 1;
    try {
      const result = await this.options.worker.call(
        'generate',
        {
          model: source,
          model_name: model.name,
          out_dir: this.options.outputDir,
          prefix: options.prefix ?? newId('img', 16),
          prompt: resolved.prompt,
          negative_prompt: resolved.negativePrompt,
          n: resolved.n,
          width: resolved.width,
          height: resolved.height,
          steps: resolved.steps,
          guidance_scale: resolved.guidanceScale,
          sampler: resolved.sampler,
          seed: resolved.seed,
        },
        {
          signal: options.signal,
          onEvent: (event) => {
            if (event.type === 'progress')
              options.onProgress?.({ stage: event.stage, step: event.step, total: event.total });
          },
        },
      );
      return imagesOf(result.data);
    } catch (error) {
      throw toImageError(error);
    } finally {
      this.queued -= 1;
    }
  }
}

/**
 * The source with the request's LoRA strength: the worker merges the adapter at that scale (and keys its resident
 * model on it, so a new strength loads the model again). A strength for a model without a LoRA is a 400 rather than
 * silently meaningless.
 */
function withLoraScale(model: ModelRecord, source: ModelSource, scale: number | undefined): ModelSource {
  if (scale === undefined) return source;
  if (!source.lora) {
    throw new InvalidRequestError(`'lora_scale' applies to LoRA models; '${model.name}' is not one`, {
      param: 'lora_scale',
      code: 'invalid_value',
    });
  }
  return { ...source, lora_scale: scale };
}

function imagesOf(result: Record<string, unknown>): GeneratedImage[] {
  const images = Array.isArray(result.images) ? (result.images as { path?: unknown; seed?: unknown }[]) : [];
  return images.map((image) => {
    if (typeof image.path !== 'string' || typeof image.seed !== 'number') {
      throw new InternalServerError('the image worker answered without image paths');
    }
    return { path: image.path, file: basename(image.path), seed: image.seed };
  });
}

/** Worker failures as API errors: its validation → 400, a crash → 503 (the next request restarts it). */
export function toImageError(error: unknown): ApiError | Error {
  if (!(error instanceof WorkerError)) return error instanceof Error ? error : new Error(String(error));
  const detail = error.details.map((d) => `${d.path}: ${d.message}`).join('; ');
  const message = detail ? `${error.message} (${detail})` : error.message;
  switch (error.code) {
    case 'invalid_params':
    case 'invalid_request':
    case 'invalid_model':
      return new InvalidRequestError(message, { param: error.details[0]?.path ?? null, code: error.code });
    case 'worker_crashed':
    case 'worker_closed':
      return new ServiceUnavailableError(`Image generation failed: ${message}`);
    default:
      return error;
  }
}
