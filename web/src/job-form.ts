import { el, numberOrUndefined } from './dom.js';
import type { Job } from './jobs.js';
import { duration } from './phase-bars.js';

/** The Personalize form's fields. */
export interface JobForm {
  model: HTMLSelectElement;
  photos: HTMLInputElement;
  className: HTMLInputElement;
  identifier: HTMLInputElement;
  mode: HTMLSelectElement;
  steps: HTMLInputElement;
  resolution: HTMLInputElement;
  suffix: HTMLInputElement;
  prior: HTMLInputElement;
  classImages: HTMLInputElement;
  config: HTMLTextAreaElement;
}

/** The recipe's number of class images when the field is left empty (the DreamBooth paper's 200). */
export const defaultClassImages = 200;

/** Creates the fields. The suffix pattern escapes `-`: Chromium compiles `pattern` with the `v` flag. */
export function createJobForm(model: HTMLSelectElement): JobForm {
  return {
    model,
    photos: el('input', { type: 'file', id: 'ft-photos', accept: 'image/*,.zip', multiple: true }),
    className: el('input', { id: 'ft-class', required: true, placeholder: 'dog' }),
    identifier: el('input', { id: 'ft-identifier', value: 'sks', pattern: '\\S+' }),
    mode: el('select', { id: 'ft-mode' }, new Option('LoRA', 'lora'), new Option('Full fine-tune', 'full')),
    steps: el('input', { type: 'number', id: 'ft-steps', min: 1, placeholder: 'default' }),
    resolution: el('input', { type: 'number', id: 'ft-resolution', min: 8, step: 8, placeholder: 'default' }),
    suffix: el('input', { id: 'ft-suffix', pattern: '[A-Za-z0-9_\\-]+', maxlength: 64, placeholder: 'my-dog' }),
    prior: el('input', { type: 'checkbox', id: 'ft-prior', checked: true }),
    classImages: el('input', {
      type: 'number',
      id: 'ft-class-images',
      min: 1,
      placeholder: String(defaultClassImages),
    }),
    config: el('textarea', {
      id: 'ft-config',
      rows: 3,
      spellcheck: false,
      placeholder: '{"train": {"grad_accum": 2}}',
    }),
  };
}

/** The worker config overrides typed into the form (an object), or undefined when empty; throws on bad JSON. */
function configOverrides(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw new Error(`The worker config overrides are not valid JSON: ${(error as Error).message}`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new Error('The worker config overrides must be a JSON object.');
  return config as Record<string, unknown>;
}

const wholeNumber = (input: HTMLInputElement, min: number): boolean => {
  const value = numberOrUndefined(input);
  return value === undefined || (Number.isInteger(value) && value >= min);
};

/**
 * Checks every field the way the API would, so a typo is refused before any photo is uploaded (no stray files);
 * throws with what to fix. Returns the worker config overrides. With `curated`, the class word may stay empty (the
 * curation plan proposes one).
 */
export function checkJobForm(
  form: JobForm,
  files: readonly File[],
  curated = false,
): Record<string, unknown> | undefined {
  if (!form.model.value) throw new Error('Choose a base model (an image model must be installed).');
  const zip = files.some((file) => /\.zip$/i.test(file.name));
  if (!zip && files.length < 3)
    throw new Error(`Choose 3–5 photos of the subject (or one zip of them); ${files.length} chosen.`);
  if (!curated && form.className.value.trim() === '')
    throw new Error('Class word: say what the subject is (dog, person, mug).');
  if (!/^\S+$/.test(form.identifier.value.trim() || 'sks')) throw new Error('Identifier: one word, no spaces (sks).');
  const suffix = form.suffix.value.trim();
  if (suffix && !/^[A-Za-z0-9_-]{1,64}$/.test(suffix)) {
    const bad = [...new Set(suffix.replace(/[A-Za-z0-9_-]/g, ''))]
      .map((c) => (c === ' ' ? 'a space' : `"${c}"`))
      .join(', ');
    throw new Error(
      `Model suffix: letters, digits, "-" and "_" only, up to 64 — "${suffix}" has ${bad || 'too many characters'}.`,
    );
  }
  if (!wholeNumber(form.steps, 1)) throw new Error('Steps: a whole number, 1 or more.');
  const resolution = numberOrUndefined(form.resolution);
  if (resolution !== undefined && (!Number.isInteger(resolution) || resolution < 8 || resolution % 8 !== 0))
    throw new Error('Resolution: a multiple of 8 (the VAE downsamples by 8), like 512.');
  if (form.prior.checked && !wholeNumber(form.classImages, 1))
    throw new Error('Class images: a whole number, 1 or more.');
  return configOverrides(form.config.value);
}

/** The `POST /v1/fine_tuning/jobs` body: the first upload is `training_file`, the rest `instance_files`. */
export function jobBody(
  form: JobForm,
  fileIds: string[],
  config: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const hyperparameters: Record<string, unknown> = {
    class_name: form.className.value.trim(),
    identifier: form.identifier.value.trim() || 'sks',
    mode: form.mode.value,
  };
  const steps = numberOrUndefined(form.steps);
  const resolution = numberOrUndefined(form.resolution);
  if (steps !== undefined) hyperparameters.n_steps = steps;
  if (resolution !== undefined) hyperparameters.resolution = resolution;
  if (!form.prior.checked) hyperparameters.prior_preservation = false;
  else if (numberOrUndefined(form.classImages) !== undefined)
    hyperparameters.num_class_images = numberOrUndefined(form.classImages);
  const dreambooth: Record<string, unknown> = { hyperparameters };
  if (fileIds.length > 1) dreambooth.instance_files = fileIds.slice(1);
  if (config) dreambooth.config = config;
  const body: Record<string, unknown> = {
    model: form.model.value,
    training_file: fileIds[0],
    method: { type: 'dreambooth', dreambooth },
  };
  if (form.suffix.value.trim()) body.suffix = form.suffix.value.trim();
  return body;
}

/** Refills the form from a job (its photos must be chosen again: a browser cannot refill a file input). */
export function cloneInto(form: JobForm, job: Job): void {
  const hp = job.method.dreambooth?.hyperparameters ?? {};
  const text = (value: unknown): string => (value === undefined || value === null ? '' : String(value));
  form.className.value = text(hp.class_name);
  form.identifier.value = text(hp.identifier) || 'sks';
  form.mode.value = text(hp.mode) || 'lora';
  form.steps.value = text(hp.n_steps);
  form.resolution.value = text(hp.resolution);
  form.prior.checked = hp.prior_preservation !== false;
  form.classImages.value = text(hp.num_class_images);
  form.suffix.value = job.user_provided_suffix ? `${job.user_provided_suffix}-2` : '';
  for (const input of Object.values(form)) (input as HTMLElement).dispatchEvent(new Event('input', { bubbles: true }));
}

/** "≈ N min here" for the class images the form asks for, from a time per image measured on this server. */
export function classImageCost(form: JobForm, secondsPerImage: number | null): string {
  if (!form.prior.checked)
    return 'Prior preservation off: no class images, faster, but the model may forget what other members of the class look like.';
  const count = numberOrUndefined(form.classImages) ?? defaultClassImages;
  const cached = 'kept in a cache for the next job with the same base model and class';
  if (secondsPerImage === null)
    return `${count} images drawn by the base model before training (time not measured on this server yet; ${cached}).`;
  return `${count} images ≈ ${duration(count * secondsPerImage)} here (${secondsPerImage.toFixed(1)} s each as measured on this server; ${cached}).`;
}
