import { describeError } from './api.js';
import { alertBox, el } from './dom.js';
import { kindOf, listModels, type ModelInfo } from './models.js';
import type { Tab } from './tabs.js';

function row(model: ModelInfo): HTMLTableRowElement {
  const created = new Date(model.created * 1000).toLocaleString();
  return el('tr', { 'data-model': model.id },
    el('td', { text: model.id }),
    el('td', { text: kindOf(model) }),
    el('td', { text: model.format }),
    el('td', { text: model.owned_by }),
    el('td', { text: created }),
  );
}

/** The Models tab: every served model with its kind (chat or image), format, owner and install time. */
export function createModelsTab(): Tab {
  const body = el('tbody');
  const error = alertBox();
  const refresh = async (): Promise<void> => {
    error.clear();
    try {
      const models = await listModels();
      body.replaceChildren(...models.map(row));
      if (models.length === 0) body.append(el('tr', {}, el('td', { colspan: 5, text: 'No model is installed.' })));
    } catch (failure) {
      error.show(describeError(failure));
    }
  };
  const head = el('thead', {}, el('tr', {}, ...['Model', 'Kind', 'Format', 'Owner', 'Installed'].map((h) => el('th', { text: h }))));
  const root = el('section', { class: 'models' },
    el('div', { class: 'toolbar' }, el('h2', { text: 'Models' }), el('button', { type: 'button', onclick: () => void refresh() }, 'Refresh')),
    error.root,
    el('table', { id: 'models-table' }, head, body),
    el('p', { class: 'muted', text: 'Add models with `atelier pull <repo>` or `atelier models add <path>`; fine-tuned models appear here when their job succeeds.' }),
  );
  return { id: 'models', label: 'Models', root, activate: () => void refresh() };
}
