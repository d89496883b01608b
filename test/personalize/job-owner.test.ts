import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { ModelRegistry } from '../../src/models/index.js';
import { FineTuneRunner, fineTuningKind, jobPaths } from '../../src/personalize/index.js';
import { ensurePythonEnv, workerEnv } from '../../src/worker/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempDir } from './fixtures.js';

/** A job row left `running` by a process that is gone, owned as `owner.json` says. */
function strandedJob(store: Store, id: string, owner: { runnerPid: number; workerPid: number | null }): string {
  store.jobs.create({
    id,
    kind: fineTuningKind,
    model: 'base-that-was-removed',
    status: 'running',
    hyperparameters: {},
    params: {
      trainingFile: 'file-x',
      instanceFiles: [],
      seed: 1,
      suffix: null,
      metadata: null,
      config: null,
      fileConfig: null,
    },
  });
  const root = jobPaths(store, id).root;
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'owner.json'), JSON.stringify(owner));
  return root;
}

describe('resuming running jobs at start-up', () => {
  it('leaves a job to a live owner, and stops the orphaned worker of a dead one before resuming', async (t) => {
    const dir = tempDir(t, 'owner');
    const store = openStore(join(dir, 'home'));
    t.after(() => store.close());
    const liveOwner = spawn('sleep', ['60']);
    t.after(() => liveOwner.kill());
    const deadPid = spawnSync('true').pid;
    const orphan = spawn(await ensurePythonEnv(), ['-m', 'atelier_diffusion.worker'], {
      env: workerEnv(),
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const orphanExit = once(orphan, 'exit');
    strandedJob(store, 'ftjob-owned', { runnerPid: liveOwner.pid!, workerPid: null });
    strandedJob(store, 'ftjob-orphaned', { runnerPid: deadPid, workerPid: orphan.pid! });
    // Wait until the orphan has exec'd Python (before that its command line is still node's).
    while (!readFileSync(`/proc/${orphan.pid}/cmdline`, 'utf8').includes('atelier_diffusion.worker')) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const runner = new FineTuneRunner({ store, installer: new ModelRegistry(store) });
    await runner.start();
    const [code, signal] = await orphanExit;
    assert.ok(code !== null || signal !== null, 'the orphaned worker was stopped');
    const resumed = await runner.wait('ftjob-orphaned');
    await runner.close();
    assert.equal(resumed.status, 'failed');
    assert.equal(resumed.error?.code, 'model_not_found');
    assert.equal(store.jobs.get('ftjob-owned')?.status, 'running');
    assert.deepEqual(store.events.list('ftjob-owned').data, []);
  });
});
