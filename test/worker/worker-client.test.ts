import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  callOnce,
  ensurePythonEnv,
  WorkerCancelledError,
  WorkerClient,
  WorkerClosedError,
  WorkerCrashError,
  WorkerError,
} from '../../src/worker/index.js';

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

describe('WorkerClient on the real worker', () => {
  let python: string;
  let client: WorkerClient;
  before(async () => {
    python = await ensurePythonEnv();
    client = new WorkerClient({ python });
  });
  after(() => client.close());

  it("routes each call's answer by id and keeps one process for many calls", async () => {
    const [ping, bad] = await Promise.allSettled([client.call('ping'), client.call('no_such_command', { x: 1 })]);
    assert.equal(ping.status, 'fulfilled');
    assert.equal(ping.value.data.pong, true);
    assert.equal(typeof (ping.value.data.versions as Record<string, unknown>).torch, 'string');
    assert.equal(bad.status, 'rejected');
    const error = bad.reason as WorkerError;
    assert.ok(error instanceof WorkerError && !(error instanceof WorkerCrashError));
    assert.equal(error.code, 'invalid_request');
    assert.match(error.message, /unknown command 'no_such_command'/);
    await assert.rejects(
      client.call('also_unknown'),
      (e: unknown) => e instanceof WorkerError && e.code === 'invalid_request',
    );
    assert.equal(client.starts, 1, 'a failed call is an answer, not a crash');
    assert.equal(client.inFlight, 0);
  });

  it('fails the calls in flight when the process dies, then starts a fresh one', async () => {
    const pid = client.pid!;
    // Killed first, so the call surely lands in a dying process (a ping sent first may be answered before SIGKILL).
    client.kill();
    const call = client.call('ping');
    await assert.rejects(
      call,
      (e: unknown) =>
        e instanceof WorkerCrashError &&
        e.code === 'worker_crashed' &&
        e.signal === 'SIGKILL' &&
        /the diffusion worker was killed by SIGKILL/.test(e.message),
    );
    const again = await client.call('ping');
    assert.equal(again.data.pong, true);
    assert.equal(client.starts, 2);
    assert.notEqual(client.pid, pid);
  });

  it('rejects an aborted call without sending it', async () => {
    const starts = client.starts;
    await assert.rejects(client.call('ping', {}, { signal: AbortSignal.abort() }), WorkerCancelledError);
    assert.equal(client.starts, starts);
  });

  it('close() lets the process exit and refuses later calls', async () => {
    const pid = client.pid!;
    assert.ok(alive(pid));
    await client.close();
    assert.equal(client.pid, undefined);
    assert.ok(!alive(pid), 'the process is gone once close() resolves');
    await assert.rejects(
      client.call('ping'),
      (e: unknown) => e instanceof WorkerClosedError && e.code === 'worker_closed',
    );
  });
});

describe('WorkerClient start failures', () => {
  it('reports an interpreter that cannot start as a crash of the call', async () => {
    await assert.rejects(
      callOnce('ping', {}, { python: '/nonexistent/python' }),
      (e: unknown) =>
        e instanceof WorkerCrashError &&
        e.exitCode === null &&
        /^could not start the diffusion worker \(\/nonexistent\/python\): .*ENOENT/.test(e.message),
    );
  });

  it('reports a worker that dies at start-up with its exit status and traceback, which also go to onOutput', async () => {
    const python = await ensurePythonEnv();
    const stderr: string[] = [];
    // Without the package on PYTHONPATH, `python -m atelier_diffusion.worker` exits 1 before reading a line.
    const client = new WorkerClient({
      python,
      env: { PYTHONPATH: '/nonexistent' },
      onOutput: (line) => stderr.push(line),
    });
    await assert.rejects(
      client.call('ping'),
      (e: unknown) =>
        e instanceof WorkerCrashError &&
        e.exitCode === 1 &&
        /exited with status 1: .*No module named 'atelier_diffusion'/s.test(e.message) &&
        e.stderrTail.includes('No module named'),
    );
    assert.ok(stderr.some((line) => line.includes("No module named 'atelier_diffusion'")));
    await client.close();
  });
});
