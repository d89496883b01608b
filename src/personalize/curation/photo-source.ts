/** The photos `atelier curate` and `atelier train --curate` look at: a folder of images, or one zip of them. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { InvalidRequestError } from '../../protocol/index.js';
import { safeName } from '../subject-images.js';
import { unzipEntries, ZipRefusedError } from '../zip-images.js';
import type { JudgedPhoto } from './verdict.js';

/** File endings taken as photos (the same as the worker's). Anything else in a folder is ignored. */
export const photoExtensions: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp'];

/**
 * Reads the photos of a folder (files with a photo ending, hidden files skipped, sorted by name) or a zip (unzipped
 * on a worker thread, with the upload limits). Names are the job's safe names, so a plan matches the job's photos.
 * Bytes are not checked here: judging them is curation's job.
 */
export async function readPhotoSource(path: string): Promise<JudgedPhoto[]> {
  const full = resolve(path);
  const info = await stat(full).catch(() => null);
  if (!info) throw new InvalidRequestError(`${path}: no such file or folder`);
  if (info.isDirectory()) {
    const names = (await readdir(full))
      .filter((name) => !name.startsWith('.') && photoExtensions.includes(extname(name).toLowerCase()))
      .sort();
    return Promise.all(names.map(async (name) => ({ name: safeName(name), bytes: await readFile(join(full, name)) })));
  }
  try {
    const entries = await unzipEntries(full, [...photoExtensions]);
    return entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(({ name, bytes }) => ({ name: safeName(name), bytes }));
  } catch (error) {
    if (error instanceof ZipRefusedError)
      throw new InvalidRequestError(`${path}: not a usable zip of photos: ${error.message}`);
    throw error;
  }
}
