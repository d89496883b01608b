/**
 * Fleet mode end to end: a real PostgreSQL, atelier nodes as separate processes with separate homes and one shared
 * blob folder, the official openai client. A DreamBooth job created on the API node is trained by a worker node;
 * that node is SIGKILLed mid-training and a third node resumes the job from its last checkpoint to the same losses
 * an uninterrupted run has; the model generates on two nodes; a cancel on the API node stops the training node.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs/jobs';
import { ModelRegistry } from '../../src/models/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { makeTinySd, subjectZip, tinyRun } from '../personalize/fixtures.js';
import { startPostgres, type TestPostgres } from '../store/postgres-server.js';
import { dreambooth, terminal, waitFor } from './fine-tuning-server.js';

interface Node {
  child: ChildProcess;
  client: OpenAI;
  address: string;
  nodeId: string;
}

describe('a fleet of atelier nodes on one PostgreSQL', () => {
  let postgres: TestPostgres;
  let dir: string;
  let url: string;
  let store: Store;
  const nodes: Node[] = [];

  async function start(name: string, role: 'api' | 'worker' | 'all'): Promise<Node> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fleet-node.ts'), url, join(dir, name), join(dir, 'blobs'), role],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.once('exit', (code) => reject(new Error(`node ${name} exited with ${code}`)));
    });
    const { address, nodeId } = JSON.parse(line) as { address: string; nodeId: string };
    const node = {
      child,
      address,
      nodeId,
      client: new OpenAI({ baseURL: `${address}/v1`, apiKey: 'unused', maxRetries: 0 }),
    };
    nodes.push(node);
    return node;
  }

  async function finished(client: OpenAI, id: string): Promise<FineTuningJob> {
    return waitFor(async () => {
      const job = await client.fineTuning.jobs.retrieve(id);
      return terminal(job) ? job : undefined;
    });
  }

  /** Every event of a job, newest first, through the client's pagination. */
  async function allEvents(client: OpenAI, id: string): Promise<{ type?: string; message: string; data?: unknown }[]> {
    const events = [];
    for await (const event of client.fineTuning.jobs.listEvents(id, { limit: 100 })) events.push(event);
    return events;
  }

  /** Train loss by step from a job's metrics events (the last one recorded for a step wins). */
  async function losses(client: OpenAI, id: string): Promise<Map<number, number>> {
    const events = (await allEvents(client, id)).filter((e) => e.type === 'metrics');
    const byStep = new Map<number, number>();
    for (const event of events.reverse()) {
      const data = event.data as { step: number; train_loss: number };
      byStep.set(data.step, data.train_loss);
    }
    return byStep;
  }

  async function fleet(node: Node): Promise<{ id: string; role: string; running: { job_id: string }[] }[]> {
    return (
      (await (await fetch(`${node.address}/v1/fleet`)).json()) as {
        data: { id: string; role: string; running: { job_id: string }[] }[];
      }
    ).data;
  }

  let api: Node;
  let trainingFile: string;
  before(async () => {
    postgres = await startPostgres();
    url = await postgres.createDatabase();
    dir = mkdtempSync(join(tmpdir(), 'atelier-fleet-'));
    store = openStore(join(dir, 'setup'), { databaseUrl: url, blobDir: join(dir, 'blobs') });
    new ModelRegistry(store).addLocal(makeTinySd(dir), { name: 'tiny-sd' });
    api = await start('a', 'api');
    trainingFile = (await api.client.files.create({ file: await toFile(subjectZip(3), 'p.zip'), purpose: 'fine-tune' }))
      .id;
  });
  after(async () => {
    for (const node of nodes) node.child.kill('SIGKILL');
    store.close();
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const hyperparameters = { ...tinyRun.hyperparameters, n_steps: 10, checkpoint_every: 2 };

  it('a job whose node is SIGKILLed mid-training resumes on another node with the losses of an uninterrupted run', async () => {
    const b = await start('b', 'worker');
    const created = await api.client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: trainingFile,
      seed: 5,
      suffix: 'dog',
      method: dreambooth(hyperparameters),
    });
    await waitFor(async () =>
      (await api.client.fineTuning.jobs.checkpoints.list(created.id)).data.find((c) => c.step_number >= 4),
    );
    const running = (await fleet(api)).find((n) => n.running.some((r) => r.job_id === created.id));
    assert.equal(running?.id, b.nodeId, 'the worker node, not the API node, trains the job');
    b.child.kill('SIGKILL');
    const c = await start('c', 'all');
    const job = await finished(api.client, created.id);
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const messages = (await allEvents(api.client, job.id)).map((e) => e.message);
    assert.equal(messages.filter((m) => m.startsWith('Its node stopped; resuming on another node')).length, 1);
    const resumedAt = Number(
      /^Resuming from the checkpoint at step (\d+)$/.exec(
        messages.find((m) => m.startsWith('Resuming from')) ?? '',
      )?.[1],
    );
    assert.ok(resumedAt >= 4, messages.join('\n'));
    assert.equal(messages.filter((m) => m === 'The job has successfully completed').length, 1);

    const again = await api.client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: trainingFile,
      seed: 5,
      suffix: 'dog2',
      method: dreambooth(hyperparameters),
    });
    assert.equal((await finished(c.client, again.id)).status, 'succeeded');
    const [interrupted, uninterrupted] = [await losses(api.client, job.id), await losses(api.client, again.id)];
    assert.deepEqual(
      [...interrupted.keys()].sort((x, y) => x - y),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    for (let step = resumedAt + 1; step <= 10; step += 1) {
      assert.equal(interrupted.get(step), uninterrupted.get(step), `train loss at step ${step}`);
    }
    const params = {
      model: job.fine_tuned_model!,
      prompt: 'a photo of sks dog',
      size: '32x32',
      steps: 2,
      seed: 1,
      response_format: 'b64_json',
    };
    for (const node of [api, c]) {
      const result = await node.client.images.generate(params as Parameters<OpenAI['images']['generate']>[0]);
      const png = Buffer.from((result as { data: { b64_json: string }[] }).data[0]!.b64_json, 'base64');
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    }
  });

  it('a cancel on the API node stops the training on the node running it', async () => {
    const created = await api.client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: trainingFile,
      method: dreambooth({ ...tinyRun.hyperparameters, n_steps: 500 }),
    });
    await waitFor(async () => (await api.client.fineTuning.jobs.checkpoints.list(created.id)).data[0]);
    assert.equal((await api.client.fineTuning.jobs.cancel(created.id)).status, 'cancelled');
    await waitFor(async () => {
      const events = (await api.client.fineTuning.jobs.listEvents(created.id, { limit: 5 })).data.map((e) => e.message);
      return events.find((m) => /^The worker stopped; the checkpoint at step \d+ is kept$/.test(m));
    });
    await waitFor(async () => ((await fleet(api)).every((n) => n.running.length === 0) ? true : undefined));
    assert.equal((await api.client.fineTuning.jobs.retrieve(created.id)).status, 'cancelled');
  });
});
