/**
 * Extracting the photos of a zip upload on a worker thread (`zip-worker.ts`) under limits counted on the real
 * inflated output: entries seen, bytes per entry, bytes in all. The worker writes the entries to files; the event
 * loop only waits for their paths.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  /** Existing folder the entries are written to, as `0`, `1`, … in archive order. */
  outDir: string;
  limits: ZipLimits;
  wanted(name: string): boolean;
}

/** One extracted entry: its name as stored in the archive, the file holding its bytes, and their count. */
export interface ZipEntryFile {
  name: string;
  path: string;
  size: number;
}

/** The worker's answer: the wanted entries, or why it stopped (`limit`: a limit was crossed). */
export type ZipResult = { entries: ZipEntryFile[] } | { error: string; limit: boolean };

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
 * Extracts into `outDir` (an existing folder) the entries of the zip at `path` whose names end in one of
 * `extensions` (lower case, with the dot), skipping folders, `__MACOSX/` and dot files, in archive order. Rejects
 * with `ZipRefusedError`, leaving partial files in `outDir` for the caller to remove with the folder.
 */
export function extractEntries(
  path: string,
  extensions: readonly string[],
  outDir: string,
  limits: ZipLimits = defaultZipLimits,
): Promise<ZipEntryFile[]> {
  const worker = startModuleWorker(import.meta.url, 'zip-worker', {
    workerData: { path, outDir, limits, extensions: [...extensions] },
  });
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

/** A temp folder for `use`, removed when it settles. */
export async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'atelier-zip-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `extractEntries` read into memory, for callers that need every photo's bytes at once (curation from a path). */
export function unzipEntries(
  path: string,
  extensions: readonly string[],
  limits: ZipLimits = defaultZipLimits,
): Promise<{ name: string; bytes: Uint8Array }[]> {
  return withTempDir(async (dir) => {
    const entries = await extractEntries(path, extensions, dir, limits);
    return Promise.all(entries.map(async (entry) => ({ name: entry.name, bytes: await readFile(entry.path) })));
  });
}
