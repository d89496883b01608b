import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/store/index.js';
import { blobFiles, errorOf, multipart, raw, startHostile } from './harness.js';

const photo = Buffer.from('a subject photo, honest bytes');

test('an upload rejected after its file part leaves no blob behind', async (t) => {
  const { port, home } = await startHostile(t);
  const post = (parts: Parameters<typeof multipart>[0]) => {
    const form = multipart(parts);
    return raw(port, 'POST', '/v1/files', { 'content-type': form.type }, form.body);
  };
  const cases: [string, Parameters<typeof multipart>[0], number][] = [
    [
      'purpose after the file, invalid',
      [
        { file: 'p0.png', bytes: photo },
        { field: 'purpose', value: 'nope' },
      ],
      400,
    ],
    ['no purpose at all', [{ file: 'p0.png', bytes: photo }], 400],
    [
      'a second file part',
      [
        { file: 'p0.png', bytes: photo },
        { file: 'p1.png', bytes: photo, field: 'other' },
        { field: 'purpose', value: 'fine-tune' },
      ],
      400,
    ],
    [
      'too many fields after the file',
      [{ file: 'p0.png', bytes: photo }, ...Array.from({ length: 12 }, (_, i) => ({ field: `f${i}`, value: 'x' }))],
      400,
    ],
    [
      'over the size limit',
      [
        { field: 'purpose', value: 'fine-tune' },
        { file: 'big.bin', bytes: Buffer.alloc(100 * 1024, 1) },
      ],
      413,
    ],
  ];
  for (const [name, parts, status] of cases) {
    const response = await post(parts);
    assert.equal(response.status, status, `${name}: ${response.body}`);
    errorOf(response.body);
    assert.deepEqual(blobFiles(home), [], name);
  }
  // A failed upload of bytes a stored file already has must not take that file's blob with it.
  const kept = await post([
    { field: 'purpose', value: 'fine-tune' },
    { file: 'p0.png', bytes: photo },
  ]);
  assert.equal(kept.status, 200);
  assert.equal(
    (
      await post([
        { file: 'again.png', bytes: photo },
        { field: 'purpose', value: 'nope' },
      ])
    ).status,
    400,
  );
  const { id } = JSON.parse(kept.body) as { id: string };
  const content = await raw(port, 'GET', `/v1/files/${id}/content`);
  assert.equal(content.body, photo.toString());
});

test('deleting a file while an upload of the same bytes is between its blob and its row keeps the blob', async (t) => {
  const { port, store } = await startHostile(t);
  const first = multipart([
    { field: 'purpose', value: 'fine-tune' },
    { file: 'a.png', bytes: photo },
  ]);
  const a = JSON.parse((await raw(port, 'POST', '/v1/files', { 'content-type': first.type }, first.body)).body) as {
    id: string;
  };
  // Upload B: the file part first, its purpose only after A is deleted.
  const second = multipart([
    { file: 'b.png', bytes: photo },
    { field: 'purpose', value: 'fine-tune' },
  ]);
  const split = second.body.indexOf('Content-Disposition: form-data; name="purpose"');
  const answer = new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/files',
        headers: { 'content-type': second.type, 'content-length': second.body.length },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      },
    );
    req.on('error', reject);
    req.write(second.body.subarray(0, split));
    void (async () => {
      // B's bytes are stored once its temp file replaced the blob (same content, new inode).
      const blob = store.blobs.path(store.files.get(a.id)!.sha256);
      const before = statSync(blob).ino;
      while (statSync(blob).ino === before) await sleep(20);
      assert.equal((await raw(port, 'DELETE', `/v1/files/${a.id}`)).status, 200);
      req.end(second.body.subarray(split));
    })().catch(reject);
  });
  const b = JSON.parse(await answer) as { id: string };
  assert.equal((await raw(port, 'GET', `/v1/files/${b.id}/content`)).body, photo.toString());
});

/** Starts the child server over `home`; resolves with its port and the child. */
async function startChild(home: string): Promise<{ port: number; child: ReturnType<typeof spawn> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'upload-server.ts'), home], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`upload server exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /listening (\d+)\n/.exec(text);
      if (match) resolve(Number(match[1]));
    });
  });
  return { port, child };
}

test('a partial upload killed by SIGKILL leaves a temp file that the next start sweeps; unreferenced old blobs go too', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'atelier-debris-'));
  const { port, child } = await startChild(home);
  const form = multipart([
    { field: 'purpose', value: 'fine-tune' },
    { file: 'p0.png', bytes: Buffer.alloc(4 << 20, 7) },
  ]);
  const upload = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/files',
    headers: { 'content-type': form.type, 'content-length': form.body.length },
  });
  upload.on('error', () => undefined);
  upload.write(form.body.subarray(0, 1 << 20));
  const tempDir = join(home, 'tmp', 'blobs');
  while (!readdirSync(tempDir).some((name) => statSync(join(tempDir, name)).size > 0)) await sleep(50);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  upload.destroy();
  assert.equal(child.signalCode, 'SIGKILL');
  assert.equal(readdirSync(tempDir).length, 1, 'the killed write left its temp file');

  // Blobs from before: one a file row references, one nothing references (old), one nothing references yet (fresh).
  const store = openStore(home);
  const referenced = await store.blobs.put('referenced bytes');
  store.files.insert({
    id: 'file-kept',
    filename: 'kept.png',
    purpose: 'fine-tune',
    bytes: referenced.size,
    sha256: referenced.sha256,
    status: 'processed',
    metadata: {},
    createdAt: 1,
  });
  const orphan = await store.blobs.put('orphan bytes');
  const fresh = await store.blobs.put('fresh bytes, row on its way');
  store.close();
  const hoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
  for (const sha of [referenced.sha256, orphan.sha256]) {
    utimesSync(join(home, 'blobs', 'sha256', sha.slice(0, 2), sha), hoursAgo, hoursAgo);
  }
  // A live writer's temp file (this process) stays, however young.
  mkdirSync(tempDir, { recursive: true });
  writeFileSync(join(tempDir, `${process.pid}-blob_live`), 'being written');

  await startHostile(t, {}, [], home);
  assert.deepEqual(readdirSync(tempDir), [`${process.pid}-blob_live`]);
  const left = blobFiles(home)
    .filter((path) => path.startsWith('blobs'))
    .map((path) => path.slice(-64))
    .sort();
  assert.deepEqual(left, [referenced.sha256, fresh.sha256].sort());
});
