import { existsSync, mkdirSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gitBlobSha1File, OutboundError, sha256File } from '../util/index.js';
import { hubFetch, hubHttpError, HubHttpError, HubOfflineError, type HubFile, type HubOptions } from './hub-client.js';
import type { PullReporter } from './pull-reporter.js';

/** A downloaded file failed its size or hash check; the bad bytes were deleted. */
export class IntegrityError extends Error {}

/** One file to fetch. */
export interface DownloadRequest {
  url: string;
  file: HubFile;
  /** Final path; `<dest>.partial` holds bytes between attempts and pulls. */
  dest: string;
  /** Attempts per file before giving up, counting resumes after dropped connections (default 5). */
  maxAttempts?: number;
}

function expectedHash(
  file: HubFile,
  response: Response | undefined,
): { kind: 'sha256' | 'git-sha1'; value: string } | undefined {
  if (file.sha256) return { kind: 'sha256', value: file.sha256 };
  // LFS files without tree info: the hub puts the sha256 in X-Linked-Etag; git files carry the blob sha1 as ETag.
  const linked = response?.headers.get('x-linked-etag')?.replace(/^W\/|"/g, '');
  if (linked && /^[0-9a-f]{64}$/.test(linked)) return { kind: 'sha256', value: linked };
  if (/^[0-9a-f]{40}$/.test(file.oid)) return { kind: 'git-sha1', value: file.oid };
  return undefined;
}

/** Checks size and hash of the completed partial file; deletes it when wrong so the next pull starts clean. */
async function verify(partial: string, request: DownloadRequest, response: Response | undefined): Promise<void> {
  const size = statSync(partial).size;
  const fail = (message: string): never => {
    rmSync(partial, { force: true });
    throw new IntegrityError(`${request.file.path}: ${message}; the download was deleted, run the pull again`);
  };
  if (size !== request.file.size) fail(`size ${size} bytes, expected ${request.file.size}`);
  const expected = expectedHash(request.file, response);
  if (!expected) return;
  const actual = expected.kind === 'sha256' ? await sha256File(partial) : await gitBlobSha1File(partial, size);
  if (actual !== expected.value)
    fail(`${expected.kind} ${actual} does not match the hub's ${expected.value} (corrupted)`);
}

/** Sends the ranged request for the bytes still missing and checks that the server honoured the range. */
async function requestFrom(
  options: HubOptions,
  request: DownloadRequest,
  offset: number,
): Promise<{ response: Response; append: boolean }> {
  const response = await hubFetch(
    options,
    request.url,
    offset > 0 ? { range: `bytes=${offset}-` } : {},
    request.file.size,
  );
  if (response.status === 206) {
    const start = Number(/bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1]);
    if (start !== offset) {
      await response.body?.cancel();
      throw new HubHttpError(`${request.file.path}: server answered range from ${start}, asked ${offset}`, 206);
    }
    return { response, append: true };
  }
  if (response.ok) return { response, append: false };
  throw await hubHttpError(response, `downloading ${request.file.path}`, Boolean(options.token));
}

/**
 * Appends the response body to the partial file chunk by chunk, reporting progress; rejects if the connection drops.
 * Each chunk is written before the next is read, so everything received before a drop stays on disk for the resume.
 */
async function receive(
  response: Response,
  partial: string,
  append: boolean,
  start: number,
  onBytes: (n: number) => void,
): Promise<void> {
  if (!response.body) throw new HubHttpError('empty response body', response.status);
  const handle = await open(partial, append ? 'a' : 'w');
  let done = start;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      await handle.write(chunk);
      done += chunk.length;
      onBytes(done);
    }
  } finally {
    await handle.sync().catch(() => {});
    await handle.close();
  }
}

/**
 * Downloads one file with resume: bytes land in `<dest>.partial`; after a dropped connection (or in a later pull) the
 * next request asks only for the missing range (`Range: bytes=N-`). A server that ignores the range is handled by
 * starting over. The complete file is checked against the hub's size and hash (LFS sha256, or the git blob sha1 of
 * small files) and only then renamed to `dest`.
 */
export async function downloadFile(
  options: HubOptions,
  request: DownloadRequest,
  reporter: PullReporter,
): Promise<void> {
  const partial = `${request.dest}.partial`;
  mkdirSync(dirname(request.dest), { recursive: true });
  const maxAttempts = request.maxAttempts ?? 5;
  let response: Response | undefined;
  for (let attempt = 1; ; attempt += 1) {
    let offset = existsSync(partial) ? statSync(partial).size : 0;
    if (offset > request.file.size) {
      truncateSync(partial, 0);
      offset = 0;
    }
    reporter.fileStart(request.file.path, request.file.size, offset);
    try {
      if (offset < request.file.size || request.file.size === 0) {
        const sent = await requestFrom(options, request, offset);
        response = sent.response;
        await receive(response, partial, sent.append, sent.append ? offset : 0, (n) =>
          reporter.fileProgress(request.file.path, n),
        );
        // A body that ended cleanly but short (no Content-Length to catch it) is an interruption, not corruption.
        const have = statSync(partial).size;
        if (have < request.file.size) throw new Error(`connection closed after ${have} of ${request.file.size} bytes`);
      }
      break;
    } catch (error) {
      // A refused address or redirect, or a body over the file's size, will not change on a retry.
      const refused = error instanceof OutboundError && error.reason !== 'network' && error.reason !== 'timeout';
      const transient =
        !(error instanceof HubHttpError && error.status < 500) && !(error instanceof IntegrityError) && !refused;
      if (!transient || attempt >= maxAttempts) throw error;
      // A hub that stopped answering gets a moment (0.25 s, doubling, at most 4 s); a dropped transfer resumes at once.
      if (error instanceof HubOfflineError) await sleep(Math.min(250 * 2 ** (attempt - 1), 4000));
      const have = existsSync(partial) ? statSync(partial).size : 0;
      reporter.note(
        `${request.file.path}: transfer interrupted at ${have} bytes (${(error as Error).message}); resuming (attempt ${attempt + 1}/${maxAttempts})`,
      );
    }
  }
  await verify(partial, request, response);
  renameSync(partial, request.dest);
  reporter.fileDone(request.file.path);
}
