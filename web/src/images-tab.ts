import { describeError, postStream } from './api.js';
import { alertBox, el, field, numberOrUndefined } from './dom.js';
import { createModelPicker } from './models.js';
import { base64Bytes, pngParameters } from './png-text.js';
import type { Tab } from './tabs.js';

/** The Images tab, with a way for other tabs to preselect a model and prompt. */
export interface ImagesTab extends Tab {
  /** Selects `model` (refreshing the list first, so a just-made fine-tune is there) and fills the prompt. */
  use(model: string, prompt: string): Promise<void>;
}

const samplers = ['', 'ddim', 'euler', 'euler_a', 'dpmpp_2m_karras'];

/** One result: the image, a download link and the parameters the PNG itself records. */
function resultCard(b64: string, seed: unknown, size: unknown, model: string): HTMLElement {
  const url = `data:image/png;base64,${b64}`;
  const parameters = pngParameters(base64Bytes(b64)) ?? `Seed: ${String(seed)}, Size: ${String(size)}, Model: ${model}`;
  return el('figure', { class: 'result' },
    el('img', { src: url, alt: parameters.split('\n')[0] ?? 'generated image' }),
    el('figcaption', {},
      el('pre', { class: 'parameters', text: parameters }),
      el('a', { href: url, download: `atelier-${model.replace(/[^\w.-]+/g, '_')}-${String(seed)}.png` }, 'Download PNG')),
  );
}

/**
 * The Images tab: model, prompt, negative prompt, size, steps, guidance, seed, sampler and count for
 * `/v1/images/generations`, streamed so each denoising step moves a progress bar; results collect in a gallery,
 * newest first. Empty fields leave the choice to the server (the model's native size, its default steps).
 */
export function createImagesTab(): ImagesTab {
  let running: AbortController | null = null;
  const picker = createModelPicker('image', 'images-model');
  const model = picker.select;
  const prompt = el('textarea', { id: 'images-prompt', rows: 3, required: true, placeholder: 'a photo of sks dog on the moon' });
  const negative = el('textarea', { id: 'images-negative', rows: 2, placeholder: 'blurry, low quality' });
  const size = el('input', { id: 'images-size', placeholder: 'native', pattern: '\\d+x\\d+', list: 'image-sizes' });
  const sizes = el('datalist', { id: 'image-sizes' }, ...['512x512', '768x768', '512x768', '768x512', '1024x1024'].map((s) => new Option(s)));
  const steps = el('input', { type: 'number', id: 'images-steps', min: 1, max: 150, placeholder: 'default' });
  const guidance = el('input', { type: 'number', id: 'images-guidance', min: 0, max: 50, step: 0.5, placeholder: '7.5' });
  const seed = el('input', { type: 'number', id: 'images-seed', min: 0, placeholder: 'random' });
  const count = el('input', { type: 'number', id: 'images-n', min: 1, max: 10, value: 1 });
  const sampler = el('select', { id: 'images-sampler' }, ...samplers.map((s) => new Option(s || 'default', s)));
  const progress = el('progress', { id: 'images-progress', max: 1, value: 0, hidden: true });
  const status = el('span', { class: 'muted', 'aria-live': 'polite' });
  const gallery = el('div', { class: 'gallery', id: 'images-gallery' });
  const error = alertBox();
  const generate = el('button', { type: 'submit' }, 'Generate');
  const stop = el('button', { type: 'button', disabled: true, onclick: () => running?.abort() }, 'Stop');

  const body = (): Record<string, unknown> => {
    const out: Record<string, unknown> = { model: model.value, prompt: prompt.value, stream: true, n: numberOrUndefined(count) ?? 1 };
    if (negative.value.trim()) out.negative_prompt = negative.value;
    if (size.value.trim()) out.size = size.value.trim();
    if (sampler.value) out.sampler = sampler.value;
    for (const [key, input] of [['steps', steps], ['guidance_scale', guidance], ['seed', seed]] as const) {
      const value = numberOrUndefined(input);
      if (value !== undefined) out[key] = value;
    }
    return out;
  };

  const run = async (): Promise<void> => {
    if (running) return;
    error.clear();
    running = new AbortController();
    generate.disabled = true;
    stop.disabled = false;
    progress.hidden = false;
    progress.value = 0;
    const request = body();
    try {
      let done = 0;
      for await (const event of postStream('/v1/images/generations', request, running.signal)) {
        if (event.type === 'image_generation.progress') {
          progress.max = Number(event.total) || 1;
          progress.value = Number(event.step) || 0;
          status.textContent = `${String(event.stage)} ${String(event.step)}/${String(event.total)}`;
        } else if (event.type === 'image_generation.completed') {
          gallery.prepend(resultCard(String(event.b64_json), event.seed, event.size, model.value));
          status.textContent = `${++done} of ${String(request.n)} done`;
        }
      }
    } catch (failure) {
      // Stop is not an error: the server cancels the work between denoising steps.
      if (running.signal.aborted) status.textContent = 'stopped';
      else {
        error.show(describeError(failure));
        status.textContent = '';
      }
    } finally {
      running = null;
      generate.disabled = false;
      stop.disabled = true;
      progress.hidden = true;
    }
  };

  const form = el('form', { class: 'image-form', onsubmit: (event) => { event.preventDefault(); void run(); } },
    field('Model', model), field('Prompt', prompt), field('Negative prompt', negative),
    el('div', { class: 'row' }, field('Size', size), sizes, field('Steps', steps), field('Guidance', guidance), field('Seed', seed), field('Images', count), field('Sampler', sampler)),
    el('div', { class: 'buttons' }, generate, stop, progress, status));
  const root = el('section', { class: 'images' }, picker.alert, form, error.root, gallery);
  return {
    id: 'images', label: 'Images', root,
    activate: () => void picker.refresh(),
    use: async (name, text) => {
      await picker.refresh(name);
      prompt.value = text;
    },
  };
}
