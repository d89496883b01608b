import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import type { JobCreateParams } from 'openai/resources/fine-tuning/jobs/jobs';
import { ModelRegistry } from '../../src/models/index.js';
import { makeTinySd, subjectZip, tinyRun } from '../personalize/fixtures.js';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { dreambooth, startServer, stopServer, terminal, waitFor, type Server } from './fine-tuning-server.js';

describe('fine-tuning API through the official openai client', () => {
  let home: string;
  let server: Server;
  let trainingFile: string;
  let fineTuned: string;

  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-ft-'));
    home = join(dir, 'home');
    const tiny = makeTinySd(dir);
    server = await startServer(home);
    new ModelRegistry(server.store).addLocal(tiny, { name: 'tiny-sd' });
  });
  after(async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads, lists, reads and deletes files', async () => {
    const { client } = server;
    const zip = subjectZip(4);
    const uploaded = await client.files.create({ file: await toFile(zip, 'photos.zip'), purpose: 'fine-tune' });
    assert.equal(uploaded.object, 'file');
    assert.equal(uploaded.bytes, zip.length);
    assert.equal(uploaded.filename, 'photos.zip');
    trainingFile = uploaded.id;
    const single = await client.files.create({ file: await toFile(subjectPhoto(9), 'one.png'), purpose: 'fine-tune' });
    const content = Buffer.from(await (await client.files.content(uploaded.id)).arrayBuffer());
    assert.deepEqual(content, zip);
    assert.equal((await client.files.retrieve(single.id)).filename, 'one.png');
    const page1 = await client.files.list({ limit: 1, purpose: 'fine-tune' });
    assert.deepEqual(
      page1.data.map((f) => f.id),
      [single.id],
    );
    assert.ok(page1.hasNextPage());
    const ids: string[] = [];
    for await (const file of client.files.list({ limit: 1 })) ids.push(file.id);
    assert.deepEqual(ids, [single.id, uploaded.id]);
    assert.deepEqual(await client.files.delete(single.id), { id: single.id, object: 'file', deleted: true });
    await assert.rejects(client.files.retrieve(single.id), OpenAI.NotFoundError);
    const badPurpose = client.files.create({ file: await toFile(zip, 'x.zip'), purpose: 'nonsense' as 'vision' });
    await assert.rejects(badPurpose, (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'purpose');
  });

  it('rejects bad job requests with OpenAI-shaped 4xx errors', async () => {
    const { client } = server;
    const hp = tinyRun.hyperparameters;
    const cases: [JobCreateParams, number, string][] = [
      [{ model: 'no-such-model', training_file: trainingFile, method: dreambooth(hp) }, 404, 'model'],
      [{ model: 'tiny-sd', training_file: 'file-missing', method: dreambooth(hp) }, 404, 'training_file'],
      [
        { model: 'tiny-sd', training_file: trainingFile, method: dreambooth({ ...hp, class_name: undefined }) },
        400,
        'method.dreambooth.hyperparameters.class_name',
      ],
      [{ model: 'tiny-sd', training_file: trainingFile, method: { type: 'supervised' } }, 400, 'method.type'],
      // Raw worker config is checked against the worker's own schema before the job exists.
      [
        { model: 'tiny-sd', training_file: trainingFile, method: dreambooth(hp, { train: { learning_rat: 1 } }) },
        400,
        'method.dreambooth.config.train.learning_rat',
      ],
    ];
    for (const [body, status, param] of cases) {
      await assert.rejects(
        client.fineTuning.jobs.create(body),
        (e: unknown) => e instanceof OpenAI.APIError && e.status === status && e.param === param,
      );
    }
    const few = await client.files.create({ file: await toFile(subjectZip(2), 'two.zip'), purpose: 'fine-tune' });
    await assert.rejects(
      client.fineTuning.jobs.create({ model: 'tiny-sd', training_file: few.id, method: dreambooth(hp) }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'too_few_images',
    );
    await assert.rejects(client.fineTuning.jobs.retrieve('ftjob-nope'), OpenAI.NotFoundError);
  });

  it('trains, survives a server restart by resuming from its checkpoint, and registers the model', async () => {
    // The "server" goes down right as the first checkpoint (step 2) is announced, so the worker is stopped mid-run
    // however fast this machine trains.
    const firstCheckpoint = new Promise<number>((resolve) => {
      server.runner.on('event', (_id, event) => event.type === 'checkpoint' && resolve(event.step));
    });
    let job = await server.client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: trainingFile,
      method: dreambooth({ ...tinyRun.hyperparameters, n_steps: 6 }),
      suffix: 'sks-dog',
      seed: 3,
    });
    assert.equal(job.status, 'validating_files');
    assert.equal(job.object, 'fine_tuning.job');
    assert.equal(await firstCheckpoint, 2);
    await stopServer(server);
    server = await startServer(home); // ... and comes back on the same home
    job = await waitFor(async () => {
      const current = await server.client.fineTuning.jobs.retrieve(job.id);
      return terminal(current) ? current : undefined;
    });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    assert.match(job.fine_tuned_model ?? '', /^ft:tiny-sd:sks-dog:/);
    assert.equal(job.seed, 3);
    const model = server.store.models.get(job.fine_tuned_model!);
    assert.equal(model?.metadata.base_model, 'tiny-sd');
    assert.ok(existsSync(String(model?.metadata.lora)), 'the LoRA weights live in the models folder');

    const messages: string[] = [];
    const ids: string[] = [];
    for await (const event of server.client.fineTuning.jobs.listEvents(job.id, { limit: 5 })) {
      messages.push(event.message);
      ids.push(event.id);
    }
    assert.equal(new Set(ids).size, ids.length, 'pages neither repeat nor skip events');
    assert.equal(messages[0], 'The job has successfully completed');
    assert.ok(
      messages.some((m) => /^Resuming from the checkpoint at step [2-5]$/.test(m)),
      messages.join('\n'),
    );
    assert.equal(messages.at(-1), `Created fine-tuning job: ${job.id}`);
    const metrics = (await server.client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data.filter(
      (e) => e.type === 'metrics',
    );
    assert.ok(metrics.some((e) => (e.data as { step: number }).step === 6));
    assert.ok(metrics.every((e) => typeof (e.data as { train_loss: number }).train_loss === 'number'));
    const checkpoints = (await server.client.fineTuning.jobs.checkpoints.list(job.id)).data;
    assert.equal(checkpoints[0]?.step_number, 6);
    assert.equal(checkpoints[0]?.object, 'fine_tuning.job.checkpoint');
    const listed = await server.client.fineTuning.jobs.list({ limit: 10 });
    assert.equal(listed.data[0]?.id, job.id);
    fineTuned = job.fine_tuned_model!;
  });

  it('generates images with the fine-tuned LoRA model', async () => {
    const params = {
      model: fineTuned,
      prompt: 'a photo of sks dog',
      size: '32x32',
      steps: 2,
      seed: 1,
      response_format: 'b64_json',
    };
    const result = await server.client.images.generate(params as Parameters<OpenAI['images']['generate']>[0]);
    const png = Buffer.from((result as { data: { b64_json: string }[] }).data[0]!.b64_json, 'base64');
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  });
});
