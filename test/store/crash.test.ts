import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { sha256File } from '../../src/util/index.js';

test('a process killed mid-write loses nothing it committed', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'atelier-crash-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'crash-writer.ts'), home], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let committed = -1;
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve());
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const match of buffer.matchAll(/committed (\d+)\n/g)) committed = Number(match[1]);
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
      // Killed while it is in the middle of further writes: nothing waits for a quiet moment.
      if (committed >= 40) child.kill('SIGKILL');
    });
  });
  assert.equal(child.signalCode, 'SIGKILL');

  const store = openStore(home);
  t.after(() => store.close());
  assert.deepEqual(store.db.prepare('PRAGMA integrity_check').get(), { integrity_check: 'ok' });
  for (let i = 0; i <= committed; i += 1) {
    const job = store.jobs.get(`ftjob-${i}`);
    assert.ok(job, `job ${i} was reported committed`);
    assert.deepEqual(job.hyperparameters, { i });
    assert.deepEqual(
      store.events.since(`ftjob-${i}`).map((e) => e.message),
      [`event ${i}`],
    );
    const sha = job.params.blob as string;
    assert.equal(await sha256File(store.blobs.path(sha)), sha);
  }
  // Any later job either committed whole (job + its event) or not at all.
  const extra = store.jobs.list('fine_tuning', { limit: 1000 }).data.filter((j) => Number(j.id.slice(6)) > committed);
  for (const job of extra) assert.equal(store.events.since(job.id).length, 1);
});
