import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { newId } from '../util/index.js';

/** What a blob write returns: the content address and its length in bytes. */
export interface BlobRef {
  sha256: string;
  size: number;
}

const shaPattern = /^[0-9a-f]{64}$/;
// Temp files are named `<pid>-<id>` so a sweep can tell a dead writer's leftovers from a live writer's file.
const tempPattern = /^(\d+)-/;

/** Whether process `pid` exists on this machine (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * `fsyncDir` (util) on the thread pool: an upload's directory fsync can take tens of milliseconds on a busy disk,
 * which the event loop must not wait through.
 */
async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories (EISDIR/EINVAL); the rename is still atomic there.
  } finally {
    await handle.close();
  }
}

/**
 * Content-addressed blob folder (`sha256/<2 hex>/<64 hex>`). Writes stream into a temp file on the same filesystem,
 * fsync it, then rename it into place and fsync the directory: a blob path exists only with its complete, verified
 * content, so a crash mid-write leaves at most an orphan temp file (swept by `sweepTemp`). Identical content is stored
 * once, so one blob may back several rows: `hold` protects a blob between its write and the row that will reference
 * it, and `sweepUnreferenced` removes blobs no row references.
 */
export class BlobStore {
  private readonly held = new Map<string, number>();

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
    const temp = join(this.tmpDir, `${process.pid}-${newId('blob')}`);
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
      const dir = join(this.root, 'sha256', sha256.slice(0, 2));
      await mkdir(dir, { recursive: true });
      // Same content ⇒ same bytes, so replacing an existing blob is harmless and keeps this lock-free.
      await rename(temp, target);
      await fsyncDirAsync(dir);
      return { sha256, size };
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Deletes a blob; a missing one is not an error. Callers must make sure no row still references it. */
  remove(sha256: string): void {
    rmSync(this.path(sha256), { force: true });
  }

  /**
   * Marks a blob as about to be referenced (an upload written, its row not yet inserted) so that this process does
   * not remove it meanwhile — a concurrent delete of another file with the same bytes, say. Returns the release.
   */
  hold(sha256: string): () => void {
    this.held.set(sha256, (this.held.get(sha256) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.held.get(sha256) ?? 1) - 1;
      if (left > 0) this.held.set(sha256, left);
      else this.held.delete(sha256);
    };
  }

  /** Whether a `hold` on the blob is unreleased. */
  isHeld(sha256: string): boolean {
    return this.held.has(sha256);
  }

  /**
   * Removes temp files left by writes that a crash interrupted: those of a writer process that no longer exists,
   * and any older than `maxAgeMs` (default a day; a PID may have been reused, or the home is shared by another
   * machine). A live writer's files stay. Returns how many were removed.
   */
  sweepTemp(maxAgeMs = 24 * 3600 * 1000): number {
    const cutoff = Date.now() - maxAgeMs;
    let removed = 0;
    for (const name of readdirSync(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      const pid = tempPattern.exec(name)?.[1];
      const dead = pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid));
      if (dead || statSync(path).mtimeMs < cutoff) {
        rmSync(path, { recursive: true, force: true });
        removed += 1;
      }
    }
    return removed;
  }

  /**
   * Removes blobs that `isReferenced` says no row needs, are not held, and are older than `graceMs` (default an hour:
   * another process — `atelier train` — may have written a blob and not yet inserted its row). Returns how many
   * were removed.
   */
  sweepUnreferenced(isReferenced: (sha256: string) => boolean, graceMs = 3600 * 1000): number {
    const cutoff = Date.now() - graceMs;
    let removed = 0;
    const top = join(this.root, 'sha256');
    for (const prefix of readdirSync(top)) {
      for (const name of readdirSync(join(top, prefix))) {
        const path = join(top, prefix, name);
        if (!shaPattern.test(name) || this.isHeld(name) || statSync(path).mtimeMs >= cutoff || isReferenced(name))
          continue;
        rmSync(path, { force: true });
        removed += 1;
      }
    }
    return removed;
  }
}
