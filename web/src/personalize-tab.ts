import { apiFetch, describeError, postJson } from './api.js';
import { alertBox, el, field, numberOrUndefined } from './dom.js';
import { createJobDetail } from './job-detail.js';
import type { Job } from './jobs.js';
import { createJobsList } from './jobs-list.js';
import { createModelPicker } from './models.js';
import type { Tab } from './tabs.js';

/** Uploads one subject photo (or a zip of them) with the purpose DreamBooth jobs read: `fine-tune`. */
async function uploadPhoto(file: File): Promise<string> {
  const form = new FormData();
  form.append('purpose', 'fine-tune');
  form.append('file', file, file.name);
  const uploaded = (await (await apiFetch('/v1/files', { method: 'POST', body: form })).json()) as { id: string };
  return uploaded.id;
}

/** The form's fields, read when it is submitted. */
interface JobForm {
  model: HTMLSelectElement;
  photos: HTMLInputElement;
  className: HTMLInputElement;
  identifier: HTMLInputElement;
  mode: HTMLSelectElement;
  steps: HTMLInputElement;
  resolution: HTMLInputElement;
  suffix: HTMLInputElement;
  config: HTMLTextAreaElement;
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
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error('The worker config overrides must be a JSON object.');
  return config as Record<string, unknown>;
}

/** The `POST /v1/fine_tuning/jobs` body: the first upload is `training_file`, the rest `instance_files`. */
function jobBody(form: JobForm, fileIds: string[], config: Record<string, unknown> | undefined): Record<string, unknown> {
  const hyperparameters: Record<string, unknown> = {
    class_name: form.className.value.trim(), identifier: form.identifier.value.trim() || 'sks', mode: form.mode.value,
  };
  const steps = numberOrUndefined(form.steps);
  const resolution = numberOrUndefined(form.resolution);
  if (steps !== undefined) hyperparameters.n_steps = steps;
  if (resolution !== undefined) hyperparameters.resolution = resolution;
  const dreambooth: Record<string, unknown> = { hyperparameters };
  if (fileIds.length > 1) dreambooth.instance_files = fileIds.slice(1);
  if (config) dreambooth.config = config;
  const body: Record<string, unknown> = { model: form.model.value, training_file: fileIds[0], method: { type: 'dreambooth', dreambooth } };
  if (form.suffix.value.trim()) body.suffix = form.suffix.value.trim();
  return body;
}

/** Why the chosen photos cannot start a job, or null: 3+ images, or a zip of them. */
function photosProblem(files: readonly File[]): string | null {
  if (files.some((file) => /\.zip$/i.test(file.name))) return null;
  return files.length >= 3 ? null : `Choose 3–5 photos of the subject (or one zip of them); ${files.length} chosen.`;
}

/**
 * The Personalize tab: upload subject photos through /v1/files, start a DreamBooth job (class word, identifier,
 * full or LoRA), then follow jobs live — status, steps and loss, events, checkpoints — cancel them, and generate
 * with the result. `generate` hands a model and prompt to the Images tab.
 */
export function createPersonalizeTab(generate: (model: string, prompt: string) => void): Tab {
  let selected: string | null = null;
  let listTimer: ReturnType<typeof setInterval> | undefined;
  const picker = createModelPicker('image', 'ft-model');
  const form: JobForm = {
    model: picker.select,
    photos: el('input', { type: 'file', id: 'ft-photos', accept: 'image/*,.zip', multiple: true }),
    className: el('input', { id: 'ft-class', required: true, placeholder: 'dog' }),
    identifier: el('input', { id: 'ft-identifier', value: 'sks', pattern: '\\S+' }),
    mode: el('select', { id: 'ft-mode' }, new Option('LoRA', 'lora'), new Option('Full fine-tune', 'full')),
    steps: el('input', { type: 'number', id: 'ft-steps', min: 1, placeholder: 'recipe default' }),
    resolution: el('input', { type: 'number', id: 'ft-resolution', min: 8, step: 8, placeholder: 'recipe default' }),
    suffix: el('input', { id: 'ft-suffix', pattern: '[A-Za-z0-9_-]+', placeholder: 'my-dog' }),
    config: el('textarea', { id: 'ft-config', rows: 3, spellcheck: false, placeholder: '{"train": {"grad_accum": 2}}' }),
  };
  const status = el('span', { class: 'muted', 'aria-live': 'polite' });
  const error = alertBox();
  const submit = el('button', { type: 'submit' }, 'Upload and start training');
  const detail = createJobDetail({ changed: () => void list.refresh(), generate });
  const list = createJobsList((id) => choose(id));
  const choose = (id: string): void => {
    selected = id;
    list.select(id);
    detail.show(id);
  };

  const start = async (): Promise<void> => {
    error.clear();
    const files = [...(form.photos.files ?? [])];
    const problem = photosProblem(files);
    if (problem) return error.show(problem);
    submit.disabled = true;
    try {
      // Checked before any upload, so a typo costs no orphaned files.
      const config = configOverrides(form.config.value);
      const ids: string[] = [];
      for (const file of files) {
        status.textContent = `uploading ${ids.length + 1} of ${files.length}…`;
        ids.push(await uploadPhoto(file));
      }
      status.textContent = 'creating the job…';
      const job = await postJson<Job>('/v1/fine_tuning/jobs', jobBody(form, ids, config));
      status.textContent = `created ${job.id}`;
      await list.refresh();
      choose(job.id);
    } catch (failure) {
      status.textContent = '';
      error.show(describeError(failure));
    } finally {
      submit.disabled = false;
    }
  };

  const formView = el('form', { class: 'ft-form', onsubmit: (event) => { event.preventDefault(); void start(); } },
    el('h3', { text: 'New subject' }),
    field('Base model', form.model), field('Subject photos', form.photos, '3–5 photos of the same subject (PNG, JPEG, WebP), or a zip.'),
    el('div', { class: 'row' }, field('Class word', form.className), field('Identifier', form.identifier), field('Mode', form.mode)),
    el('div', { class: 'row' }, field('Steps', form.steps), field('Resolution', form.resolution), field('Model suffix', form.suffix)),
    el('details', { class: 'options' }, el('summary', { text: 'Worker config overrides (JSON)' }), field('Config', form.config)),
    el('div', { class: 'buttons' }, submit, status), error.root);
  const root = el('section', { class: 'personalize' }, picker.alert, el('div', { class: 'columns' }, el('div', {}, formView, list.root), detail.root));
  return {
    id: 'personalize', label: 'Personalize', root,
    activate: () => {
      void picker.refresh();
      void list.refresh();
      clearInterval(listTimer); // activate runs again when the API key changes, without a deactivate between
      listTimer = setInterval(() => void list.refresh(), 5000);
      if (selected) detail.show(selected);
    },
    deactivate: () => {
      clearInterval(listTimer);
      detail.stop();
    },
  };
}
