import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Lower-case hex SHA-256 of a file's bytes, streamed (constant memory). */
export async function sha256File(path: string): Promise<string> {
  return hashFile(createHash('sha256'), path);
}

/**
 * Git's blob id of a file: SHA-1 over `blob <size>\0` + content. The Hugging Face hub reports this as the `oid` of
 * files stored in git itself (not LFS), so it is how small files are verified.
 */
export async function gitBlobSha1File(path: string, size: number): Promise<string> {
  const hash = createHash('sha1').update(`blob ${size}\0`);
  return hashFile(hash, path);
}

/** Feeds a whole file into `hash`, optionally starting from a hash already primed with earlier bytes. */
export async function hashFile(hash: Hash, path: string): Promise<string> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Lower-case hex SHA-256 of in-memory bytes. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
