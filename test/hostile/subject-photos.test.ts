/**
 * DreamBooth subject photos are measured from their header when the job is created: a photo declaring 1×60,000,000
 * pixels — alone or inside a zip — is a 400 naming the file and the photo, and the Python worker never sees it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { zipSync } from 'fflate';
import { readSubjectImages } from '../../src/personalize/index.js';
import { ApiError } from '../../src/protocol/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { newId } from '../../src/util/index.js';
import { tempDir } from '../personalize/fixtures.js';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { truncatedPng } from './png-bombs.js';

async function upload(store: Store, filename: string, bytes: Uint8Array): Promise<string> {
  const blob = await store.blobs.put(bytes);
  const id = newId('file');
  store.files.insert({
    id,
    filename,
    purpose: 'fine-tune',
    bytes: blob.size,
    sha256: blob.sha256,
    status: 'processed',
    metadata: {},
    createdAt: 0,
  });
  return id;
}

describe('subject photo limits', () => {
  it('refuses a pixel bomb from its header, alone or zipped; honest photos pass', async (t) => {
    const store = openStore(join(tempDir(t, 'hostile-photos'), 'home'));
    t.after(() => store.close());
    const bomb = await truncatedPng(1, 60_000_000);
    const good = await upload(
      store,
      'photos.zip',
      zipSync({ 'a.png': subjectPhoto(0), 'b.png': subjectPhoto(1), 'c.png': subjectPhoto(2) }),
    );
    assert.equal((await readSubjectImages(store, [{ id: good, param: 'training_file' }])).length, 3);
    const single = await upload(store, 'tall.png', bomb);
    const zipped = await upload(store, 'more.zip', zipSync({ 'ok.png': subjectPhoto(3), 'tall.png': bomb }));
    for (const [id, param, photo] of [
      [single, 'instance_files[0]', 'tall.png'],
      [zipped, 'instance_files[0]', 'tall.png'],
    ] as const) {
      const error = await readSubjectImages(store, [
        { id: good, param: 'training_file' },
        { id, param },
      ]).catch((e: unknown) => e);
      assert.ok(error instanceof ApiError, String(error));
      assert.equal(error.status, 400);
      assert.equal(error.param, param);
      assert.equal(error.code, 'invalid_file');
      assert.match(error.message, new RegExp(`File ${id}: photo ${photo}: image is 1x60000000, over 16384 px a side`));
    }
  });
});
