/** What crosses between `readPdf` and its reading thread (structured-cloned; pixel buffers are transferred). */
import type { DocumentFailure } from './document-error.js';

/** A rendered page: RGBA, 8 bits per channel, `width * height * 4` bytes. */
export interface PageImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** One page as read: its number (1-based), its text layer in reading order ('' when none), its image if rendered. */
export interface PdfPage {
  number: number;
  text: string;
  image: PageImage | null;
}

/** The thread's input. */
export interface PdfWorkerInput {
  bytes: Uint8Array;
  maxPages: number;
  /** Largest embedded image pdf.js decodes, in pixels (bigger ones are skipped). */
  maxImagePixels: number;
  /** Render every page with its longest side `side` px, all pages together at most `maxPixels`; null = text only. */
  render: { side: number; maxPixels: number } | null;
}

/** The thread's messages: `ready` once pdf.js is loaded (the time limit starts then), then one answer. */
export type PdfWorkerReply =
  | { ready: true }
  | { ok: true; pages: PdfPage[] }
  | { ok: false; reason: DocumentFailure; message: string; page: number | null };
