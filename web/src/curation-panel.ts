import { describeError, postJson } from './api.js';
import { alertBox, el } from './dom.js';
import { createModelPicker } from './models.js';

/** The parts of a curation plan the studio shows (docs/curation-plan.schema.json). */
interface Plan {
  model: string | null;
  class_noun: string | null;
  class_noun_source: string;
  class_votes: { noun: string; votes: number }[];
  photos: { name: string; keep: boolean; caption: string | null; reasons: { code: string; message: string }[] }[];
  kept: number;
}

/** What the Personalize tab needs from the panel. */
export interface CurationPanel {
  root: HTMLElement;
  /** Whether the job should be created with curation (the user checked the plan and kept the box ticked). */
  using(): boolean;
  /** Adds `method.dreambooth.curation` to a job body when `using()`; an empty class word is left to the plan. */
  apply(body: Record<string, unknown>): void;
  /** Lists the chat models again (on tab activation). */
  refresh(): Promise<void>;
}

/** Inputs of the panel: the chosen photos, how to upload one, and the form's class word and resolution. */
export interface CurationPanelInputs {
  files(): File[];
  upload(file: File): Promise<string>;
  className(): string;
  /** The form's training resolution, if set: photos under half of it are too small (the worker's own rule). */
  resolution(): number | undefined;
}

function planTable(plan: Plan): HTMLElement {
  const rows = plan.photos.map((photo) =>
    el(
      'tr',
      { class: photo.keep ? 'keep' : 'drop', 'data-photo': photo.name },
      el('td', { text: photo.name }),
      el('td', { text: photo.keep ? 'keep' : 'drop' }),
      el('td', {
        text: photo.keep ? (photo.caption ?? '') : photo.reasons.map((r) => `${r.code}: ${r.message}`).join('; '),
      }),
    ),
  );
  const noun =
    plan.class_noun === null ? 'none proposed: type a class word' : `${plan.class_noun} (${plan.class_noun_source})`;
  const votes = plan.class_votes.map((v) => `${v.noun} ×${v.votes}`).join(', ') || 'none';
  return el(
    'div',
    {},
    el('p', {
      class: 'curation-summary',
      text: `Keeps ${plan.kept} of ${plan.photos.length} photos. Class noun: ${noun}. Votes: ${votes}.`,
    }),
    el(
      'table',
      { class: 'curation-table' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { text: 'Photo' }),
          el('th', { text: 'Plan' }),
          el('th', { text: 'Caption / why dropped' }),
        ),
      ),
      el('tbody', {}, ...rows),
    ),
  );
}

/**
 * "Check the photos first": uploads the chosen photos, asks the server for a curation plan with a vision model
 * (`POST /v1/fine_tuning/curations`) and shows it — photos kept with their captions, photos dropped with reasons,
 * the proposed class noun — before any job starts. Ticked, the job is created with the same curation (same model
 * and seed give the same plan), which drops those photos, fills in the class and trains on the captions.
 */
export function createCurationPanel(inputs: CurationPanelInputs): CurationPanel {
  const picker = createModelPicker('chat', 'ft-curation-model');
  const use = el('input', { type: 'checkbox', id: 'ft-use-curation', disabled: true });
  const result = el('div', { id: 'ft-curation', 'aria-live': 'polite' });
  const status = el('span', { class: 'muted' });
  const error = alertBox();
  const check = el('button', { type: 'button', id: 'ft-curate' }, 'Check photos');
  const run = async (): Promise<void> => {
    error.clear();
    const files = inputs.files();
    if (files.length === 0) return error.show('Choose the subject photos first.');
    check.disabled = true;
    try {
      const ids: string[] = [];
      for (const file of files) {
        status.textContent = `uploading ${ids.length + 1} of ${files.length}…`;
        ids.push(await inputs.upload(file));
      }
      status.textContent = `asking ${picker.select.value} about each photo…`;
      const resolution = inputs.resolution();
      const plan = await postJson<Plan>('/v1/fine_tuning/curations', {
        training_file: ids[0],
        instance_files: ids.slice(1),
        model: picker.select.value,
        seed: 0,
        ...(inputs.className() && { class_name: inputs.className() }),
        ...(resolution !== undefined && { min_size: Math.max(1, resolution / 2) }),
      });
      result.replaceChildren(planTable(plan));
      use.disabled = false;
      use.checked = true;
      status.textContent = '';
    } catch (failure) {
      status.textContent = '';
      error.show(describeError(failure));
    } finally {
      check.disabled = false;
    }
  };
  check.addEventListener('click', () => void run());
  const root = el(
    'fieldset',
    { class: 'curation' },
    el('legend', { text: 'Check the photos first' }),
    el(
      'div',
      { class: 'row' },
      el('label', { class: 'field' }, el('span', { class: 'caption', text: 'Vision model' }), picker.select),
      check,
      status,
    ),
    picker.alert,
    error.root,
    result,
    el('label', { class: 'check' }, use, ' Start the job with this curation (drops, class noun, captions)'),
  );
  return {
    root,
    using: () => use.checked && !use.disabled,
    apply: (body) => {
      if (!(use.checked && !use.disabled)) return;
      const method = body.method as { dreambooth: { hyperparameters: Record<string, unknown>; curation?: unknown } };
      const resolution = inputs.resolution();
      method.dreambooth.curation = {
        model: picker.select.value,
        seed: 0,
        ...(resolution !== undefined && { min_size: Math.max(1, resolution / 2) }),
      };
      if (method.dreambooth.hyperparameters.class_name === '') delete method.dreambooth.hyperparameters.class_name;
    },
    refresh: () => picker.refresh(),
  };
}
