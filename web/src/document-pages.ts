import { describeError, postJson } from './api.js';
import { el } from './dom.js';

/** Whether an attachment (a data URL) is a PDF document rather than an image. */
export function isPdf(url: string): boolean {
  return url.startsWith('data:application/pdf');
}

/** One page as `/v1/studio/document-pages` draws it. */
interface DocumentPage {
  page: number;
  image: string;
  has_text: boolean;
}

/**
 * The page thumbnails of a PDF data URL: the server draws them through the same reader and limits as a chat request,
 * so the user sees every page the model will get, a scan (no text layer) marked as such, or why the file is refused.
 */
export function pdfThumbnails(url: string, label: string): HTMLElement {
  const box = el(
    'div',
    { class: 'pdf-pages', role: 'group', 'aria-label': label, 'data-state': 'loading' },
    el('small', { class: 'muted', text: 'PDF: reading pages…' }),
  );
  void postJson<{ data: DocumentPage[] }>('/v1/studio/document-pages', { file_data: url }).then(
    (answer) => {
      box.replaceChildren(
        ...answer.data.map((page) =>
          el(
            'figure',
            { class: 'pdf-page' },
            el('img', { src: page.image, alt: `${label}, page ${page.page}`, class: 'thumb-image' }),
            el('figcaption', {
              text: `p. ${page.page}${page.has_text ? '' : ' · scan'}`,
              title: page.has_text ? 'has a text layer' : 'no text layer: only vision models can read it',
            }),
          ),
        ),
      );
      box.dataset.state = 'ready';
    },
    (failure: unknown) => {
      box.replaceChildren(el('small', { class: 'muted', text: `PDF: ${describeError(failure)}` }));
      box.dataset.state = 'error';
    },
  );
  return box;
}
