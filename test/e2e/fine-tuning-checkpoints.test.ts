import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { ModelRegistry } from '../../src/models/index.js';
import { makeTinySd, subjectZip, tinyRun } from '../personalize/fixtures.js';
import { dreambooth, startServer, stopServer, terminal, waitFor, type Server } from './fine-tuning-server.js';

type ImageParams = Parameters<OpenAI['images']['generate']>[0];

/** The decoded pixels of the one image a generation answers with (b64_json). */
async function pixels(client: OpenAI, model: string): Promise<Buffer> {
  const params = { model, prompt: 'a photo of sks dog', size: '32x32', steps: 2, seed: 7, response_format: 'b64_json' };
  const result = (await client.images.generate(params as ImageParams)) as { data: { b64_json: string }[] };
  return sharp(Buffer.from(result.data[0]!.b64_json, 'base64')).raw().toBuffer();
}

describe('generating with a fine-tuning checkpoint through the official openai client', () => {
  let dir: string;
  let server: Server;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-ckpt-'));
    server = await startServer(join(dir, 'home'));
    new ModelRegistry(server.store).addLocal(makeTinySd(dir), { name: 'tiny-sd' });
  });
  after(async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('addresses every kept checkpoint by its fine_tuned_model_checkpoint name', async () => {
    const { client } = server;
    const file = await client.files.create({ file: await toFile(subjectZip(3), 'p.zip'), purpose: 'fine-tune' });
    const created = await client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: file.id,
      // A high learning rate so that two steps visibly change the 32 px images.
      method: dreambooth({ ...tinyRun.hyperparameters, n_steps: 4, learning_rate: 0.05, train_text_encoder: true }),
      suffix: 'ckpt',
    });
    const job = await waitFor(async () => {
      const current = await client.fineTuning.jobs.retrieve(created.id);
      return terminal(current) ? current : undefined;
    });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data;
    assert.deepEqual(checkpoints.map((c) => c.step_number), [4, 2]);
    const [last, early] = checkpoints.map((c) => c.fine_tuned_model_checkpoint);
    assert.equal(early, `${job.fine_tuned_model}:ckpt-step-2`);

    const base = await pixels(client, 'tiny-sd');
    const final = await pixels(client, job.fine_tuned_model!);
    const atLast = await pixels(client, last!);
    const atEarly = await pixels(client, early!);
    // The last checkpoint is the job's output; the earlier one is a model of its own, neither the base nor the end.
    assert.ok(atLast.equals(final), 'the step-4 checkpoint draws what the fine-tuned model draws');
    assert.ok(!atEarly.equals(final), 'the step-2 checkpoint differs from the output');
    assert.ok(!atEarly.equals(base), 'the step-2 checkpoint differs from the base');
    assert.equal((await client.models.retrieve(early!)).id, early);

    const pruned = client.images.generate({ model: `${job.fine_tuned_model}:ckpt-step-3`, prompt: 'x' } as ImageParams);
    await assert.rejects(pruned, (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'model_not_found');
    const removed = client.models.delete(early!);
    await assert.rejects(removed, OpenAI.NotFoundError);
  });
});
