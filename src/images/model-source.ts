import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
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
  /** A DreamBooth training checkpoint of this base, applied on top (generation from a job's checkpoint). */
  checkpoint?: string;
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
  const { lora, lora_scale: scale, config, checkpoint } = model.metadata;
  if (typeof lora === 'string') source.lora = lora;
  if (typeof scale === 'number') source.lora_scale = scale;
  if (typeof config === 'string') source.config = config;
  if (typeof checkpoint === 'string') source.checkpoint = checkpoint;
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
 * The `__metadata__` strings of a safetensors file (its JSON header only; tensors are not read), or {} when absent
 * or unreadable. `atelier export` stores the diffusers configs there.
 */
export function safetensorsMetadata(path: string): Record<string, string> {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = Buffer.alloc(8);
    readSync(fd, size, 0, 8, 0);
    const length = Number(size.readBigUInt64LE());
    if (length > 100 * 2 ** 20) return {};
    const header = Buffer.alloc(length);
    readSync(fd, header, 0, length, 8);
    const parsed = JSON.parse(header.toString('utf8')) as { __metadata__?: Record<string, string> };
    return parsed.__metadata__ ?? {};
  } catch {
    return {};
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  try {
    return text === undefined ? null : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    return null;
  }
}

/**
 * The square size a model was trained at, in pixels: UNet `sample_size` × the VAE's downsampling factor (512 for
 * SD 1.5, 32 for the tiny fixture), read from a diffusers folder or from the configs an atelier export keeps in a
 * single file's metadata; 512 when there is nothing to read (a single file from elsewhere).
 */
export function nativeSize(model: ModelRecord): number {
  let unet: Record<string, unknown> | null = null;
  let vae: Record<string, unknown> | null = null;
  if (model.format === 'diffusers' && existsSync(join(model.path, 'unet', 'config.json'))) {
    unet = readJson(join(model.path, 'unet', 'config.json'));
    vae = readJson(join(model.path, 'vae', 'config.json'));
  } else if (model.format === 'sd-checkpoint') {
    const metadata = safetensorsMetadata(model.path);
    unet = parseJson(metadata['atelier.config.unet']);
    vae = parseJson(metadata['atelier.config.vae']);
  }
  const sample = unet?.sample_size;
  const levels = Array.isArray(vae?.block_out_channels) ? vae.block_out_channels.length : 4;
  return typeof sample === 'number' ? sample * 2 ** (levels - 1) : 512;
}
