/**
 * Reads a PDF on a thread of its own: one thread per document, ended when it answers, or terminated at the time
 * limit — a hostile file (objects that refer to themselves, content that draws itself, a decompression bomb) can
 * cost that thread at most `timeoutMs` and its heap cap, never the event loop.
 *
 * Library: pdfjs-dist (Mozilla's PDF.js, Apache-2.0, released every few weeks) parses, extracts text and renders
 * through @napi-rs/canvas (MIT, Skia, prebuilt per platform in the npm registry: no toolchain or download at
 * install). Pinned at 5.1.91, the last release whose `engines` admits Node 20.10. MuPDF's bindings are AGPL, and
 * PDFium's wasm builds have no maintained text-layer API in Node.
 */
import { startModuleWorker } from '../util/index.js';
import { DocumentError } from './document-error.js';
import type { PdfPage, PdfWorkerInput, PdfWorkerReply } from './pdf-types.js';

/** What to read of one document. */
export interface ReadPdfOptions {
  /** Most pages accepted (checked on the page count first). */
  maxPages: number;
  /** Render pages with their longest side `side` px, at most `maxPixels` for all; null = text layer only. */
  render: { side: number; maxPixels: number } | null;
  /** Time for the whole document in milliseconds; the thread is then terminated. */
  timeoutMs: number;
  /** Largest image embedded in a page that is decoded, in pixels; larger ones are left out. Default 16 777 216. */
  maxImagePixels?: number;
}

/** The reading thread's V8 heap cap; pixel buffers live outside it and are bounded by `render.maxPixels`. */
const HEAP_MB = 512;
/**
 * The reading thread's stack: a document whose objects recurse (a form that draws itself) ends in a stack overflow,
 * which pdf.js turns into a cascade of rejections costing time per frame; a smaller stack ends it sooner. Real
 * documents nest a few dozen levels.
 */
const STACK_MB = 1;
/** Limit on starting a reading thread and loading pdf.js (a second or two; far more on a saturated machine). */
const START_MS = 60_000;

/**
 * Reads every page of `bytes`: its text layer in reading order, and its image when `render` is set. Rejects with a
 * `DocumentError` (encrypted, JavaScript, malformed, over a limit, over time).
 */
export function readPdf(bytes: Uint8Array, options: ReadPdfOptions): Promise<PdfPage[]> {
  const input: PdfWorkerInput = {
    bytes,
    maxPages: options.maxPages,
    maxImagePixels: options.maxImagePixels ?? 16_777_216,
    render: options.render,
  };
  const worker = startModuleWorker(import.meta.url, 'pdf-worker', {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, stackSizeMb: STACK_MB },
    stdout: true,
    stderr: true,
  });
  // pdf.js reports what it recovered from on the console: the client's file is not the operator's log.
  worker.stdout.resume();
  worker.stderr.resume();
  return new Promise<PdfPage[]>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done();
      void worker.terminate();
    };
    const expire = (what: string, ms: number) => () => settle(() => reject(new DocumentError('timeout', `${what} took longer than ${ms / 1000} s`)));
    // Starting the thread and loading pdf.js costs the same for every file; the document's own time starts after it.
    let timer = setTimeout(expire('Starting the PDF reader', START_MS), START_MS);
    worker.on('message', (reply: PdfWorkerReply) => {
      if ('ready' in reply) {
        clearTimeout(timer);
        timer = setTimeout(expire('Reading the PDF', options.timeoutMs), options.timeoutMs);
        return;
      }
      settle(() => (reply.ok ? resolve(reply.pages) : reject(new DocumentError(reply.reason, reply.message, reply.page))));
    });
    worker.once('error', (error: Error) => {
      const heap = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      settle(() => reject(new DocumentError('malformed', heap ? 'The PDF needs too much memory to read' : `The PDF could not be read: ${error.message}`)));
    });
    worker.once('exit', () => settle(() => reject(new DocumentError('malformed', 'The PDF could not be read'))));
  });
}
