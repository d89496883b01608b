import { getApiKey, setApiKey } from './api.js';
import { el, field } from './dom.js';

/**
 * The API key field. The studio's files need no key; its `/v1` calls send this one as a bearer token when the
 * server was started with `--api-key`. Saved in localStorage when it changes.
 */
export function createSettings(): HTMLElement {
  const input = el('input', {
    type: 'password',
    id: 'api-key',
    autocomplete: 'off',
    placeholder: 'none',
    value: getApiKey(),
    onchange: () => {
      setApiKey(input.value.trim());
      status.textContent = input.value.trim() ? 'saved in this browser' : 'no key';
    },
  });
  const status = el('small', { class: 'muted', text: getApiKey() ? 'saved in this browser' : '' });
  return el('div', { class: 'settings' }, field('API key', input), status);
}
