import { describeError, postStream } from './api.js';
import { alertBox, el, field, numberOrUndefined } from './dom.js';
import { rememberForm } from './form-memory.js';
import { baseModelOf, createGallery } from './gallery.js';
import type { SavedImage } from './history.js';
import { capabilityBadges, createModelPicker, modelsListed } from './models.js';
import type { Tab } from './tabs.js';

/** The Images tab, with a way for other tabs to preselect a model and prompt. */
export interface ImagesTab extends Tab {
  /** Selects `model` (refreshing the list first, so a just-made fine-tune is there) and fills the prompt. */
  use(model: string, prompt: string): Promise<void>;
}

const samplers = ['', 'ddim', 'euler', 'euler_a', 'dpmpp_2m_karras'];
const sizeRule = 'WIDTHxHEIGHT, multiples of 8 from 8 to 2048';

/** Why a typed size would be refused (the server's rule, said before it is asked), or null. */
export function sizeProblem(text: string): string | null {
  if (text.trim() === '') return null;
  const match = /^(\d+)x(\d+)$/.exec(text.trim());
  if (!match) return `Size must be ${sizeRule} (like 512x512); got "${text}".`;
  const bad = [match[1], match[2]].map(Number).find((side) => side % 8 !== 0 || side < 8 || side > 2048);
  return bad === undefined ? null : `Size sides must be multiples of 8 from 8 to 2048; ${bad} is not.`;
}

/** Sizes worth offering for a model trained at `native`²: the square, 3:2 both ways, and twice the side. */
function sizesFor(native: number): string[] {
  const wide = Math.round((native * 1.5) / 8) * 8;
  return [`${native}x${native}`, `${wide}x${native}`, `${native}x${wide}`, `${native * 2}x${native * 2}`].filter(
    (s) => sizeProblem(s) === null,
  );
}

/**
 * The Images tab: model (native size shown, sizes offered from it), prompt, negative prompt, size, steps, guidance,
 * seed, sampler, count and (for a LoRA model) its strength for `/v1/images/generations`, streamed so a bar follows the model load and each denoising
 * step; results are kept in the server-side gallery (reuse settings or seed, compare a fine-tune with its base on
 * one seed, lightbox, delete). The form's settings are remembered on the server too.
 */
export function createImagesTab(): ImagesTab {
  let running: AbortController | null = null;
  const picker = createModelPicker('image', 'images-model');
  const model = picker.select;
  const prompt = el('textarea', {
    id: 'images-prompt',
    rows: 3,
    required: true,
    placeholder: 'a photo of sks dog on the moon',
  });
  const negative = el('textarea', { id: 'images-negative', rows: 2, placeholder: 'blurry, low quality' });
  const size = el('input', { id: 'images-size', placeholder: 'native', list: 'image-sizes', autocomplete: 'off' });
  const sizes = el('datalist', { id: 'image-sizes' });
  const sizeHint = el('small', { id: 'images-size-hint', text: sizeRule });
  const steps = el('input', { type: 'number', id: 'images-steps', min: 1, max: 150, placeholder: 'default' });
  const guidance = el('input', {
    type: 'number',
    id: 'images-guidance',
    min: 0,
    max: 50,
    step: 0.5,
    placeholder: 'default',
  });
  const seed = el('input', { type: 'number', id: 'images-seed', min: 0, placeholder: 'random' });
  const count = el('input', { type: 'number', id: 'images-n', min: 1, max: 10, value: 1 });
  const sampler = el('select', { id: 'images-sampler' }, ...samplers.map((s) => new Option(s || 'default', s)));
  const badges = el('span', { class: 'model-badges' });
  const loraScale = el('input', { type: 'range', id: 'images-lora-scale', min: 0, max: 2, step: 0.05, value: 1 });
  const loraWords = el('output', { id: 'images-lora-words', for: 'images-lora-scale', text: '1.00' });
  // Shown only for LoRA models: the API refuses a strength for any other model.
  const loraField = el(
    'div',
    { class: 'lora-strength', hidden: true },
    field('LoRA strength', loraScale, '0 = the base model, 1 = as trained'),
    loraWords,
  );
  loraScale.addEventListener('input', () => {
    loraWords.textContent = Number(loraScale.value).toFixed(2);
  });
  const progress = el('progress', { id: 'images-progress', max: 1, value: 0, hidden: true });
  const status = el('span', { class: 'muted', id: 'images-status', 'aria-live': 'polite' });
  const compare = el('div', { class: 'compare', id: 'images-compare', hidden: true });
  const error = alertBox();
  const generate = el('button', { type: 'submit' }, 'Generate');
  const stop = el('button', { type: 'button', disabled: true, onclick: () => running?.abort() }, 'Stop');
  const fields = { model, prompt, negative, size, steps, guidance, seed, n: count, sampler, loraScale };
  const memory = rememberForm('images', fields);

  const showModel = (): void => {
    const info = picker.current();
    badges.replaceChildren(capabilityBadges(info));
    loraField.hidden = !info?.capabilities?.includes('lora');
    loraWords.textContent = Number(loraScale.value).toFixed(2);
    const native = info?.native_size;
    size.placeholder = native ? `native ${native}x${native}` : 'native';
    sizes.replaceChildren(...(native ? sizesFor(native) : []).map((s) => new Option(s)));
    sizeHint.textContent = native ? `${sizeRule}; trained at ${native}x${native} (empty = that)` : sizeRule;
  };
  model.addEventListener('change', showModel);
  model.addEventListener(modelsListed, showModel);

  /** The request the form says; throws with what to fix before anything is sent. */
  const body = (): Record<string, unknown> => {
    const problem = sizeProblem(size.value);
    if (problem) throw new Error(problem);
    const out: Record<string, unknown> = { model: model.value, prompt: prompt.value, n: numberOrUndefined(count) ?? 1 };
    if (negative.value.trim()) out.negative_prompt = negative.value;
    if (size.value.trim()) out.size = size.value.trim();
    if (sampler.value) out.sampler = sampler.value;
    if (!loraField.hidden) out.lora_scale = Number(loraScale.value);
    for (const [key, input] of [
      ['steps', steps],
      ['guidance_scale', guidance],
      ['seed', seed],
    ] as const) {
      const value = numberOrUndefined(input);
      if (value !== undefined) out[key] = value;
    }
    return out;
  };

  /** Streams one request: the bar follows load and steps; `done` gets each image with its index. */
  const stream = async (
    request: Record<string, unknown>,
    done: (b64: string, seed: number | null, index: number) => Promise<void>,
  ): Promise<void> => {
    if (running) return;
    error.clear();
    const controller = new AbortController();
    running = controller;
    generate.disabled = true;
    stop.disabled = false;
    progress.hidden = false;
    progress.value = 0;
    const n = Number(request.n ?? 1);
    const what = n > 1 ? `${n} images` : '1 image';
    status.textContent = `Starting ${what}…`;
    try {
      let finished = 0;
      for await (const event of postStream('/v1/images/generations', { ...request, stream: true }, controller.signal)) {
        if (event.type === 'image_generation.progress' && event.stage === 'load') {
          progress.removeAttribute('value'); // indeterminate: loading has no steps to count
          status.textContent = 'Loading the model into the worker (first use; later requests skip this)…';
        } else if (event.type === 'image_generation.progress') {
          progress.max = Number(event.total) || 1;
          progress.value = Number(event.step) || 0;
          status.textContent = `Generating ${what} · step ${String(event.step)} of ${String(event.total)}`;
        } else if (event.type === 'image_generation.completed') {
          const index = typeof event.index === 'number' ? event.index : finished;
          finished += 1;
          status.textContent = `image ${finished} of ${n} done`;
          await done(String(event.b64_json), typeof event.seed === 'number' ? event.seed : null, index);
        }
      }
    } catch (failure) {
      // Stop is not an error: the server cancels the work between denoising steps.
      if (controller.signal.aborted) status.textContent = 'stopped';
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

  const run = async (): Promise<void> => {
    let request: Record<string, unknown>;
    try {
      request = body();
    } catch (failure) {
      error.show(describeError(failure));
      return;
    }
    const batch = `b${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await stream(request, async (b64, imageSeed, index) => {
      await gallery.add(b64, {
        model: String(request.model),
        prompt: String(request.prompt),
        seed: imageSeed,
        settings: { ...request, batch, index },
      });
    });
  };

  const gallery = createGallery({
    reuse: (settings, seedOnly) => {
      if (seedOnly) seed.value = String(settings.seed ?? '');
      else {
        const wire: Record<string, keyof typeof fields> = {
          negative_prompt: 'negative',
          guidance_scale: 'guidance',
          lora_scale: 'loraScale',
        };
        for (const key of Object.keys(fields) as (keyof typeof fields)[]) fields[key].value = '';
        count.value = '1';
        for (const [key, value] of Object.entries(settings)) {
          const target = fields[(wire[key] ?? key) as keyof typeof fields];
          if (target && value !== undefined && value !== null) target.value = String(value);
        }
        void picker.refresh(String(settings.model ?? ''));
      }
      prompt.scrollIntoView({ block: 'center' });
    },
    compare: (image: SavedImage, src: string) => {
      const base = baseModelOf(image.model);
      if (!base) return;
      const { batch: _batch, index: _index, ...settings } = image.settings;
      // The base has no LoRA to scale: the API would refuse the strength.
      const { lora_scale: _strength, ...rest } = settings;
      const request = { ...rest, model: base, n: 1, seed: image.seed };
      const baseImage = el('img', { alt: `${base}, seed ${String(image.seed)}` });
      compare.hidden = false;
      compare.replaceChildren(
        el('h3', { text: `Same prompt and seed ${String(image.seed)}` }),
        el(
          'figure',
          {},
          el('img', { src, alt: `${image.model}, seed ${String(image.seed)}` }),
          el('figcaption', { text: `fine-tuned: ${image.model}` }),
        ),
        el('figure', {}, baseImage, el('figcaption', { text: `base: ${base}` })),
      );
      void stream(request, async (b64) => {
        baseImage.src = `data:image/png;base64,${b64}`;
      });
    },
  });

  const form = el(
    'form',
    {
      class: 'image-form',
      onsubmit: (event) => {
        event.preventDefault();
        void run();
      },
    },
    el('div', { class: 'row' }, field('Model', model), badges),
    loraField,
    field('Prompt', prompt),
    field('Negative prompt', negative),
    el(
      'div',
      { class: 'row' },
      field('Size', size, undefined),
      sizes,
      field('Steps', steps, 'empty = default'),
      field('Guidance', guidance, 'CFG; empty = default'),
      field('Seed', seed, 'empty = random'),
      field('Images', count),
      field('Sampler', sampler),
    ),
    sizeHint,
    el('div', { class: 'buttons' }, generate, stop, progress, status),
  );
  const root = el('section', { class: 'images' }, picker.alert, form, error.root, compare, gallery.root);
  let restored = false;
  return {
    id: 'images',
    label: 'Images',
    root,
    activate: () => {
      void (async () => {
        if (!restored) restored = await memory.restore();
        await picker.refresh();
        await gallery.load();
      })();
    },
    use: async (name, text) => {
      if (!restored) restored = await memory.restore();
      await picker.refresh(name);
      model.dispatchEvent(new Event('change'));
      if (text) {
        prompt.value = text;
        prompt.dispatchEvent(new Event('input'));
      }
    },
  };
}
