import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { imageKind, readSubjectImages } from '../../src/personalize/index.js';
import { writeSubjectImages } from '../../src/personalize/subject-images.js';
import { defaultZipLimits, extractEntries, unzipEntries, ZipRefusedError } from '../../src/personalize/zip-images.js';
import { ApiError } from '../../src/protocol/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { newId } from '../../src/util/index.js';
import { tempDir } from './fixtures.js';
import { subjectPhoto } from './subject-photos.js';

async function upload(store: Store, filename: string, bytes: Uint8Array, purpose = 'fine-tune'): Promise<string> {
  const blob = await store.blobs.put(bytes);
  const id = newId('file');
  store.files.insert({
    id,
    filename,
    purpose,
    bytes: blob.size,
    sha256: blob.sha256,
    status: 'processed',
    metadata: {},
    createdAt: 0,
  });
  return id;
}

/** The error code and param of what reading `ids` throws. */
async function rejection(store: Store, ids: string[]): Promise<[number, string | null, string | null]> {
  try {
    await readSubjectImages(
      store,
      ids.map((id, i) => ({ id, param: i === 0 ? 'training_file' : `instance_files[${i - 1}]` })),
    );
  } catch (error) {
    assert.ok(error instanceof ApiError, String(error));
    return [error.status, error.code, error.param];
  }
  assert.fail('expected an error');
}

describe('subject images', () => {
  it('sniffs formats from bytes', () => {
    assert.equal(imageKind(subjectPhoto(0)), 'png');
    assert.equal(imageKind(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
    assert.equal(imageKind(Buffer.from('RIFF\0\0\0\0WEBPVP8 ')), 'webp');
    assert.equal(imageKind(Buffer.from('GIF89a')), null);
  });

  it('combines zips and single images, skipping junk entries and making names unique', async (t) => {
    const dir = tempDir(t, 'subject');
    const store = openStore(join(dir, 'home'));
    t.after(() => store.close());
    const zip = zipSync({
      'a/dog.png': subjectPhoto(0),
      'b/dog.png': subjectPhoto(1),
      '__MACOSX/a/._dog.png': new Uint8Array([1]),
      'a/.hidden.png': subjectPhoto(2),
      'a/readme.txt': new TextEncoder().encode('hi'),
    });
    const ids = [await upload(store, 'set.zip', zip), await upload(store, 'dog.png', subjectPhoto(3))];
    const images = await readSubjectImages(
      store,
      ids.map((id) => ({ id, param: 'training_file' })),
    );
    assert.deepEqual(
      images.map((i) => i.name),
      ['dog.png', 'dog-1.png', 'dog-2.png'],
    );
    await writeSubjectImages(images, join(dir, 'instance'));
    assert.deepEqual(readdirSync(join(dir, 'instance')).sort(), ['dog-1.png', 'dog-2.png', 'dog.png']);

    const text = await upload(store, 'notes.txt', new TextEncoder().encode('not a photo'));
    assert.deepEqual(await rejection(store, [ids[0]!, text]), [400, 'invalid_file', 'instance_files[0]']);
    const vision = await upload(store, 'v.png', subjectPhoto(4), 'vision');
    assert.deepEqual(await rejection(store, [vision]), [400, 'invalid_file_purpose', 'training_file']);
    assert.deepEqual(await rejection(store, ['file-nope']), [404, 'file_not_found', 'training_file']);
    assert.deepEqual(await rejection(store, [ids[1]!]), [400, 'too_few_images', 'training_file']);
    const broken = await upload(store, 'broken.zip', zip.subarray(0, 40));
    assert.deepEqual(await rejection(store, [broken]), [400, 'invalid_file', 'training_file']);
  });

  it('counts what entries really inflate to, not what their headers declare, and caps entries and totals', async (t) => {
    const dir = tempDir(t, 'zip-limits');
    const write = (name: string, bytes: Uint8Array): string => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    };
    const limits = { ...defaultZipLimits, entryBytes: 1 << 20, totalBytes: 3 << 20, entries: 20 };
    const refused = async (path: string, why: RegExp): Promise<void> => {
      await assert.rejects(
        unzipEntries(path, ['.png'], limits),
        (e: unknown) => e instanceof ZipRefusedError && e.limit && why.test(e.message),
      );
    };
    // A 4 MiB entry whose local and central headers both claim 100 bytes.
    const bomb = zipSync({ 'x.png': new Uint8Array(4 << 20) }, { level: 9 });
    lieAboutSize(bomb, 100);
    await refused(write('bomb.zip', bomb), /x\.png.*more than 1048576 bytes/);
    const four = Object.fromEntries(
      Array.from({ length: 4 }, (_, i) => [`p${i}.png`, new Uint8Array(900_000).fill(i)]),
    );
    await refused(write('total.zip', zipSync(four)), /more than 3145728 bytes/);
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`n${i}.txt`, new Uint8Array(1)]));
    await refused(write('many.zip', zipSync(many)), /more than 20 entries/);
    const fine = await unzipEntries(
      write('fine.zip', zipSync({ 'a/b.png': subjectPhoto(0), 'c.txt': new Uint8Array(3) })),
      ['.png'],
      limits,
    );
    assert.deepEqual(
      fine.map((e) => [e.name, e.bytes.length]),
      [['a/b.png', subjectPhoto(0).length]],
    );
  });

  it('extracts entries to files and answers paths and sizes; a refused zip leaves no descriptor open', async (t) => {
    const dir = tempDir(t, 'zip-files');
    const out = join(dir, 'out');
    mkdirSync(out);
    writeFileSync(
      join(dir, 'two.zip'),
      zipSync({ 'a.png': subjectPhoto(0), 'skip.txt': new Uint8Array(3), 'b/c.png': subjectPhoto(1) }),
    );
    const entries = await extractEntries(join(dir, 'two.zip'), ['.png'], out);
    assert.deepEqual(entries, [
      { name: 'a.png', path: join(out, '0'), size: subjectPhoto(0).length },
      { name: 'b/c.png', path: join(out, '1'), size: subjectPhoto(1).length },
    ]);
    assert.deepEqual(readFileSync(join(out, '1')), Buffer.from(subjectPhoto(1)));
    // Worker threads share the process's descriptors: an entry cut at its limit must still be closed.
    const fds = readdirSync('/proc/self/fd').length;
    writeFileSync(join(dir, 'big.zip'), zipSync({ 'x.png': new Uint8Array(2 << 20) }));
    const limits = { ...defaultZipLimits, entryBytes: 1 << 20 };
    await assert.rejects(extractEntries(join(dir, 'big.zip'), ['.png'], join(dir, 'out'), limits), ZipRefusedError);
    assert.equal(readdirSync('/proc/self/fd').length, fds);
  });
});

/** Rewrites every uncompressed-size field of a one-entry zip (local header and central directory) to `size`. */
function lieAboutSize(zip: Uint8Array, size: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  view.setUint32(22, size, true);
  for (let at = 0; at + 4 <= zip.length; at++) {
    if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, size, true);
  }
}
