/**
 * Worker-thread side of `unzipImages`: streams a zip from disk through fflate's streaming `Unzip` (local headers,
 * entry by entry) and inflates the wanted entries chunk by chunk, counting the bytes they really inflate to — not
 * the sizes their headers declare, which a zip bomb lies about — and stopping at the first limit crossed. Off the
 * event loop, so even an honest archive of hundreds of MiB never freezes the server. Each entry is written, chunk by
 * chunk, to a file of its own in the job's folder and only its path and size are sent back: the main thread never
 * receives (nor garbage-collects) the inflated bytes of an archive it then refuses.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Unzip, UnzipInflate, UnzipPassThrough } from 'fflate';
import { lowerThreadPriority } from '../util/index.js';
import type { ZipEntryFile, ZipJob, ZipResult } from './zip-images.js';

/** Compressed bytes pushed per step: bounds what one step can inflate (deflate's ratio is at most ~1032:1). */
const READ_CHUNK = 16 * 1024;

class LimitError extends Error {}

function extract(job: ZipJob): { entries: ZipEntryFile[] } {
  const { limits } = job;
  const entries: ZipEntryFile[] = [];
  // Entry files still open: worker threads share the process's descriptors, so a throw must close them here.
  const open = new Set<number>();
  let seen = 0;
  let total = 0;
  const unzip = new Unzip((file) => {
    if (++seen > limits.entries) throw new LimitError(`holds more than ${limits.entries} entries`);
    if (!job.wanted(file.name)) return;
    const entry = { name: file.name, path: join(job.outDir, String(entries.length)), size: 0 };
    entries.push(entry);
    const fd = openSync(entry.path, 'w');
    open.add(fd);
    file.ondata = (error, chunk, final) => {
      if (error) throw error;
      entry.size += chunk.length;
      if (entry.size > limits.entryBytes)
        throw new LimitError(`has an entry (${file.name}) that inflates to more than ${limits.entryBytes} bytes`);
      total += chunk.length;
      if (total > limits.totalBytes) throw new LimitError(`inflates to more than ${limits.totalBytes} bytes`);
      writeSync(fd, chunk);
      if (!final) return;
      open.delete(fd);
      closeSync(fd);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);
  const fd = openSync(job.path, 'r');
  try {
    const buffer = new Uint8Array(READ_CHUNK);
    for (let read = readSync(fd, buffer); ; read = readSync(fd, buffer)) {
      // `push` keeps no reference to a final chunk's bytes beyond the call, but earlier ones may be buffered: copy.
      unzip.push(buffer.slice(0, read), read === 0);
      if (read === 0) break;
    }
  } finally {
    closeSync(fd);
    for (const entryFd of open) closeSync(entryFd);
  }
  return { entries };
}

const port = parentPort;
if (!port) throw new Error('zip-worker must run as a worker thread');
lowerThreadPriority();
const job = workerData as Omit<ZipJob, 'wanted'> & { extensions: string[] };
const extensions = new Set(job.extensions);
const wanted = (name: string): boolean => {
  const base = name.split('/').pop() ?? '';
  const dot = base.lastIndexOf('.');
  return (
    !name.endsWith('/') &&
    !name.includes('__MACOSX/') &&
    !base.startsWith('.') &&
    dot > 0 &&
    extensions.has(base.slice(dot).toLowerCase())
  );
};
try {
  const result = extract({ ...job, wanted });
  port.postMessage(result satisfies ZipResult);
} catch (error) {
  port.postMessage({ error: (error as Error).message, limit: error instanceof LimitError } satisfies ZipResult);
}
