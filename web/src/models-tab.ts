import { describeError, sendJson } from './api.js';
import { alertBox, el } from './dom.js';
import { createModelPull } from './model-pull.js';
import { capabilityBadges, kindOf, listModels, type ModelInfo } from './models.js';
import type { Tab } from './tabs.js';

/** What a model row can ask of the rest of the studio: "use in Chat" / "use in Images". */
export type UseModel = (kind: 'chat' | 'image', model: string) => void;

/**
 * The Models tab: every served model with its kind, format, what it takes (vision, tools, JSON; LoRA), owner and
 * install time; "Use in Chat/Images" opens that tab on it, Delete removes it (after a confirmation) through
 * `DELETE /v1/models/{id}`; "Pull from the hub" installs one with a progress bar (`/v1/pulls`).
 */
export function createModelsTab(use: UseModel): Tab {
  const body = el('tbody');
  const error = alertBox();
  const remove = async (model: ModelInfo): Promise<void> => {
    if (!confirm(`Delete the model "${model.id}" and its files? This cannot be undone.`)) return;
    try {
      await sendJson('DELETE', `/v1/models/${encodeURIComponent(model.id)}`);
      await refresh();
    } catch (failure) {
      error.show(describeError(failure));
    }
  };
  const row = (model: ModelInfo): HTMLTableRowElement => {
    const kind = kindOf(model);
    const size = model.native_size ? ` · ${model.native_size}x${model.native_size}` : '';
    return el(
      'tr',
      { 'data-model': model.id },
      el('td', { text: model.id }),
      el('td', { text: kind }),
      el('td', { text: `${model.format}${size}` }),
      el('td', {}, capabilityBadges(model)),
      el('td', { text: model.owned_by }),
      el('td', { text: new Date(model.created * 1000).toLocaleString() }),
      el(
        'td',
        { class: 'buttons' },
        el(
          'button',
          { type: 'button', class: 'small', onclick: () => use(kind, model.id) },
          kind === 'chat' ? 'Use in Chat' : 'Use in Images',
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'small delete',
            'aria-label': `Delete ${model.id}`,
            onclick: () => void remove(model),
          },
          'Delete',
        ),
      ),
    );
  };
  const refresh = async (): Promise<void> => {
    error.clear();
    try {
      const models = await listModels();
      body.replaceChildren(...models.map(row));
      if (models.length === 0) body.append(el('tr', {}, el('td', { colspan: 7, text: 'No model is installed.' })));
    } catch (failure) {
      error.show(describeError(failure));
    }
  };
  const head = el(
    'thead',
    {},
    el('tr', {}, ...['Model', 'Kind', 'Format', 'Takes', 'Owner', 'Installed', ''].map((h) => el('th', { text: h }))),
  );
  const root = el(
    'section',
    { class: 'models' },
    el(
      'div',
      { class: 'toolbar' },
      el('h2', { text: 'Models' }),
      el('button', { type: 'button', onclick: () => void refresh() }, 'Refresh'),
    ),
    error.root,
    el('div', { class: 'table-wrap' }, el('table', { id: 'models-table' }, head, body)),
    createModelPull(() => void refresh()),
    el('p', {
      class: 'muted',
      text: 'Or add models with `atelier pull <repo>` / `atelier models add <path>` in a terminal; fine-tuned models appear here when their job succeeds.',
    }),
  );
  return { id: 'models', label: 'Models', root, activate: () => void refresh() };
}
