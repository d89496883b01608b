import { isPdf, pdfThumbnails } from './document-pages.js';
import { el } from './dom.js';

/** Reads a file as a `data:` URL (what chat image parts carry). */
export function readDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(file);
  });
}

/** An image and PDF picker: a file input plus thumbnails (a PDF's pages) with remove buttons of what is attached so far. */
export interface Attachments {
  root: HTMLElement;
  /** The attached images and PDFs as data URLs, in order. */
  urls(): string[];
  /** Replaces what is attached (to put a failed message's images back). */
  set(urls: readonly string[]): void;
  clear(): void;
  /** Also takes images pasted into `target` or dropped on it (other files and plain text are left alone). */
  acceptFrom(target: HTMLElement): void;
}

/** The image and PDF files among pasted or dropped items. */
function imageFiles(list: FileList | null | undefined): File[] {
  return [...(list ?? [])].filter((file) => file.type.startsWith('image/') || file.type === 'application/pdf');
}

/** Creates an image picker; `label` names its file input, `onError` hears of files that could not be read. */
export function createAttachments(label: string, onError: (message: string) => void): Attachments {
  let urls: string[] = [];
  const thumbs = el('div', { class: 'thumbs' });
  const render = (): void => {
    thumbs.replaceChildren(
      ...urls.map((url, i) =>
        el(
          'figure',
          { class: isPdf(url) ? 'thumb pdf' : 'thumb' },
          isPdf(url) ? pdfThumbnails(url, `attachment ${i + 1}`) : el('img', { src: url, alt: `attachment ${i + 1}` }),
          el(
            'button',
            {
              type: 'button',
              title: 'Remove',
              'aria-label': `Remove attachment ${i + 1}`,
              onclick: () => {
                urls.splice(i, 1);
                render();
              },
            },
            '×',
          ),
        ),
      ),
    );
  };
  const add = (files: File[]): void => {
    void Promise.all(files.map(readDataUrl)).then(
      (read) => {
        urls.push(...read);
        render();
      },
      (failure: unknown) =>
        onError(`Could not read the image: ${failure instanceof Error ? failure.message : String(failure)}`),
    );
  };
  const input = el('input', {
    type: 'file',
    accept: 'image/*,application/pdf',
    multiple: true,
    'aria-label': label,
    onchange: () => {
      const files = [...(input.files ?? [])];
      input.value = '';
      add(files);
    },
  });
  return {
    root: el(
      'div',
      { class: 'attachments' },
      el('label', { class: 'file-button' }, 'Attach images or PDFs', input),
      el('small', { class: 'muted', text: 'or paste / drop them here' }),
      thumbs,
    ),
    urls: () => [...urls],
    set: (next) => {
      urls = [...next];
      render();
    },
    clear: () => {
      urls = [];
      render();
    },
    acceptFrom: (target) => {
      target.addEventListener('paste', (event) => {
        const files = imageFiles((event as ClipboardEvent).clipboardData?.files);
        if (files.length === 0) return;
        event.preventDefault();
        add(files);
      });
      target.addEventListener('dragover', (event) => {
        if ((event as DragEvent).dataTransfer?.types.includes('Files')) {
          event.preventDefault();
          target.classList.add('dropping');
        }
      });
      target.addEventListener('dragleave', () => target.classList.remove('dropping'));
      target.addEventListener('drop', (event) => {
        target.classList.remove('dropping');
        const files = imageFiles((event as DragEvent).dataTransfer?.files);
        if (files.length === 0) return;
        event.preventDefault();
        add(files);
      });
    },
  };
}
