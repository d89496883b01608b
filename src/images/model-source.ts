import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidRequestError } from '../protocol/index.js';
import type { ModelRecord } from '../store/index.js';

/**
 * Where the diffusion worker finds a model's weights (python/atelier_diffusion/resident.py `ModelSource`): a
 * diffusers folder or single-file checkpoint, plus a LoRA merged on top for DreamBooth LoRA results.
 */
export interface ModelSource {
  path: string;
  lora?: string;
  lora_scale?: number;
  /** A diffusers folder with configs, for single files that carry none (not written by atelier). */
  config?: string;
}

/** True for models the diffusion worker can generate with. */
export function isImageModel(model: ModelRecord): boolean {
  return model.format === 'diffusers' || model.format === 'sd-checkpoint';
}

/** The worker's source for an installed model; a 400 on `model` when it is not a Stable Diffusion model. */
export function modelSource(model: ModelRecord): ModelSource {
  if (!isImageModel(model)) {
    throw new InvalidRequestError(
      `The model '${model.name}' is a ${model.format} model, not an image model (diffusers or SD checkpoint)`,
      { param: 'model', code: 'invalid_model' },
    );
  }
  const source: ModelSource = { path: model.path };
  const { lora, lora_scale: scale, config } = model.metadata;
  if (typeof lora === 'string') source.lora = lora;
  if (typeof scale === 'number') source.lora_scale = scale;
  if (typeof config === 'string') source.config = config;
  return source;
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * The square size a model was trained at, in pixels: UNet `sample_size` × the VAE's downsampling factor for a
 * diffusers folder (512 for SD 1.5, 32 for the tiny fixture); 512 when it cannot be read (single files).
 */
export function nativeSize(model: ModelRecord): number {
  if (model.format !== 'diffusers' || !existsSync(join(model.path, 'unet', 'config.json'))) return 512;
  const unet = readJson(join(model.path, 'unet', 'config.json'));
  const vae = readJson(join(model.path, 'vae', 'config.json'));
  const sample = unet?.sample_size;
  const levels = Array.isArray(vae?.block_out_channels) ? vae.block_out_channels.length : 4;
  return typeof sample === 'number' ? sample * 2 ** (levels - 1) : 512;
}
