import { el } from './dom.js';

let dialog: HTMLDialogElement | null = null;

/**
 * Shows an image full size in a modal `<dialog>` (Esc, the Close button or a click outside the image closes it; the
 * browser keeps focus inside while open). One dialog serves the whole page.
 */
export function openLightbox(src: string, caption: string): void {
  if (!dialog) {
    const created = el('dialog', { class: 'lightbox', 'aria-label': 'Image' });
    created.addEventListener('click', (event) => {
      if (event.target === created) created.close();
    });
    document.body.append(created);
    dialog = created;
  }
  const close = el('button', { type: 'button', class: 'close' }, 'Close');
  close.addEventListener('click', () => dialog?.close());
  dialog.replaceChildren(
    el('figure', {}, el('img', { src, alt: caption }), el('figcaption', { text: caption })),
    close,
  );
  dialog.showModal();
  close.focus();
}
