/** Limits on the PDF documents of one chat request (config keys `document*`, docs/SECURITY.md "Documents"). */

/** What one request's documents may cost. */
export interface DocumentLimits {
  /** Largest PDF accepted, in bytes (data URL or uploaded file). Default 32 MiB (OpenAI's per-file limit). */
  maxBytes: number;
  /** Most pages across all the documents of one request; checked on the page count before any page is read. Default 50. */
  maxPages: number;
  /**
   * Most rendered pixels across all the pages of one request (vision models; 4 bytes each while rendering).
   * Default 33 554 432 (32 Mi px = 128 MiB of RGBA).
   */
  maxPixels: number;
  /** Time for reading one document (parse, text, rendering), in milliseconds; the reading thread is then ended. Default 20 000. */
  timeoutMs: number;
}

/** The defaults above. */
export const defaultDocumentLimits: DocumentLimits = {
  maxBytes: 32 * 1024 * 1024,
  maxPages: 50,
  maxPixels: 33_554_432,
  timeoutMs: 20_000,
};
