import { describeError, getJson, postJson } from './api.js';
import { alertBox, el, field } from './dom.js';
import { duration } from './phase-bars.js';

/** The parts of atelier's `model.pull` object the studio shows. */
interface ModelPull {
  id: string;
  repo: string;
  name: string;
  status: 'running' | 'succeeded' | 'failed';
  files_total: number | null;
  files_done: number;
  bytes_total: number | null;
  bytes_done: number;
  eta_seconds: number | null;
  notes: string[];
  error: { message: string; code: string } | null;
}

const pollMs = 500;

/** Bytes as `812 kB` / `1.4 GB` (decimal units, as the hub lists sizes). */
function size(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `3/5 files · 12.0 MB of 40.0 MB · ETA 20s` (or what is known so far). */
function words(pull: ModelPull): string {
  const files = pull.files_total === null ? 'listing files…' : `${pull.files_done}/${pull.files_total} files`;
  const bytes = pull.bytes_total === null ? '' : `${size(pull.bytes_done)} of ${size(pull.bytes_total)}`;
  const eta = pull.status === 'running' && pull.eta_seconds !== null ? `ETA ${duration(pull.eta_seconds)}` : '';
  const outcome = pull.status === 'succeeded' ? `installed as ${pull.name}` : pull.status === 'failed' ? 'failed' : '';
  return [files, bytes, eta, outcome].filter(Boolean).join(' · ');
}

/**
 * "Pull from the hub": a repo (`org/name[@revision]`), an optional model name and file globs, started through
 * `POST /v1/pulls` and followed by polling `GET /v1/pulls/{id}` into a bar with files, bytes and ETA. `installed`
 * runs once a pull succeeds (the model list refreshes).
 */
export function createModelPull(installed: () => void): HTMLElement {
  const repo = el('input', {
    id: 'pull-repo',
    required: true,
    placeholder: 'org/name or org/name@revision',
    autocomplete: 'off',
  });
  const name = el('input', { id: 'pull-name', placeholder: 'same as the repo', autocomplete: 'off' });
  const include = el('input', { id: 'pull-include', placeholder: '*.gguf (empty: every file)', autocomplete: 'off' });
  const submit = el('button', { type: 'submit' }, 'Pull');
  const error = alertBox();
  const bar = el('progress', { id: 'pull-progress', max: 1, value: 0, 'aria-labelledby': 'pull-label' });
  const status = el('span', { class: 'phase-words', id: 'pull-words', 'aria-live': 'polite' });
  const notes = el('ul', { class: 'muted', id: 'pull-notes' });
  const progress = el(
    'div',
    { class: 'phase', hidden: true },
    el('span', { class: 'phase-label', id: 'pull-label', text: 'Download' }),
    bar,
    status,
    notes,
  );
  const show = (pull: ModelPull): void => {
    progress.hidden = false;
    bar.max = Math.max(1, pull.bytes_total ?? 1);
    bar.value = pull.status === 'succeeded' ? bar.max : pull.bytes_done;
    status.textContent = words(pull);
    bar.setAttribute('aria-valuetext', status.textContent);
    notes.replaceChildren(...pull.notes.map((note) => el('li', { text: note })));
    if (pull.error) error.show(`${pull.error.code}: ${pull.error.message}`);
  };
  const follow = async (id: string): Promise<void> => {
    for (;;) {
      const pull = await getJson<ModelPull>(`/v1/pulls/${encodeURIComponent(id)}`);
      show(pull);
      if (pull.status !== 'running') {
        if (pull.status === 'succeeded') installed();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  };
  const start = async (): Promise<void> => {
    error.clear();
    submit.disabled = true;
    try {
      const globs = include.value.split(/[\s,]+/).filter(Boolean);
      const body = {
        repo: repo.value.trim(),
        ...(name.value.trim() && { name: name.value.trim() }),
        ...(globs.length > 0 && { include: globs }),
      };
      await follow((await postJson<ModelPull>('/v1/pulls', body)).id);
    } catch (failure) {
      error.show(describeError(failure));
    } finally {
      submit.disabled = false;
    }
  };
  return el(
    'form',
    {
      class: 'pull-form',
      id: 'pull-form',
      onsubmit: (event) => {
        event.preventDefault();
        void start();
      },
    },
    el('h3', { text: 'Pull from the hub' }),
    field('Repository', repo),
    field('Install as', name),
    field('Files', include, 'globs, separated by spaces'),
    submit,
    error.root,
    progress,
  );
}
