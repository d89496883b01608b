import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { unzipSync } from 'fflate';
import { InvalidRequestError, NotFoundError } from '../protocol/index.js';
import type { Store } from '../store/index.js';

/** One subject photo: a safe file name (unique within the job) and its bytes. */
export interface SubjectImage {
  name: string;
  bytes: Uint8Array;
}

/** Image formats the worker can read. */
export type ImageKind = 'png' | 'jpeg' | 'webp';

/** Fewest subject photos DreamBooth is run with (the paper uses 3–5). */
export const minSubjectImages = 3;
/** Most entries read from one zip, and most bytes they may expand to: a guard against zip bombs. */
const zipLimits = { entries: 1000, bytes: 512 * 1024 * 1024 };
const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.webp']);

/** Sniffs an image format from its first bytes (extensions lie; magic numbers do not). */
export function imageKind(bytes: Uint8Array): ImageKind | null {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  const ascii = (from: number, to: number): string => Buffer.from(b.subarray(from, to)).toString('latin1');
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  return null;
}

function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function safeName(raw: string): string {
  const base = basename(raw).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  return base === '' ? 'image' : base;
}

function unzipImages(bytes: Uint8Array, fileId: string, param: string): SubjectImage[] {
  let entries = 0;
  let total = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      // Decides from the central directory, before inflating anything, which entries to expand.
      filter: (info) => {
        const name = info.name;
        const wanted = !name.endsWith('/') && !name.includes('__MACOSX/') && !basename(name).startsWith('.');
        if (!wanted || !imageExtensions.has(extname(name).toLowerCase())) return false;
        entries += 1;
        total += info.originalSize;
        if (entries > zipLimits.entries || total > zipLimits.bytes) {
          throw new InvalidRequestError(`Zip file ${fileId} holds more than ${zipLimits.entries} images or 512 MiB.`, {
            param,
            code: 'invalid_file',
          });
        }
        return true;
      },
    });
  } catch (error) {
    if (error instanceof InvalidRequestError) throw error;
    throw new InvalidRequestError(`File ${fileId} is not a readable zip: ${(error as Error).message}`, {
      param,
      code: 'invalid_file',
    });
  }
  return Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, data]) => ({ name: safeName(name), bytes: data }));
}

/**
 * Reads the subject photos of a job: each file id must be an uploaded `fine-tune` file holding one image (PNG, JPEG
 * or WebP) or a zip of them. Names are made unique. Throws OpenAI-shaped errors naming the parameter (`param`):
 * 404 for an unknown id, 400 for a wrong purpose, a file that is neither, or fewer than `minSubjectImages` photos.
 * Deeper checks (corrupt pixels, tiny or duplicate photos) are the worker's, before any compute.
 */
export function readSubjectImages(store: Store, fileIds: { id: string; param: string }[]): SubjectImage[] {
  const images: SubjectImage[] = [];
  for (const { id, param } of fileIds) {
    const file = store.files.get(id);
    if (!file) throw new NotFoundError(`No such File object: ${id}`, { param, code: 'file_not_found' });
    if (file.purpose !== 'fine-tune') {
      throw new InvalidRequestError(`File ${id} has purpose '${file.purpose}'; training files need 'fine-tune'.`, {
        param,
        code: 'invalid_file_purpose',
      });
    }
    const bytes = readFileSync(store.blobs.path(file.sha256));
    if (isZip(bytes)) images.push(...unzipImages(bytes, id, param));
    else if (imageKind(bytes)) images.push({ name: safeName(file.filename), bytes });
    else {
      throw new InvalidRequestError(`File ${id} (${file.filename}) is neither a PNG/JPEG/WebP image nor a zip of them.`, {
        param,
        code: 'invalid_file',
      });
    }
  }
  if (images.length < minSubjectImages) {
    throw new InvalidRequestError(
      `DreamBooth needs at least ${minSubjectImages} subject photos; the training files hold ${images.length}.`,
      { param: fileIds[0]?.param ?? 'training_file', code: 'too_few_images' },
    );
  }
  const seen = new Map<string, number>();
  return images.map((image) => {
    const count = seen.get(image.name) ?? 0;
    seen.set(image.name, count + 1);
    if (count === 0) return image;
    const ext = extname(image.name);
    return { ...image, name: `${image.name.slice(0, image.name.length - ext.length)}-${count}${ext}` };
  });
}

/** Writes the photos into `dir`, replacing whatever was there (re-running validation must not accumulate copies). */
export function writeSubjectImages(images: SubjectImage[], dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const image of images) writeFileSync(join(dir, image.name), image.bytes);
}
