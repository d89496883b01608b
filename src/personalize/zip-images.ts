/**
 * Extracting the photos of a zip upload on a worker thread (`zip-worker.ts`) under limits counted on the real
 * inflated output: entries seen, bytes per entry, bytes in all. The event loop only waits for the answer.
 */
import { startModuleWorker } from '../util/index.js';

/** Limits of one archive; each bounds what a hostile zip can cost. */
export interface ZipLimits {
  /** Most entries (of any kind) read from one zip. Default 1000. */
  entries: number;
  /** Most bytes one entry may inflate to. Default 64 MiB. */
  entryBytes: number;
  /** Most bytes the wanted entries may inflate to together. Default 512 MiB. */
  totalBytes: number;
  /** Longest an extraction may run before it is stopped, in milliseconds. Default 60 000. */
  timeoutMs: number;
}

/** The defaults documented on `ZipLimits`. */
export const defaultZipLimits: Readonly<ZipLimits> = Object.freeze({
  entries: 1000,
  entryBytes: 64 * 1024 * 1024,
  totalBytes: 512 * 1024 * 1024,
  timeoutMs: 60_000,
});

/** What the worker is given (the entry filter is rebuilt there from `extensions`). */
export interface ZipJob {
  path: string;
  limits: ZipLimits;
  wanted(name: string): boolean;
}

/** The worker's answer: the wanted entries (names as stored), or why it stopped (`limit`: a limit was crossed). */
export type ZipResult = { entries: { name: string; bytes: Uint8Array }[] } | { error: string; limit: boolean };

/** Why an archive was refused; `limit` is true when it crossed a limit rather than being unreadable. */
export class ZipRefusedError extends Error {
  constructor(
    message: string,
    readonly limit: boolean,
  ) {
    super(message);
    this.name = 'ZipRefusedError';
  }
}

/**
 * The entries of the zip at `path` whose names end in one of `extensions` (lower case, with the dot), skipping
 * folders, `__MACOSX/` and dot files, in archive order. Rejects with `ZipRefusedError`.
 */
export function unzipEntries(path: string, extensions: readonly string[], limits: ZipLimits = defaultZipLimits): Promise<{ name: string; bytes: Uint8Array }[]> {
  const worker = startModuleWorker(import.meta.url, 'zip-worker', { workerData: { path, limits, extensions: [...extensions] } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new ZipRefusedError(`takes longer than ${limits.timeoutMs / 1000} s to extract`, true));
      void worker.terminate();
    }, limits.timeoutMs);
    const settle = (): void => {
      clearTimeout(timer);
      void worker.terminate();
    };
    worker.once('message', (result: ZipResult) => {
      settle();
      if ('error' in result) reject(new ZipRefusedError(result.error, result.limit));
      else resolve(result.entries);
    });
    worker.once('error', (error) => {
      settle();
      reject(new ZipRefusedError(error.message, false));
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ZipRefusedError(`the extraction stopped (exit code ${code})`, false));
    });
  });
}
