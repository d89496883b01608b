/**
 * Wire shapes of `POST /v1/images/generations` (openai-node `resources/images`) plus atelier's body extensions,
 * and their validation into the camelCase request the image generator takes. snake_case lives here only.
 */
import { InvalidRequestError } from './errors.js';

/** Samplers the diffusion worker implements (python/atelier_diffusion/sample.py `SAMPLERS`). */
export const imageSamplers = ['ddim', 'euler', 'euler_a', 'dpmpp_2m_karras'] as const;
/** One of `imageSamplers`. */
export type ImageSampler = (typeof imageSamplers)[number];

/** Limits of a request; sizes in pixels (multiples of 8, the VAE's downsampling factor). */
export const imageLimits = {
  minSize: 8,
  maxSize: 2048,
  maxSteps: 150,
  maxImages: 10,
  maxGuidance: 50,
  maxSeed: 2 ** 32 - 1,
  /** `lora_scale` runs from 0 (the base model alone) to 2 (the adapter doubled), as A1111's LoRA weights do. */
  maxLoraScale: 2,
  maxPromptChars: 4000,
} as const;

/** The request body: OpenAI's fields plus `negative_prompt`, `steps`, `guidance_scale`, `seed`, `sampler`, `lora_scale`. */
export interface ImageGenerateBody {
  prompt: string;
  model?: string;
  n?: number | null;
  /** `WIDTHxHEIGHT`, e.g. `512x512`; default the model's native square size. */
  size?: string | null;
  response_format?: 'b64_json' | 'url' | null;
  /** OpenAI's `quality`, `style`, `user`, … are accepted and ignored. */
  [extra: string]: unknown;
  negative_prompt?: string;
  steps?: number;
  guidance_scale?: number;
  seed?: number;
  sampler?: ImageSampler;
  /** A LoRA model's strength (atelier): 0 = the base model alone, 1 = as trained (the default), up to 2. */
  lora_scale?: number;
  /** Server-sent events: `image_generation.progress` per step (atelier), `image_generation.completed` per image. */
  stream?: boolean | null;
}

/** A streamed progress event (atelier's addition to OpenAI's image stream events). */
export interface ImageProgressEvent {
  type: 'image_generation.progress';
  /** `load` while the model is loaded into the worker, then `generate` per denoising step. */
  stage: string;
  step: number;
  total: number;
  created_at: number;
}

/** OpenAI's `image_generation.completed` event, one per image, plus atelier's `seed` and `index`. */
export interface ImageCompletedEvent {
  type: 'image_generation.completed';
  b64_json: string;
  background: 'opaque';
  created_at: number;
  output_format: 'png';
  quality: 'auto';
  size: string;
  usage: {
    input_tokens: number;
    output_tokens: number;
    total_tokens: number;
    input_tokens_details: { image_tokens: number; text_tokens: number };
  };
  index: number;
  seed: number;
}

/** One image of the response. `revised_prompt` is always the prompt used (atelier never rewrites it). */
export interface ImageObject {
  b64_json?: string;
  url?: string;
  revised_prompt: string;
  /** atelier extension: the seed this image was made with (re-run it alone with `seed` and `n: 1`). */
  seed: number;
}

/** OpenAI's `ImagesResponse`. */
export interface ImagesResponse {
  created: number;
  data: ImageObject[];
}

/** A validated request. `width`/`height`/`steps`/`guidanceScale`/`seed` are undefined when the body left them out. */
export interface ImageRequest {
  model: string | undefined;
  prompt: string;
  negativePrompt: string;
  n: number;
  width: number | undefined;
  height: number | undefined;
  responseFormat: 'b64_json' | 'url';
  steps: number | undefined;
  guidanceScale: number | undefined;
  seed: number | undefined;
  sampler: ImageSampler | undefined;
  /** A LoRA model's strength; undefined: the strength it was installed with. */
  loraScale?: number;
  /** Answer as server-sent events. */
  stream: boolean;
}

function fail(param: string, message: string): never {
  throw new InvalidRequestError(message, { param, code: 'invalid_value' });
}

function optionalInt(body: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(key, `'${key}' must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalString(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') fail(key, `'${key}' must be a string`);
  if (value.length > imageLimits.maxPromptChars)
    fail(key, `'${key}' is longer than ${imageLimits.maxPromptChars} characters`);
  return value;
}

/** Parses `WIDTHxHEIGHT` (OpenAI's `size`) into pixels, checking the multiple-of-8 and range rules. */
export function parseImageSize(size: string): { width: number; height: number } {
  const match = /^(\d{1,5})x(\d{1,5})$/.exec(size);
  const { minSize, maxSize } = imageLimits;
  const rule = `multiples of 8 between ${minSize} and ${maxSize}`;
  if (!match) fail('size', `'size' must look like 512x512 (WIDTHxHEIGHT, ${rule}), got ${JSON.stringify(size)}`);
  const width = Number(match[1]);
  const height = Number(match[2]);
  for (const side of [width, height]) {
    if (side % 8 !== 0 || side < minSize || side > maxSize) fail('size', `'size' sides must be ${rule}, got ${size}`);
  }
  return { width, height };
}

/** Validates a request body; every rejection is a 400 InvalidRequestError naming the field in `param`. */
export function parseImageRequest(raw: unknown): ImageRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    fail('body', 'the request body must be a JSON object');
  const body = raw as Record<string, unknown>;
  const prompt = optionalString(body, 'prompt');
  if (prompt === undefined || prompt.trim() === '') fail('prompt', "'prompt' is required and must not be empty");
  const model = optionalString(body, 'model');
  const format = body.response_format ?? 'b64_json';
  if (format !== 'b64_json' && format !== 'url')
    fail('response_format', "'response_format' must be 'b64_json' or 'url'");
  const size = optionalString(body, 'size');
  const dims = size === undefined || size === 'auto' ? undefined : parseImageSize(size);
  const sampler = body.sampler ?? undefined;
  if (sampler !== undefined && !(imageSamplers as readonly unknown[]).includes(sampler)) {
    fail('sampler', `'sampler' must be one of ${imageSamplers.join(', ')}, got ${JSON.stringify(sampler)}`);
  }
  const guidance = body.guidance_scale ?? undefined;
  if (
    guidance !== undefined &&
    (typeof guidance !== 'number' || !(guidance >= 0 && guidance <= imageLimits.maxGuidance))
  ) {
    fail('guidance_scale', `'guidance_scale' must be a number between 0 and ${imageLimits.maxGuidance}`);
  }
  const stream = body.stream ?? false;
  if (typeof stream !== 'boolean') fail('stream', "'stream' must be a boolean");
  const loraScale = body.lora_scale ?? undefined;
  if (
    loraScale !== undefined &&
    (typeof loraScale !== 'number' || !(loraScale >= 0 && loraScale <= imageLimits.maxLoraScale))
  ) {
    fail('lora_scale', `'lora_scale' must be a number between 0 and ${imageLimits.maxLoraScale}`);
  }
  return {
    model,
    prompt,
    negativePrompt: optionalString(body, 'negative_prompt') ?? '',
    n: optionalInt(body, 'n', 1, imageLimits.maxImages) ?? 1,
    width: dims?.width,
    height: dims?.height,
    responseFormat: format,
    steps: optionalInt(body, 'steps', 1, imageLimits.maxSteps),
    guidanceScale: guidance as number | undefined,
    seed: optionalInt(body, 'seed', 0, imageLimits.maxSeed),
    sampler: sampler as ImageSampler | undefined,
    ...(loraScale !== undefined && { loraScale: loraScale as number }),
    stream,
  };
}

/** A generated image as the response shows it: its PNG as base64, or the URL it is served at. */
export interface GeneratedImageView {
  /** The seed it was made with. */
  seed: number;
  b64Json?: string;
  url?: string;
}

/** OpenAI's `ImagesResponse` for images made from `prompt`; `created` in Unix seconds. */
export function imagesResponseToWire(
  prompt: string,
  images: readonly GeneratedImageView[],
  created: number,
): ImagesResponse {
  const data = images.map((image): ImageObject => {
    const out: ImageObject = { revised_prompt: prompt, seed: image.seed };
    if (image.url !== undefined) out.url = image.url;
    if (image.b64Json !== undefined) out.b64_json = image.b64Json;
    return out;
  });
  return { created, data };
}

/** The `image_generation.progress` event of a stage's step; `createdAt` in Unix seconds. */
export function imageProgressToWire(
  progress: { stage: string; step: number; total: number },
  createdAt: number,
): ImageProgressEvent {
  return { type: 'image_generation.progress', ...progress, created_at: createdAt };
}

/** A streamed image as the `image_generation.completed` event shows it. */
export interface CompletedImageView {
  /** Position in the request's `n` images. */
  index: number;
  seed: number;
  b64Json: string;
  width: number;
  height: number;
}

/** The `image_generation.completed` event of one image (no tokens are counted: usage is zero). */
export function imageCompletedToWire(image: CompletedImageView, createdAt: number): ImageCompletedEvent {
  return {
    type: 'image_generation.completed',
    b64_json: image.b64Json,
    background: 'opaque',
    created_at: createdAt,
    output_format: 'png',
    quality: 'auto',
    size: `${image.width}x${image.height}`,
    index: image.index,
    seed: image.seed,
    usage: {
      input_tokens: 0,
      output_tokens: 0,
      total_tokens: 0,
      input_tokens_details: { image_tokens: 0, text_tokens: 0 },
    },
  };
}
