import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { imageKind, readSubjectImages } from '../../src/personalize/index.js';
import { writeSubjectImages } from '../../src/personalize/subject-images.js';
import { ApiError } from '../../src/protocol/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { newId } from '../../src/util/index.js';
import { tempDir } from './fixtures.js';
import { subjectPhoto } from './subject-photos.js';

async function upload(store: Store, filename: string, bytes: Uint8Array, purpose = 'fine-tune'): Promise<string> {
  const blob = await store.blobs.put(bytes);
  const id = newId('file');
  store.files.insert({ id, filename, purpose, bytes: blob.size, sha256: blob.sha256, status: 'processed', metadata: {}, createdAt: 0 });
  return id;
}

/** The error code and param of what reading `ids` throws. */
function rejection(store: Store, ids: string[]): [number, string | null, string | null] {
  try {
    readSubjectImages(store, ids.map((id, i) => ({ id, param: i === 0 ? 'training_file' : `instance_files[${i - 1}]` })));
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
    const images = readSubjectImages(store, ids.map((id) => ({ id, param: 'training_file' })));
    assert.deepEqual(images.map((i) => i.name), ['dog.png', 'dog-1.png', 'dog-2.png']);
    writeSubjectImages(images, join(dir, 'instance'));
    assert.deepEqual(readdirSync(join(dir, 'instance')).sort(), ['dog-1.png', 'dog-2.png', 'dog.png']);

    const text = await upload(store, 'notes.txt', new TextEncoder().encode('not a photo'));
    assert.deepEqual(rejection(store, [ids[0]!, text]), [400, 'invalid_file', 'instance_files[0]']);
    const vision = await upload(store, 'v.png', subjectPhoto(4), 'vision');
    assert.deepEqual(rejection(store, [vision]), [400, 'invalid_file_purpose', 'training_file']);
    assert.deepEqual(rejection(store, ['file-nope']), [404, 'file_not_found', 'training_file']);
    assert.deepEqual(rejection(store, [ids[1]!]), [400, 'too_few_images', 'training_file']);
    const broken = await upload(store, 'broken.zip', zip.subarray(0, 40));
    assert.deepEqual(rejection(store, [broken]), [400, 'invalid_file', 'training_file']);
  });
});
