import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { InvalidRequestError, NotFoundError } from '../protocol/index.js';
import type { Store } from '../store/index.js';
import { checkPhotoSizes } from './photo-limits.js';
import { extractEntries, withTempDir, ZipRefusedError } from './zip-images.js';

/** One subject photo: a safe file name (unique within the job) and its bytes. */
export interface SubjectImage {
  name: string;
  bytes: Uint8Array;
}

/** Image formats the worker can read. */
export type ImageKind = 'png' | 'jpeg' | 'webp';

/** Fewest subject photos DreamBooth is run with (the paper uses 3–5). */
export const minSubjectImages = 3;
const imageExtensions = ['.png', '.jpg', '.jpeg', '.webp'];

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

/** A file name safe to write in a job folder: its base name, odd characters as `_`, no leading dots. */
export function safeName(raw: string): string {
  const base = basename(raw)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^\.+/, '');
  return base === '' ? 'image' : base;
}

/** A photo found in the training files: its safe name, and the file holding its bytes (a blob or an extracted entry). */
interface PhotoFile {
  name: string;
  path: string;
}

async function unzipImages(path: string, outDir: string, fileId: string, param: string): Promise<PhotoFile[]> {
  let files: { name: string; path: string }[];
  try {
    await mkdir(outDir);
    files = await extractEntries(path, imageExtensions, outDir);
  } catch (error) {
    if (!(error instanceof ZipRefusedError)) throw error;
    const message = error.limit
      ? `Zip file ${fileId} ${error.message}.`
      : `File ${fileId} is not a readable zip: ${error.message}`;
    throw new InvalidRequestError(message, { param, code: 'invalid_file' });
  }
  return files
    .sort((a, b) => a.name.localeCompare(b.name))
    .map(({ name, path: file }) => ({ name: safeName(name), path: file }));
}

/** The first bytes of a file: enough to tell a zip from an image without reading it whole. */
async function fileHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const head = new Uint8Array(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads the subject photos of a job: each file id must be an uploaded `fine-tune` file holding one image (PNG, JPEG
 * or WebP) or a zip of them. Names are made unique. Throws OpenAI-shaped errors naming the parameter (`param`):
 * 404 for an unknown id, 400 for a wrong purpose, a file that is neither, a photo whose header is unreadable or too
 * large, or fewer than `minSubjectImages` photos. Deeper checks (corrupt pixels, tiny or duplicate photos) are the
 * worker's, before any compute.
 *
 * Zips are extracted to files on a worker thread and every check reads only headers from disk, so the bytes of
 * refused files never reach this thread; only the accepted photos are read (asynchronously) into memory.
 */
export async function readSubjectImages(
  store: Store,
  fileIds: { id: string; param: string }[],
): Promise<SubjectImage[]> {
  return withTempDir(async (dir) => {
    const photos = await findPhotos(store, fileIds, dir);
    if (photos.length < minSubjectImages) {
      throw new InvalidRequestError(
        `DreamBooth needs at least ${minSubjectImages} subject photos; the training files hold ${photos.length}.`,
        { param: fileIds[0]?.param ?? 'training_file', code: 'too_few_images' },
      );
    }
    const seen = new Map<string, number>();
    return Promise.all(
      photos.map(async ({ name, path }) => {
        const count = seen.get(name) ?? 0;
        seen.set(name, count + 1);
        const ext = extname(name);
        const unique = count === 0 ? name : `${name.slice(0, name.length - ext.length)}-${count}${ext}`;
        return { name: unique, bytes: await readFile(path) };
      }),
    );
  });
}

/** The photo files of the training files, zips extracted under `dir`, each file's headers checked. */
async function findPhotos(store: Store, fileIds: { id: string; param: string }[], dir: string): Promise<PhotoFile[]> {
  const photos: PhotoFile[] = [];
  for (const [index, { id, param }] of fileIds.entries()) {
    const file = store.files.get(id);
    if (!file) throw new NotFoundError(`No such File object: ${id}`, { param, code: 'file_not_found' });
    if (file.purpose !== 'fine-tune') {
      throw new InvalidRequestError(`File ${id} has purpose '${file.purpose}'; training files need 'fine-tune'.`, {
        param,
        code: 'invalid_file_purpose',
      });
    }
    const path = store.blobs.path(file.sha256);
    const head = await fileHead(path);
    let found: PhotoFile[];
    if (isZip(head)) found = await unzipImages(path, join(dir, String(index)), id, param);
    else if (imageKind(head)) found = [{ name: safeName(file.filename), path }];
    else {
      throw new InvalidRequestError(
        `File ${id} (${file.filename}) is neither a PNG/JPEG/WebP image nor a zip of them.`,
        {
          param,
          code: 'invalid_file',
        },
      );
    }
    await checkPhotoSizes(found, id, param);
    photos.push(...found);
  }
  return photos;
}

/** Writes the photos into `dir`, replacing whatever was there (re-running validation must not accumulate copies). */
export async function writeSubjectImages(images: SubjectImage[], dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const image of images) await writeFile(join(dir, image.name), image.bytes);
}
