import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { ModelRegistry } from '../../src/models/index.js';
import { makeTinySd, subjectZip, tinyRun } from '../personalize/fixtures.js';
import { dreambooth, startServer, stopServer, waitFor, type Server } from './fine-tuning-server.js';

describe('cancelling a fine-tuning job through the official openai client', () => {
  let dir: string;
  let server: Server;
  let trainingFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-ft-cancel-'));
    const tiny = makeTinySd(dir);
    server = await startServer(join(dir, 'home'));
    new ModelRegistry(server.store).addLocal(tiny, { name: 'tiny-sd' });
    const file = await server.client.files.create({ file: await toFile(subjectZip(3), 'p.zip'), purpose: 'fine-tune' });
    trainingFile = file.id;
  });
  after(async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('cancels a running job, stopping the worker and keeping its checkpoint', async () => {
    const { client } = server;
    const job = await client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: trainingFile,
      method: dreambooth({ ...tinyRun.hyperparameters, n_steps: 500 }),
    });
    await waitFor(async () => (await client.fineTuning.jobs.checkpoints.list(job.id)).data[0]);
    const cancelled = await client.fineTuning.jobs.cancel(job.id);
    assert.equal(cancelled.status, 'cancelled');
    await server.runner.idle();
    const kept = (await client.fineTuning.jobs.checkpoints.list(job.id)).data;
    assert.ok(kept.length > 0 && kept[0]!.step_number < 500);
    assert.equal((await client.fineTuning.jobs.retrieve(job.id)).status, 'cancelled');
    await assert.rejects(client.fineTuning.jobs.cancel(job.id), (e: unknown) => e instanceof OpenAI.ConflictError);
    const events = (await client.fineTuning.jobs.listEvents(job.id, { limit: 3 })).data.map((e) => e.message);
    assert.match(events[0] ?? '', /^The worker stopped; the checkpoint at step \d+ is kept$/);
  });
});
