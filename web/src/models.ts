import { getJson } from './api.js';

/** OpenAI's model object plus atelier's `format` (gguf, onnx, diffusers, sd-checkpoint). */
export interface ModelInfo {
  id: string;
  object: 'model';
  /** Unix seconds. */
  created: number;
  owned_by: string;
  format: string;
}

/** What a model is used for: chat completions or image generation. */
export type ModelKind = 'chat' | 'image';

/** Stable Diffusion formats generate images (a DreamBooth LoRA keeps its base's format); the rest chat. */
export function kindOf(model: ModelInfo): ModelKind {
  return model.format === 'diffusers' || model.format === 'sd-checkpoint' ? 'image' : 'chat';
}

/** `GET /v1/models`, sorted by id. */
export async function listModels(): Promise<ModelInfo[]> {
  const page = await getJson<{ data: ModelInfo[] }>('/v1/models');
  return page.data.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Fills `select` with the models of `kind`, keeping the current choice when it is still there (else `prefer`, else
 * the first). Returns how many models it lists.
 */
export function fillModelSelect(select: HTMLSelectElement, models: readonly ModelInfo[], kind: ModelKind, prefer?: string): number {
  const current = select.value || prefer;
  const usable = models.filter((model) => kindOf(model) === kind);
  select.replaceChildren(...usable.map((model) => new Option(model.id, model.id)));
  if (usable.length === 0) select.append(new Option(`no ${kind} model installed`, ''));
  if (current && usable.some((model) => model.id === current)) select.value = current;
  return usable.length;
}
