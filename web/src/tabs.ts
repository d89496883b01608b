import { apiKeyChanged } from './api.js';
import { el } from './dom.js';

/** One page of the studio. */
export interface Tab {
  /** Its id, also its URL hash (`#chat`). */
  id: string;
  label: string;
  root: HTMLElement;
  /** Called each time the tab is shown: refresh what may have changed elsewhere (models, jobs). */
  activate(): void;
  /** Called when another tab is shown: stop polling. */
  deactivate?(): void;
}

/** The tab to move to for an arrow, Home or End key (WAI-ARIA tabs pattern, wrapping), or null for other keys. */
function keyTarget(key: string, index: number, count: number): number | null {
  if (key === 'ArrowRight' || key === 'ArrowDown') return (index + 1) % count;
  if (key === 'ArrowLeft' || key === 'ArrowUp') return (index - 1 + count) % count;
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  return null;
}

/**
 * Puts tab buttons into `nav` and the panels into `panels`; the URL hash picks the tab, so reloads and links keep
 * it. Keyboard as the WAI-ARIA tabs pattern has it: one tab stop (the selected tab), arrows/Home/End move to and
 * show another tab. Returns a function that shows a tab by id.
 */
export function mountTabs(tabs: readonly Tab[], nav: HTMLElement, panels: HTMLElement): (id: string) => void {
  let current: Tab | undefined;
  const buttons = new Map<string, HTMLButtonElement>();
  for (const tab of tabs) {
    const button = el(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${tab.id}`,
        'aria-controls': `panel-${tab.id}`,
        onclick: () => {
          location.hash = tab.id;
        },
        onkeydown: (event) => {
          const key = (event as KeyboardEvent).key;
          const index = tabs.indexOf(tab);
          const next = keyTarget(key, index, tabs.length);
          if (next === null) return;
          event.preventDefault();
          const target = tabs[next]!;
          location.hash = target.id;
          buttons.get(target.id)?.focus();
        },
      },
      tab.label,
    );
    buttons.set(tab.id, button);
    nav.append(button);
    tab.root.id = `panel-${tab.id}`;
    tab.root.setAttribute('role', 'tabpanel');
    tab.root.setAttribute('aria-labelledby', button.id);
    tab.root.tabIndex = 0;
    tab.root.hidden = true;
    panels.append(tab.root);
  }
  const show = (): void => {
    const next = tabs.find((tab) => `#${tab.id}` === location.hash) ?? tabs[0];
    if (!next || next === current) return;
    current?.deactivate?.();
    if (current) current.root.hidden = true;
    for (const [id, button] of buttons) {
      button.setAttribute('aria-selected', String(id === next.id));
      button.tabIndex = id === next.id ? 0 : -1;
    }
    next.root.hidden = false;
    current = next;
    next.activate();
  };
  window.addEventListener('hashchange', show);
  // A new API key may open what the old one could not: the shown tab reloads its data.
  window.addEventListener(apiKeyChanged, () => current?.activate());
  show();
  return (id) => {
    if (location.hash === `#${id}`) show();
    else location.hash = id;
  };
}
