import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '../../src/models/index.js';
import { FineTuneRunner } from '../../src/personalize/index.js';
import { createServer, defaultConfig, type AtelierConfig, type RoutePlugin } from '../../src/server/index.js';
import { filesRoutes } from '../../src/server/routes/files.js';
import { fineTuningJobsRoutes } from '../../src/server/routes/fine-tuning-jobs.js';
import { openStore, type Store } from '../../src/store/index.js';

/** Helpers of the hostile-input tests: a real server on 127.0.0.1 over a temp ATELIER_HOME, and raw HTTP. */

/** A running test server. */
export interface Hostile {
  url: string;
  port: number;
  home: string;
  store: Store;
}

/** Starts files + fine-tuning routes (and `extra`) on port 0 with `overrides`; stopped and deleted after the test. */
export async function startHostile(
  t: { after: (fn: () => unknown) => void },
  overrides: Partial<AtelierConfig> = {},
  extra: RoutePlugin[] = [],
  home = mkdtempSync(join(tmpdir(), 'atelier-hostile-')),
): Promise<Hostile> {
  const store = openStore(home);
  const registry = new ModelRegistry(store);
  const runner = new FineTuneRunner({ store, installer: registry });
  const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const, ...overrides };
  const app = await createServer({ store, registry, config }, [
    filesRoutes({ maxFileBytes: 64 * 1024 }),
    fineTuningJobsRoutes(runner),
    ...extra,
  ]);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(async () => {
    await app.close();
    store.close();
    rmSync(home, { recursive: true, force: true });
  });
  return { url, port: Number(new URL(url).port), home, store };
}

/** What `raw` answers. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request with exactly these headers (`host` included, which fetch will not let a caller forge). A socket idle
 * for `idleMs` (default 10 s) fails it: a server that never finishes its answer must fail a test, not hang it.
 */
export function raw(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
  idleMs = 10_000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers, setHost: !('host' in headers), timeout: idleMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: the socket was idle for ${idleMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A multipart body with a `file` part named `filename` and any extra fields, in the order given. */
export function multipart(
  parts: ({ field: string; value: string } | { file: string; bytes: Buffer; field?: string })[],
): { body: Buffer; type: string } {
  const boundary = '----atelier-hostile-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head =
      'file' in part
        ? `Content-Disposition: form-data; name="${part.field ?? 'file'}"; filename="${part.file}"\r\nContent-Type: application/octet-stream`
        : `Content-Disposition: form-data; name="${part.field}"`;
    chunks.push(
      Buffer.from(`--${boundary}\r\n${head}\r\n\r\n`),
      'file' in part ? part.bytes : Buffer.from(part.value),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** The error object of an OpenAI-shaped body, asserting it has exactly OpenAI's four keys. */
export function errorOf(body: string): { message: string; type: string; param: string | null; code: string | null } {
  const parsed = JSON.parse(body) as {
    error: { message: string; type: string; param: string | null; code: string | null };
  };
  const keys = Object.keys(parsed.error).sort().join(',');
  if (keys !== 'code,message,param,type') throw new Error(`not OpenAI's error shape: ${body}`);
  return parsed.error;
}

/** Every blob and temp file under a home (paths relative to it). */
export function blobFiles(home: string): string[] {
  return readdirSync(join(home, 'blobs'), { recursive: true, withFileTypes: true })
    .concat(readdirSync(join(home, 'tmp'), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(home.length + 1));
}
