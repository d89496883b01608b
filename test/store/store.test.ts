import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, migrations, openStore } from '../../src/store/index.js';
import { sha256 } from '../../src/util/index.js';

function tempHome(t: { after: (fn: () => void) => void }): string {
  const home = mkdtempSync(join(tmpdir(), 'atelier-store-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

test('migrations are idempotent and recorded once per version', (t) => {
  const home = tempHome(t);
  openStore(home).close();
  const store = openStore(home);
  const versions = store.db.prepare('SELECT version FROM schema_version ORDER BY version').all();
  assert.deepEqual(versions, migrations.map((m) => ({ version: m.version })));
  assert.equal(migrate(store.db), migrations.length);
  assert.equal((store.db.pragma('journal_mode', { simple: true }) as string).toLowerCase(), 'wal');
  store.close();
});

test('a database newer than the code is refused with a clear message', (t) => {
  const home = tempHome(t);
  openStore(home).close();
  const db = new Database(join(home, 'atelier.db'));
  db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
  db.close();
  assert.throws(() => openStore(home), /schema version 99 is newer than this atelier/);
});

test('a failing migration leaves the previous version intact', (t) => {
  const home = tempHome(t);
  const db = new Database(join(home, 'x.db'));
  t.after(() => db.close());
  const broken = [...migrations, { version: migrations.length + 1, name: 'broken', sql: 'CREATE TABLE t (a); SELEC' }];
  assert.throws(() => migrate(db, broken));
  const v = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number };
  assert.equal(v.v, migrations.length);
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get(), undefined);
});

test('models round-trip and upsert by name', (t) => {
  const store = openStore(tempHome(t));
  t.after(() => store.close());
  const base = { name: 'org/m', format: 'gguf' as const, path: '/x/m.gguf', size: 10, source: 'hf:org/m',
    revision: 'abc', metadata: { files: ['m.gguf'] }, createdAt: 1 };
  store.models.put(base);
  store.models.put({ ...base, size: 20 });
  assert.deepEqual(store.models.list(), [{ ...base, size: 20 }]);
  assert.equal(store.models.delete('org/m'), true);
  assert.equal(store.models.get('org/m'), undefined);
});

test('jobs and events paginate newest first by cursor and cascade on delete', (t) => {
  const store = openStore(tempHome(t));
  t.after(() => store.close());
  for (const id of ['ftjob-a', 'ftjob-b', 'ftjob-c']) {
    store.jobs.create({ id, kind: 'fine_tuning', model: 'base', hyperparameters: { n_epochs: 2 }, params: {} });
  }
  const first = store.jobs.list('fine_tuning', { limit: 2 });
  assert.deepEqual(first.data.map((j) => j.id), ['ftjob-c', 'ftjob-b']);
  assert.equal(first.hasMore, true);
  const second = store.jobs.list('fine_tuning', { limit: 2, after: 'ftjob-b' });
  assert.deepEqual(second.data.map((j) => j.id), ['ftjob-a']);
  assert.equal(second.hasMore, false);

  const job = store.jobs.update('ftjob-a', { status: 'failed', error: { code: 'x', message: 'boom', param: null } });
  assert.equal(job.status, 'failed');
  assert.deepEqual(job.error, { code: 'x', message: 'boom', param: null });
  assert.deepEqual(job.hyperparameters, { n_epochs: 2 });
  assert.throws(() => store.jobs.update('ftjob-missing', { status: 'running' }), /no job ftjob-missing/);

  const events = [1, 2, 3, 4, 5].map((i) => store.events.append({ jobId: 'ftjob-a', level: 'info', message: `e${i}` }));
  assert.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq));
  const page = store.events.list('ftjob-a', { limit: 2, after: events[3]!.id });
  assert.deepEqual(page.data.map((e) => e.message), ['e3', 'e2']);
  assert.equal(page.hasMore, true);
  assert.deepEqual(store.events.since('ftjob-a', events[2]!.seq).map((e) => e.message), ['e4', 'e5']);
  assert.throws(() => store.events.append({ jobId: 'ftjob-nope', level: 'info', message: 'x' }), /FOREIGN KEY/);

  store.checkpoints.add({ jobId: 'ftjob-a', step: 10, path: '/c/10', metrics: { loss: 0.5 } });
  store.db.prepare('DELETE FROM jobs WHERE id = ?').run('ftjob-a');
  assert.deepEqual(store.events.since('ftjob-a'), []);
  assert.deepEqual(store.checkpoints.list('ftjob-a'), []);
});

test('a transaction that throws commits nothing', (t) => {
  const store = openStore(tempHome(t));
  t.after(() => store.close());
  assert.throws(() =>
    store.transaction(() => {
      store.jobs.create({ id: 'ftjob-x', kind: 'fine_tuning', model: 'm', hyperparameters: {}, params: {} });
      throw new Error('abort');
    }),
  );
  assert.equal(store.jobs.get('ftjob-x'), undefined);
});

test('blobs are content-addressed, deduplicated and size-limited', async (t) => {
  const store = openStore(tempHome(t));
  t.after(() => store.close());
  const a = await store.blobs.put('hello');
  const b = await store.blobs.put(Buffer.from('hello'));
  assert.deepEqual(a, { sha256: sha256('hello'), size: 5 });
  assert.deepEqual(b, a);
  assert.equal(readFileSync(store.blobs.path(a.sha256), 'utf8'), 'hello');
  async function* twoChunks(): AsyncGenerator<Buffer> {
    yield Buffer.alloc(64, 1);
    yield Buffer.alloc(64, 1);
  }
  await assert.rejects(store.blobs.putStream(twoChunks(), 100), /exceeds the limit of 100 bytes/);
  assert.equal(store.blobs.has(sha256(Buffer.alloc(128, 1))), false);
  assert.throws(() => store.blobs.path('../etc/passwd'), /not a sha256 digest/);
});
