/**
 * Reads PDFs on threads of their own. A thread reads one document at a time and is terminated at the document's time
 * limit — a hostile file (objects that refer to themselves, content that draws itself, a decompression bomb) costs
 * that thread at most `timeoutMs` and its heap cap, never the event loop. Threads that answered cleanly are kept
 * (at most two idle), since starting one means compiling pdf.js again: seconds of CPU that, twice at once on a small
 * machine, would crowd out the event loop more than the reading itself.
 *
 * Library: pdfjs-dist (Mozilla's PDF.js, Apache-2.0, released every few weeks) parses, extracts text and renders
 * through @napi-rs/canvas (MIT, Skia, prebuilt per platform in the npm registry: no toolchain or download at
 * install). Pinned at 5.1.91, the last release whose `engines` admits Node 20.10. MuPDF's bindings are AGPL, and
 * PDFium's wasm builds have no maintained text-layer API in Node.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/index.js';
import { DocumentError, type DocumentFailure } from './document-error.js';
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

/** A reading thread's V8 heap cap; pixel buffers live outside it and are bounded by `render.maxPixels`. */
const HEAP_MB = 512;
/**
 * A reading thread's stack: a document whose objects recurse (a form that draws itself) ends in a stack overflow,
 * which pdf.js turns into a cascade of rejections costing time per frame; a smaller stack ends it sooner. Real
 * documents nest a few dozen levels.
 */
const STACK_MB = 1;
/** Limit on starting a reading thread and loading pdf.js (a second or two; far more on a saturated machine). */
const START_MS = 60_000;
/** Idle threads kept for the next documents. */
const MAX_IDLE = 2;
/** An idle thread is ended after this long unused (each holds pdf.js, ~100 MB), in milliseconds. */
const IDLE_MS = 10_000;
/**
 * Refusals after which the thread is known to be in order and is kept: the file was read far enough to judge it.
 * After anything else (pdf.js failing mid-document, a stack overflow) its state is not trusted and it is ended.
 */
const CLEAN_REFUSALS = new Set<DocumentFailure>(['encrypted', 'javascript', 'too_many_pages', 'too_many_pixels']);

const idle: Worker[] = [];
const idleTimers = new Map<Worker, NodeJS.Timeout>();

/** Takes an idle thread, if any, out of the pool. */
function takeIdle(): Worker | undefined {
  const worker = idle.pop();
  if (worker) {
    clearTimeout(idleTimers.get(worker));
    idleTimers.delete(worker);
  }
  return worker;
}

/** Starts a thread and waits until pdf.js is loaded in it; rejects with an Error (a server fault, not the file's). */
function startThread(): Promise<Worker> {
  const worker = startModuleWorker(import.meta.url, 'pdf-worker', {
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, stackSizeMb: STACK_MB },
    stdout: true,
    stderr: true,
  });
  // pdf.js reports what it recovered from on the console: the client's file is not the operator's log.
  worker.stdout.resume();
  worker.stderr.resume();
  worker.once('exit', () => idle.includes(worker) && idle.splice(idle.indexOf(worker), 1));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the PDF reader did not start within ${START_MS / 1000} s`));
    }, START_MS);
    worker.once('message', () => {
      clearTimeout(timer);
      resolve(worker);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Keeps a thread that answered cleanly for the next document, or ends it. */
function release(worker: Worker, clean: boolean): void {
  if (clean && idle.length < MAX_IDLE) {
    worker.unref();
    idle.push(worker);
    const timer = setTimeout(() => {
      if (idle.includes(worker)) idle.splice(idle.indexOf(worker), 1);
      idleTimers.delete(worker);
      void worker.terminate();
    }, IDLE_MS);
    idleTimers.set(worker, timer.unref());
  } else {
    void worker.terminate();
  }
}

/** Runs one document on `worker`; the thread is released or terminated before this settles. */
function run(worker: Worker, input: PdfWorkerInput, timeoutMs: number): Promise<PdfPage[]> {
  return new Promise((resolve, reject) => {
    const finish = (clean: boolean, settle: () => void): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      release(worker, clean);
      settle();
    };
    const onMessage = (reply: Exclude<PdfWorkerReply, { ready: true }>): void => {
      if (reply.ok) finish(true, () => resolve(reply.pages));
      else
        finish(CLEAN_REFUSALS.has(reply.reason), () =>
          reject(new DocumentError(reply.reason, reply.message, reply.page)),
        );
    };
    const onError = (error: Error): void => {
      const heap = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      finish(false, () =>
        reject(
          new DocumentError(
            'malformed',
            heap ? 'The PDF needs too much memory to read' : `The PDF could not be read: ${error.message}`,
          ),
        ),
      );
    };
    const onExit = (): void => finish(false, () => reject(new DocumentError('malformed', 'The PDF could not be read')));
    const timer = setTimeout(() => {
      finish(false, () =>
        reject(new DocumentError('timeout', `Reading the PDF took longer than ${timeoutMs / 1000} s`)),
      );
    }, timeoutMs);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.ref();
    worker.postMessage(input);
  });
}

/**
 * Reads every page of `bytes`: its text layer in reading order, and its image when `render` is set. Rejects with a
 * `DocumentError` (encrypted, JavaScript, malformed, over a limit, over time); with a plain Error when no reading
 * thread could be started.
 */
export async function readPdf(bytes: Uint8Array, options: ReadPdfOptions): Promise<PdfPage[]> {
  const input: PdfWorkerInput = {
    bytes,
    maxPages: options.maxPages,
    maxImagePixels: options.maxImagePixels ?? 16_777_216,
    render: options.render,
  };
  const worker = takeIdle() ?? (await startThread());
  return run(worker, input, options.timeoutMs);
}
