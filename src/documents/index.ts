// Public face of src/documents: PDF reading (text layer, page images) on a thread of its own, under limits.
export { defaultDocumentLimits, type DocumentLimits } from './document-limits.js';
export { DocumentError, type DocumentFailure } from './document-error.js';
export { readPdf, type ReadPdfOptions } from './pdf-reader.js';
export type { PageImage, PdfPage } from './pdf-types.js';
export { readingOrder, type TextRun } from './text-layer.js';
