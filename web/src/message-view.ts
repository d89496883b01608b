import type { ChatResult, Turn } from './chat-request.js';
import { isPdf, pdfThumbnails } from './document-pages.js';
import { el } from './dom.js';
import { openLightbox } from './lightbox.js';
import { renderMarkdown } from './markdown.js';

/** A message in the transcript. `content` holds the raw text (what streaming writes into, what is sent back). */
export interface MessageView {
  root: HTMLLIElement;
  content: HTMLPreElement;
  meta: HTMLElement;
  /** Shows the finished text formatted (pretty JSON when `json`, else Markdown) with Copy and a raw/formatted toggle. */
  finish(json: boolean): void;
  /** Adds a Regenerate button (the newest reply only). */
  offerRegenerate(regenerate: () => void): void;
}

/** The text pretty-printed when it is JSON, else null. */
function prettyJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

/** Copies `text`; the button says whether it worked (clipboard access needs a secure context or localhost). */
function copyButton(text: () => string): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'small' }, 'Copy');
  button.addEventListener('click', () => {
    void navigator.clipboard.writeText(text()).then(
      () => {
        button.textContent = 'Copied';
      },
      () => {
        button.textContent = 'Copy failed';
      },
    );
    setTimeout(() => {
      button.textContent = 'Copy';
    }, 1500);
  });
  return button;
}

/** Builds a message's view; images open in the lightbox. */
export function messageView(turn: Turn): MessageView {
  const content = el('pre', { class: 'content', text: turn.text });
  const meta = el('div', { class: 'meta' });
  const actions = el('div', { class: 'actions' });
  const images = turn.images.map((url, i) =>
    isPdf(url)
      ? pdfThumbnails(url, `document ${i + 1}`)
      : el(
          'button',
          {
            type: 'button',
            class: 'thumb-button',
            'aria-label': `Enlarge image ${i + 1}`,
            onclick: () => openLightbox(url, `image ${i + 1}`),
          },
          el('img', { src: url, alt: `image ${i + 1}`, class: 'thumb-image' }),
        ),
  );
  const root = el(
    'li',
    { class: `message ${turn.role}`, 'data-role': turn.role },
    el('div', { class: 'who', text: turn.role }),
    images.length ? el('div', { class: 'thumbs' }, ...images) : null,
    content,
    meta,
    actions,
  );
  return {
    root,
    content,
    meta,
    finish: (json) => {
      const text = content.textContent ?? '';
      const pretty = json ? prettyJson(text) : null;
      const formatted =
        pretty !== null
          ? el('pre', { class: 'json', text: pretty })
          : el('div', { class: 'markdown' }, renderMarkdown(text));
      content.hidden = true;
      content.before(formatted);
      const toggle = el('button', { type: 'button', class: 'small', 'aria-pressed': 'false' }, 'Raw');
      toggle.addEventListener('click', () => {
        const raw = formatted.hidden;
        formatted.hidden = !raw;
        content.hidden = raw;
        toggle.setAttribute('aria-pressed', String(!raw));
      });
      actions.replaceChildren(
        copyButton(() => pretty ?? text),
        toggle,
      );
    },
    offerRegenerate: (regenerate) => {
      actions.append(el('button', { type: 'button', class: 'small', onclick: regenerate }, 'Regenerate'));
    },
  };
}

/** Marks a finished reply: how it ended, and what a schema's guarantee did and did not cover. */
export function describeEnd(meta: HTMLElement, text: string, result: ChatResult, structured: boolean): boolean {
  const parts = [
    result.finishReason && `finish: ${result.finishReason}`,
    result.completionTokens !== null && `${result.completionTokens} tokens`,
  ];
  let json = false;
  if (structured) {
    json = prettyJson(text) !== null;
    if (json) parts.push('valid JSON');
    else parts.push(result.finishReason === 'length' ? 'not JSON: cut short by the token limit' : 'not JSON');
  }
  meta.textContent = parts.filter(Boolean).join(' · ');
  return json;
}
