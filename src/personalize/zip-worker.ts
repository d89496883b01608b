/**
 * Worker-thread side of `unzipImages`: streams a zip from disk through fflate's streaming `Unzip` (local headers,
 * entry by entry) and inflates the wanted entries chunk by chunk, counting the bytes they really inflate to — not
 * the sizes their headers declare, which a zip bomb lies about — and stopping at the first limit crossed. Off the
 * event loop, so even an honest archive of hundreds of MiB never freezes the server.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { Unzip, UnzipInflate, UnzipPassThrough, type UnzipFile } from 'fflate';
import { lowerThreadPriority } from '../util/index.js';
import type { ZipJob, ZipLimits, ZipResult } from './zip-images.js';

/** Compressed bytes pushed per step: bounds what one step can inflate (deflate's ratio is at most ~1032:1). */
const READ_CHUNK = 16 * 1024;

class LimitError extends Error {}

function extract(job: ZipJob): { entries: { name: string; bytes: Uint8Array }[] } {
  const { limits } = job;
  const entries: { name: string; bytes: Uint8Array }[] = [];
  let seen = 0;
  let total = 0;
  const unzip = new Unzip((file) => {
    if (++seen > limits.entries) throw new LimitError(`holds more than ${limits.entries} entries`);
    if (!job.wanted(file.name)) return;
    collect(file, limits, (bytes) => {
      total += bytes;
      if (total > limits.totalBytes) throw new LimitError(`inflates to more than ${limits.totalBytes} bytes`);
    }, entries);
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
  }
  return { entries };
}

function collect(file: UnzipFile, limits: ZipLimits, count: (bytes: number) => void, out: { name: string; bytes: Uint8Array }[]): void {
  const chunks: Uint8Array[] = [];
  let size = 0;
  file.ondata = (error, chunk, final) => {
    if (error) throw error;
    size += chunk.length;
    if (size > limits.entryBytes) throw new LimitError(`has an entry (${file.name}) that inflates to more than ${limits.entryBytes} bytes`);
    count(chunk.length);
    chunks.push(chunk);
    if (!final) return;
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    out.push({ name: file.name, bytes });
  };
  file.start();
}

const port = parentPort;
if (!port) throw new Error('zip-worker must run as a worker thread');
lowerThreadPriority();
const job = workerData as Omit<ZipJob, 'wanted'> & { extensions: string[] };
const extensions = new Set(job.extensions);
const wanted = (name: string): boolean => {
  const base = name.split('/').pop() ?? '';
  const dot = base.lastIndexOf('.');
  return !name.endsWith('/') && !name.includes('__MACOSX/') && !base.startsWith('.') && dot > 0 && extensions.has(base.slice(dot).toLowerCase());
};
try {
  const result = extract({ ...job, wanted });
  port.postMessage(result, result.entries.map((e) => e.bytes.buffer as ArrayBuffer));
} catch (error) {
  port.postMessage({ error: (error as Error).message, limit: error instanceof LimitError } satisfies ZipResult);
}
