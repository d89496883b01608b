import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidRequestError } from '../protocol/index.js';
import type { ModelRecord } from '../store/index.js';
import { callOnce, type WorkerClientOptions } from '../worker/index.js';
import { modelSource } from './model-source.js';

/** Formats `atelier export` writes (python/atelier_diffusion/export.py). */
export const exportFormats = ['diffusers', 'safetensors', 'lora-kohya', 'lora-diffusers'] as const;
/** One of `exportFormats`. */
export type ExportFormat = (typeof exportFormats)[number];

/** What an export produced. */
export interface ExportResult {
  path: string;
  format: ExportFormat;
}

/**
 * Exports `model` as `format` to `out` (a folder for `diffusers`, a `.safetensors` file otherwise) in a one-shot
 * worker process; `onProgress` hears its stages. LoRA formats need a LoRA model (DreamBooth LoRA result).
 */
export async function exportModel(
  model: ModelRecord,
  format: ExportFormat,
  out: string,
  options: Pick<WorkerClientOptions, 'python' | 'onOutput'> = {},
): Promise<ExportResult> {
  if (!(exportFormats as readonly string[]).includes(format)) {
    throw new InvalidRequestError(`unknown export format '${format}'; use one of ${exportFormats.join(', ')}`, {
      param: 'format',
    });
  }
  const source = modelSource(model);
  if (format.startsWith('lora-') && !source.lora) {
    throw new InvalidRequestError(`'${model.name}' is a full model; ${format} needs a LoRA model`, { param: 'format' });
  }
  mkdirSync(dirname(out), { recursive: true });
  await callOnce('export', { model: source, model_name: model.name, format, out }, options).catch((error: unknown) => {
    throw new Error(`export failed: ${(error as Error).message}`);
  });
  return { path: out, format };
}
