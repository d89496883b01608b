import { apiFetch, describeError, postJson } from './api.js';
import { alertBox, el, field, numberOrUndefined } from './dom.js';
import { rememberForm } from './form-memory.js';
import { loadForm, saveForm } from './history.js';
import { createJobDetail } from './job-detail.js';
import { createCurationPanel } from './curation-panel.js';
import { checkJobForm, classImageCost, cloneInto, createJobForm, jobBody } from './job-form.js';
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

/**
 * The Personalize tab: upload subject photos through /v1/files, start a DreamBooth job (class word, identifier,
 * full or LoRA, prior preservation and its class images with their cost here), then follow jobs live — a bar per
 * phase, events, checkpoints — cancel, retry or clone them, and generate with the result. Every field is checked
 * before the first upload; the settings are remembered on the server. `generate` hands a model and prompt to Images.
 */
export function createPersonalizeTab(generate: (model: string, prompt: string) => void): Tab {
  let selected: string | null = null;
  let listTimer: ReturnType<typeof setInterval> | undefined;
  let secondsPerImage: number | null = null;
  const picker = createModelPicker('image', 'ft-model');
  const form = createJobForm(picker.select);
  const { photos: _photos, ...remembered } = form; // a file input cannot be refilled
  const memory = rememberForm('personalize', remembered);
  const status = el('span', { class: 'muted', 'aria-live': 'polite' });
  const cost = el('small', { id: 'ft-class-cost' });
  const error = alertBox();
  const submit = el('button', { type: 'submit' }, 'Upload and start training');
  const curation = createCurationPanel({
    files: () => [...(form.photos.files ?? [])],
    upload: uploadPhoto,
    className: () => form.className.value.trim(),
    resolution: () => numberOrUndefined(form.resolution),
  });
  const showCost = (): void => {
    form.classImages.disabled = !form.prior.checked;
    cost.textContent = classImageCost(form, secondsPerImage);
  };
  for (const input of [form.prior, form.classImages]) input.addEventListener('input', showCost);
  form.prior.addEventListener('change', showCost);
  const detail = createJobDetail({
    changed: (id) =>
      void list.refresh().then(() => {
        if (id) choose(id);
      }),
    deleted: () => {
      selected = null;
      list.select(null);
      void list.refresh();
    },
    generate,
    clone: (job: Job) => {
      cloneInto(form, job);
      showCost();
      status.textContent = `Settings of "${job.user_provided_suffix || job.id}" copied: choose the photos again.`;
      form.className.scrollIntoView({ block: 'center' });
    },
    measured: (seconds) => {
      if (secondsPerImage !== null && Math.abs(seconds - secondsPerImage) < 0.05 * secondsPerImage) return;
      secondsPerImage = seconds;
      showCost();
      void saveForm('measurements', { secondsPerClassImage: seconds }).catch(() => undefined);
    },
  });
  const list = createJobsList((id) => choose(id));
  const choose = (id: string): void => {
    selected = id;
    list.select(id);
    detail.show(id);
  };

  const start = async (): Promise<void> => {
    error.clear();
    const files = [...(form.photos.files ?? [])];
    let overrides: Record<string, unknown> | undefined;
    try {
      // Every field is checked before any upload, so a typo costs no orphaned files on the server.
      overrides = checkJobForm(form, files, curation.using());
    } catch (failure) {
      error.show(describeError(failure));
      return;
    }
    submit.disabled = true;
    try {
      const ids: string[] = [];
      for (const file of files) {
        status.textContent = `uploading ${ids.length + 1} of ${files.length}…`;
        ids.push(await uploadPhoto(file));
      }
      status.textContent = 'creating the job…';
      const body = jobBody(form, ids, overrides);
      curation.apply(body);
      const job = await postJson<Job>('/v1/fine_tuning/jobs', body);
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

  // novalidate: the checks above say what is wrong in the alert, for every field at once, before any upload.
  const formView = el(
    'form',
    {
      class: 'ft-form',
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        void start();
      },
    },
    el('h3', { text: 'New subject' }),
    field('Base model', form.model),
    field('Subject photos', form.photos, '3–5 photos of the same subject (PNG, JPEG, WebP), or a zip.'),
    el(
      'div',
      { class: 'row' },
      field('Class word', form.className),
      field('Identifier', form.identifier),
      field('Mode', form.mode),
    ),
    el(
      'div',
      { class: 'row' },
      field('Steps', form.steps, 'empty = recipe'),
      field('Resolution', form.resolution, 'multiple of 8'),
      field('Model suffix', form.suffix, 'letters, digits, - and _'),
    ),
    el(
      'fieldset',
      { class: 'prior' },
      el('legend', { text: 'Prior preservation' }),
      el('label', { class: 'check' }, form.prior, ' Train with class images (keeps the class general)'),
      field('Class images', form.classImages),
      cost,
    ),
    el(
      'details',
      { class: 'options' },
      el('summary', { text: 'Worker config overrides (JSON)' }),
      field('Config', form.config),
    ),
    curation.root,
    el('div', { class: 'buttons' }, submit, status),
    error.root,
  );
  const root = el(
    'section',
    { class: 'personalize' },
    picker.alert,
    el('div', { class: 'columns' }, el('div', {}, formView, list.root), detail.root),
  );
  showCost();
  let restored = false;
  return {
    id: 'personalize',
    label: 'Personalize',
    root,
    activate: () => {
      void (async () => {
        if (!restored) {
          restored = await memory.restore();
          const measured = await loadForm<{ secondsPerClassImage?: number }>('measurements').catch(() => null);
          secondsPerImage = measured?.secondsPerClassImage ?? secondsPerImage;
          showCost();
        }
        await Promise.all([picker.refresh(), curation.refresh()]);
      })();
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
