/**
 * The learning report: the recommendation rule, and judge lines as the Python worker writes them becoming job events,
 * checkpoint metrics and `GET /v1/fine_tuning/jobs/{id}/report` through the official openai client.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  JobRecorder,
  fineTuningKind,
  learningReport,
  recommendCheckpoint,
  type ReportEntry,
} from '../../src/personalize/index.js';
import { parseWorkerEvent } from '../../src/worker/index.js';
import { startServer, stopServer } from '../e2e/fine-tuning-server.js';

const entry = (step: number, subject: number, drift: number): ReportEntry => ({
  step,
  scores: { subject, prompt: 0.3, drift, diversity: 0.5 },
});

describe('recommendCheckpoint', () => {
  it('takes the best subject score among steps within the drift tolerance', () => {
    const entries = [entry(2, 0.4, 0.0), entry(4, 0.7, 0.03), entry(6, 0.9, 0.2)];
    assert.equal(recommendCheckpoint(entries), 4, 'step 6 learned more but drifted past 0.05');
    assert.equal(recommendCheckpoint(entries, 0.5), 6);
    assert.equal(recommendCheckpoint([entry(2, 0.5, 0.01), entry(4, 0.5, 0.02)]), 2, 'ties: the less trained');
  });
  it('falls back to the least drifted step, and to null with nothing judged', () => {
    assert.equal(recommendCheckpoint([entry(2, 0.9, 0.3), entry(4, 0.2, 0.1)]), 4);
    assert.equal(recommendCheckpoint([]), null);
  });
});

describe('judge events through the recorder and the report route', () => {
  it('records the four scores per checkpoint and serves them with the recommendation', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-report-'));
    const server = await startServer(join(dir, 'home'));
    t.after(async () => {
      await stopServer(server);
      rmSync(dir, { recursive: true, force: true });
    });
    const { store, client } = server;
    const id = 'ftjob-report';
    store.jobs.create({
      id,
      kind: fineTuningKind,
      model: 'tiny-sd',
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
    store.jobs.update(id, { status: 'succeeded', resultModel: 'ft:tiny-sd:x:report' });
    const recorder = new JobRecorder(store, id, null, 6);
    mkdirSync(join(dir, 'ckpt'));
    const lines = [
      { step: 2, scores: { subject: 0.5, prompt: 0.2, drift: 0.01, diversity: 0.6 } },
      { step: 4, scores: { subject: 0.8, prompt: 0.25, drift: 0.04, diversity: 0.5 } },
      { step: 6, scores: { subject: 0.95, prompt: 0.1, drift: 0.3, diversity: 0.1 } },
    ];
    for (const { step, scores } of lines) {
      const path = join(dir, 'ckpt', `step-${step}.ckpt`);
      writeFileSync(path, 'x');
      recorder.record(parseWorkerEvent({ type: 'checkpoint', step, path })!);
      recorder.record(parseWorkerEvent({ type: 'judge', step, scores })!);
    }
    assert.equal(parseWorkerEvent({ type: 'judge', step: 8, scores: { subject: 'high' } }), null);
    assert.equal(learningReport(store, id).recommendedStep, 4);

    const report = (await client.get(`/fine_tuning/jobs/${id}/report`)) as Record<string, unknown>;
    assert.equal(report.object, 'fine_tuning.job.report');
    assert.equal(report.recommended_step, 4);
    assert.equal(report.recommended_checkpoint, 'ft:tiny-sd:x:report:ckpt-step-4');
    const data = report.data as Record<string, unknown>[];
    assert.deepEqual(
      data.map((d) => d.step_number),
      [2, 4, 6],
    );
    assert.deepEqual(data[2], {
      step_number: 6,
      fine_tuned_model_checkpoint: 'ft:tiny-sd:x:report:ckpt-step-6',
      ...lines[2]!.scores,
    });

    const checkpoints = (await client.fineTuning.jobs.checkpoints.list(id)).data;
    assert.deepEqual(checkpoints[1]?.metrics, { step: 4, ...lines[1]!.scores });
    const events = (await client.fineTuning.jobs.listEvents(id, { limit: 20 })).data;
    const judged = events.filter((e) => e.message.startsWith('Judged step'));
    assert.equal(judged.length, 3);
    assert.equal(judged[0]?.type, 'metrics');
    assert.deepEqual((judged[0]?.data as { scores: unknown }).scores, lines[2]!.scores);
  });
});
