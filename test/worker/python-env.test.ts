import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PythonEnv, WorkerClient } from '../../src/worker/index.js';
import { linkedRequirements } from './linked-env.js';

describe('PythonEnv installs a real environment', () => {
  let dir: string;
  let requirements: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-pyenv-'));
    requirements = await linkedRequirements(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the venv once, with progress lines, and the worker runs in it', async () => {
    const env = new PythonEnv({ cacheDir: join(dir, 'cache'), requirements });
    assert.equal(env.isReady(), false);
    const lines: string[] = [];
    // Two callers at once (a server start and a CLI verb, say) share one install.
    const [a, b] = await Promise.all([env.ensure((line) => lines.push(line)), env.ensure((line) => lines.push(line))]);
    assert.equal(a, env.python);
    assert.equal(b, env.python);
    assert.ok(env.isReady());
    assert.equal(lines.filter((l) => /^python env: installing/.test(l)).length, 1);
    assert.ok(lines.includes('python env: [1/1] atelier_link-0.0.0-py3-none-any.whl'), lines.join('\n'));
    assert.equal(lines.at(-1), 'python env: ready');
    assert.deepEqual(readdirSync(join(dir, 'cache')), [env.dir.split('/').at(-1)], 'no staging folder left');
    const client = new WorkerClient({ python: env.python });
    const pong = await client.call('ping');
    await client.close();
    assert.equal(pong.data.pong, true);
    lines.length = 0;
    assert.equal(await env.ensure((line) => lines.push(line)), env.python);
    assert.deepEqual(lines, [], 'a ready env is not reinstalled');
  });

  it("a failed install rejects with pip's reason and leaves nothing that looks ready", async () => {
    const broken = join(dir, 'broken.txt');
    writeFileSync(broken, `${join(dir, 'no-such-package-0.0.0-py3-none-any.whl')}\n`);
    const env = new PythonEnv({ cacheDir: join(dir, 'broken-cache'), requirements: broken });
    await assert.rejects(
      env.ensure(() => undefined),
      /pip install .* failed \(exit 1\):[\s\S]*no-such-package/,
    );
    assert.equal(env.isReady(), false);
    assert.deepEqual(readdirSync(join(dir, 'broken-cache')), []);
  });

  it('an aborted install stops and cleans up', async () => {
    const env = new PythonEnv({ cacheDir: join(dir, 'aborted-cache'), requirements });
    const controller = new AbortController();
    const install = env.ensure((line) => {
      if (/installing/.test(line)) controller.abort();
    }, controller.signal);
    await assert.rejects(install, /abort/i);
    assert.equal(env.isReady(), false);
    assert.ok(!existsSync(env.dir));
    assert.deepEqual(readdirSync(join(dir, 'aborted-cache')), []);
  });
});
