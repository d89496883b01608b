import { describeError, getJson } from './api.js';
import { alertBox, el } from './dom.js';

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
 * Fills `select` with the models of `kind`: `prefer` when listed, else the current choice when still listed, else
 * the first. Returns how many models it lists.
 */
export function fillModelSelect(select: HTMLSelectElement, models: readonly ModelInfo[], kind: ModelKind, prefer?: string): number {
  const usable = models.filter((model) => kindOf(model) === kind);
  const keep = [prefer, select.value].find((id) => id && usable.some((model) => model.id === id));
  select.replaceChildren(...usable.map((model) => new Option(model.id, model.id)));
  if (usable.length === 0) select.append(new Option(`no ${kind} model installed`, ''));
  if (keep) select.value = keep;
  return usable.length;
}

/** A model `<select>` of one kind, with its own alert for when the list cannot be read (a missing API key, say). */
export interface ModelPicker {
  select: HTMLSelectElement;
  /** Shown only while the last refresh failed. */
  alert: HTMLElement;
  /** Re-reads /v1/models; `prefer` selects a model when it is listed. */
  refresh(prefer?: string): Promise<void>;
}

/** Creates a picker whose `<select>` has the given element id. */
export function createModelPicker(kind: ModelKind, id: string): ModelPicker {
  const select = el('select', { id });
  const alert = alertBox();
  return {
    select,
    alert: alert.root,
    refresh: async (prefer) => {
      try {
        fillModelSelect(select, await listModels(), kind, prefer);
        alert.clear();
      } catch (failure) {
        alert.show(`Could not list the models: ${describeError(failure)}`);
      }
    },
  };
}
