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
  /** What the model takes: `vision`, `tools`, `json` (chat), `image`, `lora` (image). */
  capabilities?: string[];
  /** Image models: the square size in pixels it was trained at. */
  native_size?: number;
}

const badgeNames: Record<string, string> = {
  vision: 'vision',
  tools: 'tools',
  json: 'JSON',
  image: 'image',
  lora: 'LoRA',
};

/** Badges of what a model takes (vision, tools, JSON; LoRA), for pickers and the Models tab. */
export function capabilityBadges(model: ModelInfo | undefined): HTMLElement {
  const caps = (model?.capabilities ?? []).filter((cap) => cap in badgeNames && cap !== 'image');
  return el(
    'span',
    { class: 'badges', 'aria-label': caps.length ? `takes ${caps.map((c) => badgeNames[c]).join(', ')}` : 'text only' },
    ...caps.map((cap) => el('span', { class: `badge ${cap}`, text: badgeNames[cap] })),
  );
}

/** What a model is used for: chat completions or image generation. */
export type ModelKind = 'chat' | 'image';

/** Stable Diffusion formats generate images (a DreamBooth LoRA keeps its base's format); the rest chat. */
export function kindOf(model: ModelInfo): ModelKind {
  if (model.capabilities) return model.capabilities.includes('image') ? 'image' : 'chat';
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
export function fillModelSelect(
  select: HTMLSelectElement,
  models: readonly ModelInfo[],
  kind: ModelKind,
  prefer?: string,
): number {
  const usable = models.filter((model) => kindOf(model) === kind);
  // A checkpoint (`…:ckpt-step-N`) is not listed by /v1/models but generates like one: it is kept when asked for.
  const checkpoint = [prefer, select.value].find((id) => id && /:ckpt-step-\d+$/.test(id));
  if (kind === 'image' && checkpoint && !usable.some((model) => model.id === checkpoint)) {
    usable.push({
      id: checkpoint,
      object: 'model',
      created: 0,
      owned_by: 'user',
      format: 'checkpoint',
      capabilities: ['image'],
    });
  }
  const keep = [prefer, select.value, select.dataset.wanted].find(
    (id) => id && usable.some((model) => model.id === id),
  );
  select.replaceChildren(...usable.map((model) => new Option(model.id, model.id)));
  if (usable.length === 0) select.append(new Option(`no ${kind} model installed`, ''));
  if (keep) select.value = keep;
  return usable.length;
}

/** Event a picker's `<select>` gets after each refresh of the list. */
export const modelsListed = 'atelier:models-listed';

/** A model `<select>` of one kind, with its own alert for when the list cannot be read (a missing API key, say). */
export interface ModelPicker {
  select: HTMLSelectElement;
  /** Shown only while the last refresh failed. */
  alert: HTMLElement;
  /** Re-reads /v1/models; `prefer` selects a model when it is listed. */
  refresh(prefer?: string): Promise<void>;
  /** The selected model's entry, as last listed. */
  current(): ModelInfo | undefined;
}

/** Creates a picker whose `<select>` has the given element id. */
export function createModelPicker(kind: ModelKind, id: string): ModelPicker {
  const select = el('select', { id });
  const alert = alertBox();
  let models: ModelInfo[] = [];
  return {
    select,
    alert: alert.root,
    current: () => models.find((model) => model.id === select.value),
    refresh: async (prefer) => {
      try {
        models = await listModels();
        fillModelSelect(select, models, kind, prefer);
        // Listeners (badges, size hints) follow the choice; not `change`, which would count as the user's edit.
        select.dispatchEvent(new Event(modelsListed));
        alert.clear();
      } catch (failure) {
        alert.show(`Could not list the models: ${describeError(failure)}`);
      }
    },
  };
}
