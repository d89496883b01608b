import { describeError } from './api.js';
import { alertBox, el } from './dom.js';
import { deleteImage, imageBlobUrl, listImages, saveImage, type SavedImage } from './history.js';
import { openLightbox } from './lightbox.js';
import { base64Bytes, pngParameters } from './png-text.js';

/** What a gallery card can ask of the Images tab. */
export interface GalleryActions {
  /** Refill the form with an image's request (seedOnly: just its seed). */
  reuse(settings: Record<string, unknown>, seedOnly: boolean): void;
  /** Draw the same request on the fine-tuned model's base, for a side-by-side look. */
  compare(image: SavedImage, src: string): void;
}

/** The gallery: every kept image across sessions, newest batch first, a batch's images in their order. */
export interface Gallery {
  root: HTMLElement;
  /** Reads the newest page from the server (once; later calls keep what is shown). */
  load(): Promise<void>;
  /** Keeps a just-generated image on the server and shows it; resolves with its record. */
  add(b64: string, fields: Omit<SavedImage, 'id' | 'created_at' | 'parameters'>): Promise<SavedImage | null>;
}

/** The base model of a fine-tuned one (`ft:<base>:…`), or null. */
export function baseModelOf(model: string): string | null {
  return /^ft:([^:]+):/.exec(model)?.[1] ?? null;
}

/** Orders a newest-first page so each batch's images read in their order (image 1 of 2 before 2 of 2). */
function batchOrder(images: SavedImage[]): SavedImage[] {
  const batchOf = (image: SavedImage): unknown => image.settings.batch ?? image.id;
  const firstSeen = new Map<unknown, number>();
  images.forEach((image, i) => {
    if (!firstSeen.has(batchOf(image))) firstSeen.set(batchOf(image), i);
  });
  return [...images].sort(
    (a, b) =>
      firstSeen.get(batchOf(a))! - firstSeen.get(batchOf(b))! ||
      Number(a.settings.index ?? 0) - Number(b.settings.index ?? 0),
  );
}

/** Creates the gallery. */
export function createGallery(actions: GalleryActions): Gallery {
  const grid = el('div', { class: 'gallery', id: 'images-gallery' });
  const error = alertBox();
  const more = el('button', { type: 'button', hidden: true, onclick: () => void page(lastId) }, 'Load older images');
  let lastId: string | undefined;
  let loaded = false;

  const card = (image: SavedImage, src: string | Promise<string>): HTMLElement => {
    const img = el('img', { alt: image.parameters.split('\n')[0] ?? 'generated image' });
    void Promise.resolve(src).then(
      (url) => {
        img.src = url;
        link.href = url;
      },
      (failure: unknown) => error.show(describeError(failure)),
    );
    const link = el(
      'a',
      { download: `atelier-${image.model.replace(/[^\w.-]+/g, '_')}-${String(image.seed)}.png` },
      'Download',
    );
    const n = Number(image.settings.n ?? 1);
    const base = baseModelOf(image.model);
    const figure = el(
      'figure',
      {
        class: 'result',
        'data-image': image.id,
        'data-batch': String(image.settings.batch ?? image.id),
        'data-seed': String(image.seed),
      },
      el(
        'button',
        {
          type: 'button',
          class: 'enlarge',
          'aria-label': 'Enlarge image',
          onclick: () => openLightbox(img.src, image.parameters),
        },
        img,
      ),
      el(
        'figcaption',
        {},
        n > 1
          ? el('strong', { class: 'batch-index', text: `image ${Number(image.settings.index ?? 0) + 1} of ${n}` })
          : null,
        el('pre', { class: 'parameters', text: image.parameters }),
        el(
          'div',
          { class: 'buttons' },
          link,
          el(
            'button',
            { type: 'button', class: 'small', onclick: () => actions.reuse(image.settings, false) },
            'Reuse settings',
          ),
          el(
            'button',
            { type: 'button', class: 'small', onclick: () => actions.reuse({ seed: image.seed }, true) },
            'Reuse seed',
          ),
          base
            ? el(
                'button',
                { type: 'button', class: 'small', onclick: () => actions.compare(image, img.src) },
                'Compare with base',
              )
            : null,
          el('button', { type: 'button', class: 'small delete', onclick: () => void remove(image, figure) }, 'Delete'),
        ),
      ),
    );
    return figure;
  };
  const remove = async (image: SavedImage, figure: HTMLElement): Promise<void> => {
    if (!confirm('Delete this image from the gallery? This cannot be undone.')) return;
    try {
      await deleteImage(image.id);
      figure.remove();
    } catch (failure) {
      error.show(describeError(failure));
    }
  };
  const page = async (after?: string): Promise<void> => {
    try {
      const { data, has_more } = await listImages(after);
      grid.append(...batchOrder(data).map((image) => card(image, imageBlobUrl(image.id))));
      lastId = data[data.length - 1]?.id;
      more.hidden = !has_more;
      error.clear();
    } catch (failure) {
      error.show(`Could not read the gallery: ${describeError(failure)}`);
    }
  };
  /** Puts a new card after the cards of its batch already shown (so a batch keeps its order), else first. */
  const place = (figure: HTMLElement, batch: string): void => {
    const mates = grid.querySelectorAll(`figure[data-batch="${CSS.escape(batch)}"]`);
    const last = mates[mates.length - 1];
    if (last) last.after(figure);
    else grid.prepend(figure);
  };
  return {
    root: el('div', { class: 'gallery-wrap' }, el('h2', { text: 'Gallery' }), error.root, grid, more),
    load: async () => {
      if (loaded) return;
      loaded = true;
      await page();
    },
    add: async (b64, fields) => {
      const url = `data:image/png;base64,${b64}`;
      const parameters = pngParameters(base64Bytes(b64)) ?? `Seed: ${String(fields.seed)}, Model: ${fields.model}`;
      let saved: SavedImage;
      try {
        saved = await saveImage({ ...fields, parameters, b64_png: b64 });
      } catch (failure) {
        // Shown anyway: an image that could not be kept is still worth seeing (and downloading).
        error.show(`The image could not be kept in the gallery: ${describeError(failure)}`);
        saved = { ...fields, parameters, id: `unsaved-${Math.random()}`, created_at: Date.now() / 1000 };
      }
      place(card(saved, url), String(fields.settings.batch));
      return saved;
    },
  };
}
