/**
 * A thread that reads PDFs, one at a time (started and kept by `readPdf`, ended at a time limit). All of pdf.js
 * runs here — parsing, text extraction and rendering are proportional to what the file declares, so none of it may
 * run on the event loop — and it is configured to fetch nothing: no system fonts, no `eval`, no XFA, the standard
 * fonts, CMaps and decoders read from pdfjs-dist's own folder.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { lowerThreadPriority } from '../util/index.js';
import { DocumentError } from './document-error.js';
import type { PageImage, PdfPage, PdfWorkerInput, PdfWorkerReply } from './pdf-types.js';
import { readingOrder, type TextRun } from './text-layer.js';

const require = createRequire(import.meta.url);
// pdfjs-dist 5.1 asks for node built-ins through process.getBuiltinModule (Node ≥ 20.16); the engines range this
// project supports starts at 20.10, where plain require gives the same modules.
const proc = process as { getBuiltinModule?: (name: string) => unknown };
proc.getBuiltinModule ??= (name: string) => require(name) as unknown;

type Pdfjs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
type PdfDocument = Awaited<ReturnType<Pdfjs['getDocument']>['promise']>;
type PdfPageProxy = Awaited<ReturnType<PdfDocument['getPage']>>;
/** pdf.js's Node canvas factory (over @napi-rs/canvas), as far as rendering into pixels needs it. */
interface CanvasFactory {
  create(
    width: number,
    height: number,
  ): { context: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
  destroy(target: unknown): void;
}

const assets = dirname(require.resolve('pdfjs-dist/package.json'));

/** Raw markers of scripts; catches documents whose objects are not compressed even where pdf.js has no API. */
const SCRIPT_MARKER = /\/(JavaScript|JS)\b/;

async function openDocument(pdfjs: Pdfjs, input: PdfWorkerInput): Promise<PdfDocument> {
  try {
    return await pdfjs.getDocument({
      data: input.bytes,
      // Nothing reaches outside this process, and nothing from the file is ever evaluated as code.
      isEvalSupported: false,
      useSystemFonts: false,
      disableFontFace: true,
      enableXfa: false,
      useWorkerFetch: false,
      standardFontDataUrl: join(assets, 'standard_fonts') + '/',
      cMapUrl: join(assets, 'cmaps') + '/',
      wasmUrl: join(assets, 'wasm') + '/',
      // Malformed content is an error, not a silently half-drawn page; embedded images over the pixel cap are skipped.
      stopAtErrors: true,
      maxImageSize: input.maxImagePixels,
      verbosity: 0,
    }).promise;
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'PasswordException') throw new DocumentError('encrypted', 'The PDF is encrypted');
    throw new DocumentError('malformed', `The PDF could not be read: ${(error as Error).message}`);
  }
}

/** Encrypted even without a password (an empty user password still means an /Encrypt dictionary). */
async function checkEncryption(doc: PdfDocument): Promise<void> {
  const { info } = await doc.getMetadata();
  if ((info as { EncryptFilterName?: string | null }).EncryptFilterName || (await doc.getPermissions()) !== null) {
    throw new DocumentError('encrypted', 'The PDF is encrypted');
  }
}

async function pageHasScript(page: PdfPageProxy): Promise<boolean> {
  if (await page.getJSActions()) return true;
  const annotations = (await page.getAnnotations()) as { actions?: object; unsafeUrl?: string }[];
  return annotations.some(
    (a) => (a.actions && Object.keys(a.actions).length > 0) || /^\s*javascript:/i.test(a.unsafeUrl ?? ''),
  );
}

/** Scripts in the raw bytes; read before pdf.js takes the buffer (it transfers it to its parser). */
function rawHasScript(bytes: Uint8Array): boolean {
  return SCRIPT_MARKER.test(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'));
}

async function checkScripts(doc: PdfDocument, raw: boolean): Promise<void> {
  const fields = Object.values((await doc.getFieldObjects()) ?? {}).flat() as { actions?: object }[];
  if (raw || (await doc.getJSActions()) || fields.some((f) => f.actions && Object.keys(f.actions).length > 0)) {
    throw new DocumentError('javascript', 'The PDF carries JavaScript actions, which are not accepted');
  }
}

/** Size of each page when its longest side is `side` pixels; refuses the document when they add up past the cap. */
async function plan(doc: PdfDocument, side: number, maxPixels: number): Promise<number[]> {
  const scales: number[] = [];
  let total = 0;
  for (let n = 1; n <= doc.numPages; n++) {
    const [width, height] = viewSize(await doc.getPage(n), 1);
    const scale = side / Math.max(width, height, 1);
    const [w, h] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
    total += w * h;
    if (total > maxPixels) {
      throw new DocumentError(
        'too_many_pixels',
        `Rendering the pages at ${side} px needs more than ${maxPixels} pixels`,
        n,
      );
    }
    scales.push(scale);
  }
  return scales;
}

function viewSize(page: PdfPageProxy, scale: number): [number, number] {
  const view = page.getViewport({ scale });
  return [view.width, view.height];
}

async function render(doc: PdfDocument, page: PdfPageProxy, scale: number): Promise<PageImage> {
  const viewport = page.getViewport({ scale });
  const [width, height] = [Math.max(1, Math.round(viewport.width)), Math.max(1, Math.round(viewport.height))];
  const factory = doc.canvasFactory as CanvasFactory;
  const target = factory.create(width, height);
  try {
    await page.render({ canvasContext: target.context as never, viewport }).promise;
    const pixels = target.context.getImageData(0, 0, width, height).data;
    return { width, height, rgba: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength) };
  } finally {
    factory.destroy(target);
  }
}

async function readPages(doc: PdfDocument, input: PdfWorkerInput): Promise<PdfPage[]> {
  const scales = input.render ? await plan(doc, input.render.side, input.render.maxPixels) : [];
  const pages: PdfPage[] = [];
  for (let n = 1; n <= doc.numPages; n++) {
    const page = await doc.getPage(n);
    if (await pageHasScript(page))
      throw new DocumentError('javascript', 'The PDF carries JavaScript actions, which are not accepted', n);
    const content = await page.getTextContent();
    const text = readingOrder(content.items.filter((item) => 'str' in item) as TextRun[]);
    const scale = scales[n - 1];
    pages.push({ number: n, text, image: scale === undefined ? null : await render(doc, page, scale) });
    page.cleanup();
  }
  return pages;
}

async function read(pdfjs: Pdfjs, input: PdfWorkerInput): Promise<PdfPage[]> {
  const rawScript = rawHasScript(input.bytes);
  const doc = await openDocument(pdfjs, input);
  try {
    if (doc.numPages > input.maxPages) {
      throw new DocumentError(
        'too_many_pages',
        `The PDF has ${doc.numPages} pages; at most ${input.maxPages} are accepted`,
      );
    }
    await checkEncryption(doc);
    await checkScripts(doc, rawScript);
    return await readPages(doc, input);
  } finally {
    await doc.destroy();
  }
}

function reply(message: Exclude<PdfWorkerReply, { ready: true }>): void {
  const buffers = message.ok ? message.pages.flatMap((p) => (p.image ? [p.image.rgba.buffer as ArrayBuffer] : [])) : [];
  parentPort?.postMessage(message, buffers);
}

// Parsing and drawing are the client's work: below the event loop, so /health and other requests go first.
lowerThreadPriority();
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
parentPort?.on('message', (input: PdfWorkerInput) => {
  read(pdfjs, input).then(
    (pages) => reply({ ok: true, pages }),
    (error: unknown) => {
      if (error instanceof DocumentError)
        return reply({ ok: false, reason: error.reason, message: error.message, page: error.page });
      // A stack overflow (objects nested without end) or anything pdf.js throws mid-page: the file is not readable.
      return reply({
        ok: false,
        reason: 'malformed',
        message: `The PDF could not be read: ${(error as Error).message}`,
        page: null,
      });
    },
  );
});
parentPort?.postMessage({ ready: true } satisfies PdfWorkerReply);
