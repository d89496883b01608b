/**
 * The fleet queue on a real PostgreSQL with real node processes (queue-node.ts): jobs enqueued with the rows that
 * record them, claimed once each across nodes by capability, re-queued and resumed after a node is SIGKILLed, and
 * cancelled from another node.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobQueue, openStore, PostgresDatabase, type Store } from '../../src/store/index.js';
import { startPostgres, type TestPostgres } from './postgres-server.js';

let postgres: TestPostgres;
let url: string;
let store: Store;
let api: JobQueue;
const homes: string[] = [];

function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-node-'));
  homes.push(dir);
  return dir;
}

before(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase();
  store = openStore(home(), { databaseUrl: url });
  api = await JobQueue.start({
    store,
    databaseUrl: url,
    role: 'api',
    capabilities: [],
    queues: ['test', 'gpu'],
    heartbeatMs: 300,
  });
});
after(async () => {
  await api.close();
  store.close();
  await postgres.stop();
  for (const dir of homes) rmSync(dir, { recursive: true, force: true });
});

/** Starts a node process that claims from `capabilities`; stopped (SIGTERM) when the test ends. */
async function node(t: TestContext, label: string, capabilities = 'test'): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'queue-node.ts'), url, home(), label, capabilities],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`node ${label} exited with ${code}`)));
  });
  return child;
}

/** Records jobs and enqueues them in one transaction. */
function submit(jobs: { id: string; steps: number; stepMs: number }[]): Map<string, string> {
  const queued = new Map<string, string>();
  store.transaction(() => {
    for (const job of jobs) {
      store.jobs.create({ id: job.id, kind: 'queue_test', model: 'm', hyperparameters: {}, params: {} });
      queued.set(job.id, api.enqueue('test', { jobId: job.id, steps: job.steps, stepMs: job.stepMs }));
    }
  });
  return queued;
}

const messages = (jobId: string): string[] => store.events.since(jobId).map((e) => e.message);

async function until(what: string, check: () => boolean, ms = 90_000): Promise<void> {
  for (const start = Date.now(); !check(); await sleep(100)) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
  }
}

function queueState(queueJobId: string): string | undefined {
  const db = store.db as PostgresDatabase;
  return db.rawQuery('SELECT state FROM pgboss.job WHERE id = $1', [queueJobId])[0]?.state as string | undefined;
}

test('a job enqueued in a transaction that rolls back never reaches the queue', () => {
  let queueJobId = '';
  assert.throws(
    () =>
      store.transaction(() => {
        queueJobId = submit([{ id: 'ftjob-rolled-back', steps: 1, stepMs: 1 }]).get('ftjob-rolled-back')!;
        throw new Error('abort');
      }),
    /abort/,
  );
  assert.equal(store.jobs.get('ftjob-rolled-back'), undefined);
  assert.equal(queueState(queueJobId), undefined);
  assert.throws(() => api.enqueue('no-such-queue', {}), /no job queue named 'no-such-queue'/);
});

test('20 jobs across two worker nodes each run exactly once; a node without the capability claims none', async (t) => {
  await Promise.all([node(t, 'A'), node(t, 'B'), node(t, 'C', 'gpu')]);
  const ids = Array.from({ length: 20 }, (_, i) => `ftjob-many-${i}`);
  const queued = submit(ids.map((id) => ({ id, steps: 1, stepMs: 150 })));
  await until('20 jobs done', () => ids.every((id) => messages(id).some((m) => m.startsWith('done'))));
  await until('queue settled', () => [...queued.values()].every((q) => queueState(q) === 'completed'));
  const ranOn = ids.map((id) => {
    const done = messages(id).filter((m) => m.startsWith('done on'));
    assert.equal(done.length, 1, `${id}: ${messages(id).join(' | ')}`);
    assert.deepEqual(messages(id).filter((m) => m.startsWith('step')).length, 1);
    return done[0]!.slice('done on '.length);
  });
  assert.deepEqual(new Set(ranOn), new Set(['A', 'B']));
  const fleet = api.snapshot();
  assert.ok(fleet.nodes.filter((n) => n.role === 'worker').length >= 3);
  assert.ok(fleet.nodes.find((n) => n.capabilities.includes('gpu')));
});

test('a node SIGKILLed mid-job loses it to another node, which resumes after the last recorded step', async (t) => {
  const nodes = { A: await node(t, 'A'), B: await node(t, 'B') };
  const queued = submit([{ id: 'ftjob-resume', steps: 12, stepMs: 250 }]);
  const steps = (): { step: number; node: string }[] =>
    store.events
      .since('ftjob-resume')
      .filter((e) => e.type === 'metrics')
      .map((e) => e.data as { step: number; node: string });
  await until('three steps', () => steps().length >= 3);
  const victim = steps()[0]!.node as 'A' | 'B';
  const survivor = victim === 'A' ? 'B' : 'A';
  nodes[victim].kill('SIGKILL');
  await until('the job done', () => messages('ftjob-resume').some((m) => m.startsWith('done')));
  assert.deepEqual(
    steps().map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
  assert.equal(steps().at(-1)!.node, survivor);
  assert.deepEqual(
    messages('ftjob-resume').filter((m) => m.startsWith('done')),
    [`done on ${survivor}`],
  );
  await until('queue completed', () => queueState(queued.get('ftjob-resume')!) === 'completed');
});

test('a cancel from the API node stops the job on the node running it', async (t) => {
  await Promise.all([node(t, 'A'), node(t, 'B')]);
  const queued = submit([{ id: 'ftjob-cancel', steps: 200, stepMs: 100 }]);
  const queueJobId = queued.get('ftjob-cancel')!;
  await until('two steps', () => messages('ftjob-cancel').filter((m) => m.startsWith('step')).length >= 2);
  const runner = api.snapshot().runs.find((r) => r.queueJobId === queueJobId)!.node;
  assert.ok(runner.startsWith('node-'));
  await api.cancel('test', queueJobId);
  await until('the worker stopped', () => messages('ftjob-cancel').some((m) => m.startsWith('stopped on')));
  const stepsAtStop = messages('ftjob-cancel').filter((m) => m.startsWith('step')).length;
  await sleep(600);
  assert.equal(messages('ftjob-cancel').filter((m) => m.startsWith('step')).length, stepsAtStop);
  assert.equal(queueState(queueJobId), 'cancelled');
  assert.deepEqual(api.snapshot().runs, []);
});
