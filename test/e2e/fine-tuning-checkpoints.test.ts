import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { ModelRegistry } from '../../src/models/index.js';
import { ensurePythonEnv, workerEnv } from '../../src/worker/index.js';
import { makeTinySd, subjectZip, tinyRun } from '../personalize/fixtures.js';
import { dreambooth, startServer, stopServer, terminal, waitFor, type Server } from './fine-tuning-server.js';

type ImageParams = Parameters<OpenAI['images']['generate']>[0];

/** The decoded pixels of the one image a generation answers with (b64_json). */
async function pixels(client: OpenAI, model: string): Promise<Buffer> {
  const params = { model, prompt: 'a photo of sks dog', size: '32x32', steps: 2, seed: 7, response_format: 'b64_json' };
  const result = (await client.images.generate(params as ImageParams)) as { data: { b64_json: string }[] };
  return sharp(Buffer.from(result.data[0]!.b64_json, 'base64')).raw().toBuffer();
}

/** Writes the judge's tiny random-weight CLIP folder (python/atelier_diffusion/fixtures/tiny_clip.py) under `dir`. */
async function makeTinyClip(dir: string): Promise<string> {
  const out = join(dir, 'tiny-clip');
  const code =
    'import sys; from atelier_diffusion.fixtures.tiny_clip import write_tiny_clip; write_tiny_clip(sys.argv[1])';
  const result = spawnSync(await ensurePythonEnv(), ['-c', code, out], { env: workerEnv(), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tiny CLIP fixture failed: ${result.stderr}`);
  return out;
}

interface ReportWire {
  recommended_step: number | null;
  recommended_checkpoint: string | null;
  data: { step_number: number; subject: number; prompt: number | null; drift: number; diversity: number }[];
}

describe('checkpoints: judged, reported and generated with, through the official openai client', () => {
  let dir: string;
  let server: Server;
  let clip: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-ckpt-'));
    server = await startServer(join(dir, 'home'));
    new ModelRegistry(server.store).addLocal(makeTinySd(dir), { name: 'tiny-sd' });
    clip = await makeTinyClip(dir);
  });
  after(async () => {
    await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('judges each checkpoint, recommends one, and generates with any kept one by name', async () => {
    const { client } = server;
    const file = await client.files.create({ file: await toFile(subjectZip(3), 'p.zip'), purpose: 'fine-tune' });
    const created = await client.fineTuning.jobs.create({
      model: 'tiny-sd',
      training_file: file.id,
      // A high learning rate so that two steps visibly change the 32 px images.
      method: dreambooth(
        { ...tinyRun.hyperparameters, n_steps: 4, learning_rate: 0.05, train_text_encoder: true },
        { ...tinyRun.config, judge: { model: clip, contexts: ['on the moon'], seeds: 2, steps: 2 } },
      ),
      suffix: 'ckpt',
    });
    const job = await waitFor(async () => {
      const current = await client.fineTuning.jobs.retrieve(created.id);
      return terminal(current) ? current : undefined;
    });
    assert.equal(job.status, 'succeeded', JSON.stringify(job.error));
    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(job.id)).data;
    assert.deepEqual(
      checkpoints.map((c) => c.step_number),
      [4, 2],
    );
    const [last, early] = checkpoints.map((c) => c.fine_tuned_model_checkpoint);
    assert.equal(early, `${job.fine_tuned_model}:ckpt-step-2`);
    for (const checkpoint of checkpoints) {
      assert.deepEqual(Object.keys(checkpoint.metrics).sort(), [
        'diversity',
        'drift',
        'prompt',
        'step',
        'subject',
        'train_loss',
      ]);
    }
    const report = (await client.get(`/fine_tuning/jobs/${job.id}/report`)) as ReportWire;
    assert.deepEqual(
      report.data.map((d) => d.step_number),
      [2, 4],
    );
    for (const scores of report.data) {
      for (const name of ['subject', 'prompt', 'drift', 'diversity'] as const)
        assert.equal(typeof scores[name], 'number');
    }
    assert.ok(report.recommended_step === 2 || report.recommended_step === 4);
    assert.equal(report.recommended_checkpoint, `${job.fine_tuned_model}:ckpt-step-${report.recommended_step}`);

    const base = await pixels(client, 'tiny-sd');
    const output = await pixels(client, job.fine_tuned_model!);
    const atLast = await pixels(client, last!);
    const atEarly = await pixels(client, early!);
    // The job's model is the recommended checkpoint; each checkpoint is a model of its own, and the earlier one is
    // neither the base nor the last step.
    const model = server.store.models.get(job.fine_tuned_model!);
    assert.equal(model?.metadata.step, report.recommended_step);
    assert.ok(output.equals(report.recommended_step === 2 ? atEarly : atLast), 'the output is the recommended step');
    assert.ok(!atEarly.equals(atLast), 'the step-2 checkpoint differs from the last');
    assert.ok(!atEarly.equals(base), 'the step-2 checkpoint differs from the base');
    assert.equal((await client.models.retrieve(early!)).id, early);

    const pruned = client.images.generate({ model: `${job.fine_tuned_model}:ckpt-step-3`, prompt: 'x' } as ImageParams);
    await assert.rejects(pruned, (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'model_not_found');
    const removed = client.models.delete(early!);
    await assert.rejects(removed, OpenAI.NotFoundError);
  });
});
