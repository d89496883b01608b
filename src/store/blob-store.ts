import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { fsyncDir, newId } from '../util/index.js';

/** What a blob write returns: the content address and its length in bytes. */
export interface BlobRef {
  sha256: string;
  size: number;
}

const shaPattern = /^[0-9a-f]{64}$/;

/**
 * Content-addressed blob folder (`sha256/<2 hex>/<64 hex>`). Writes stream into a temp file on the same filesystem,
 * fsync it, then rename it into place and fsync the directory: a blob path exists only with its complete, verified
 * content, so a crash mid-write leaves at most an orphan temp file (swept by `sweepTemp`). Identical content is stored
 * once.
 */
export class BlobStore {
  constructor(
    readonly root: string,
    private readonly tmpDir: string,
  ) {
    mkdirSync(join(root, 'sha256'), { recursive: true });
    mkdirSync(tmpDir, { recursive: true });
  }

  /** Path of a blob (whether or not it exists). Throws on anything that is not a sha256 hex string. */
  path(sha256: string): string {
    if (!shaPattern.test(sha256)) throw new Error(`not a sha256 digest: ${JSON.stringify(sha256)}`);
    return join(this.root, 'sha256', sha256.slice(0, 2), sha256);
  }

  /** Whether a blob is present. */
  has(sha256: string): boolean {
    return existsSync(this.path(sha256));
  }

  /** Size in bytes of a present blob. */
  size(sha256: string): number {
    return statSync(this.path(sha256)).size;
  }

  /** A read stream over a blob's bytes. */
  read(sha256: string): Readable {
    return createReadStream(this.path(sha256));
  }

  /** Stores bytes, returning their address. */
  async put(data: Uint8Array | string): Promise<BlobRef> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    async function* once(): AsyncGenerator<Uint8Array> {
      yield bytes;
    }
    return this.putStream(once());
  }

  /**
   * Streams bytes into the store. `maxBytes` stops an oversized upload early (the temp file is removed and nothing is
   * stored); the error names the limit.
   */
  async putStream(source: AsyncIterable<Uint8Array> | Readable, maxBytes = Infinity): Promise<BlobRef> {
    const temp = join(this.tmpDir, newId('blob'));
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > maxBytes) return done(new Error(`blob exceeds the limit of ${maxBytes} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(temp));
      const handle = await open(temp, 'r+');
      await handle.sync().finally(() => handle.close());
      const sha256 = hash.digest('hex');
      const target = this.path(sha256);
      mkdirSync(join(this.root, 'sha256', sha256.slice(0, 2)), { recursive: true });
      // Same content ⇒ same bytes, so replacing an existing blob is harmless and keeps this lock-free.
      renameSync(temp, target);
      fsyncDir(join(this.root, 'sha256', sha256.slice(0, 2)));
      return { sha256, size };
    } finally {
      rmSync(temp, { force: true });
    }
  }

  /** Deletes a blob; a missing one is not an error. Callers must make sure no row still references it. */
  remove(sha256: string): void {
    rmSync(this.path(sha256), { force: true });
  }

  /**
   * Removes temp files left by writes that a crash interrupted. Only files older than `minAgeMs` (default a day) go,
   * because another process sharing this home may be writing right now.
   */
  sweepTemp(minAgeMs = 24 * 3600 * 1000): void {
    const cutoff = Date.now() - minAgeMs;
    for (const name of readdirSync(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
    }
  }
}
