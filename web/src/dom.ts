/** A child `el` appends: nodes and strings; null, undefined and false are skipped (for conditional children). */
export type Child = Node | string | null | undefined | false;

/**
 * Attributes of `el`: `text` sets textContent, `on<event>` adds a listener, `true` sets an empty attribute, `false`
 * and undefined set nothing, anything else becomes an attribute string.
 */
export type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

/**
 * Creates an element with attributes and children. Text only ever goes in as text nodes, never as HTML, so model
 * output and file names cannot inject markup. Example: `el('button', { type: 'button', onclick: stop }, 'Stop')`.
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

/** Appends the non-empty children to `parent`. */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children)
    if (child !== null && child !== undefined && child !== false)
      parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
}

/** `<label>` holding a caption and its control, so the control's accessible name is the caption. */
export function field(caption: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return el(
    'label',
    { class: 'field' },
    el('span', { class: 'caption', text: caption }),
    control,
    hint ? el('small', { text: hint }) : null,
  );
}

/** An alert box for errors: `show(message)` fills and reveals it, `clear()` hides it. */
export function alertBox(): { root: HTMLElement; show(message: string): void; clear(): void } {
  const root = el('div', { class: 'alert', role: 'alert', hidden: true });
  return {
    root,
    show: (message) => {
      root.textContent = message;
      root.hidden = false;
    },
    clear: () => {
      root.textContent = '';
      root.hidden = true;
    },
  };
}

/** The number typed into an input, or undefined when it is empty (so the server's default applies). */
export function numberOrUndefined(input: HTMLInputElement): number | undefined {
  return input.value.trim() === '' ? undefined : Number(input.value);
}
