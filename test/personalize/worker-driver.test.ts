import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeWorkerFailure, ensurePythonEnv, WorkerProcess, workerFailure, type WorkerEvent } from '../../src/personalize/index.js';

describe('WorkerProcess', () => {
  it('answers a command with typed events and exits when stdin closes', async () => {
    const python = ensurePythonEnv();
    const events: WorkerEvent[] = [];
    const worker = WorkerProcess.start({ cmd: 'no_such_command', id: 'r1' }, { python, onEvent: (e) => events.push(e) });
    const exit = await worker.exited;
    assert.equal(exit.code, 1);
    assert.equal(exit.cancelled, false);
    assert.deepEqual(events.map((e) => e.type), ['error']);
    assert.equal(exit.error?.code, 'invalid_request');
    assert.equal(exit.error?.data.id, 'r1');
    assert.match(describeWorkerFailure(exit), /unknown command 'no_such_command'/);
    assert.equal(workerFailure(exit).code, 'invalid_request');
  });

  it('reports an interpreter that cannot start instead of throwing', async () => {
    const exit = await WorkerProcess.start({ cmd: 'ping' }, { python: '/nonexistent/python' }).exited;
    assert.equal(exit.spawnError?.message.includes('ENOENT'), true);
    assert.match(describeWorkerFailure(exit), /^could not start the diffusion worker: /);
  });
});
