/**
 * What a job's worker events become in the store: the stage lines come before the stage's first step, and stages
 * without metrics (class-image generation) store throttled progress events with counts and an ETA.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JobRecorder, StageEta, TrainProgress, fineTuningKind } from '../../src/personalize/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { WorkerEvent } from '../../src/worker/index.js';

function storeWithJob(t: { after: (fn: () => void) => void }): Store {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-recorder-'));
  const store = openStore(dir);
  t.after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  store.jobs.create({
    id: 'ftjob-r',
    kind: fineTuningKind,
    model: 'm',
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
  return store;
}

const progress = (stage: string, step: number, total: number): WorkerEvent => ({
  type: 'progress',
  stage,
  step,
  total,
  loss: null,
  etaSeconds: null,
  data: {},
});

/** Messages and data of the job's events, oldest first. */
function stored(store: Store): { message: string; data: Record<string, unknown> | null }[] {
  return store.events
    .list('ftjob-r', { limit: 100 })
    .data.reverse()
    .map((e) => ({ message: e.message, data: e.data as Record<string, unknown> | null }));
}

describe('JobRecorder', () => {
  it('logs "Training: N steps" before the first step even when the step\'s metrics come first', (t) => {
    const store = storeWithJob(t);
    const recorder = new JobRecorder(store, 'ftjob-r', null, 6);
    recorder.record({ type: 'metric', step: 1, values: { loss: 1.5 }, data: {} });
    recorder.record(progress('train', 1, 6));
    recorder.record({ type: 'metric', step: 2, values: { loss: 1.25 }, data: {} });
    assert.deepEqual(
      stored(store).map((e) => e.message),
      ['Training: 6 steps', 'Step 1/6: loss=1.5', 'Step 2/6: loss=1.25'],
    );
  });

  it('stores class-image progress with counts, at most ~20 events a stage, ending at the total', (t) => {
    const store = storeWithJob(t);
    const recorder = new JobRecorder(store, 'ftjob-r', null, 6);
    for (let done = 2; done <= 200; done += 2) recorder.record(progress('class_images', done, 200));
    const events = stored(store);
    assert.equal(events[0]!.message, 'Generating class images: 200 to go');
    const steps = events.slice(1).map((e) => e.data?.step as number);
    assert.ok(steps.length >= 10 && steps.length <= 21, `${steps.length} progress events`);
    assert.deepEqual(
      [...steps].sort((a, b) => a - b),
      steps,
      'steps increase',
    );
    assert.equal(steps.at(-1), 200);
    assert.ok(events.slice(1).every((e) => e.data?.stage === 'class_images' && e.data.total === 200));
    assert.match(events.at(-1)!.message, /^Generating class images: 200\/200( · ETA 0s)?$/);
  });
});

describe('StageEta', () => {
  it("measures seconds per item from the stage's first report and prefers the worker's own ETA", () => {
    let now = 0;
    const eta = new StageEta(() => now);
    assert.equal(eta.update('class_images', 4, 100, null), null, 'no estimate before a second report');
    now = 8_000; // 8 s for 4 more images: 2 s each, 92 left
    assert.equal(eta.update('class_images', 8, 100, null), 184);
    assert.equal(eta.secondsPerItem(8), 2);
    assert.equal(eta.update('class_images', 10, 100, 42), 42);
    assert.equal(eta.update('train', 0, 6, null), null, 'a new stage restarts the clock');
  });
});

describe('TrainProgress (CLI, no terminal)', () => {
  it('prints class-image progress as lines with counts and, once measured, an ETA', () => {
    let out = '';
    const progressView = new TrainProgress({
      write: (text) => {
        out += text;
      },
    });
    for (let done = 1; done <= 40; done++) progressView.update(progress('class_images', done, 40));
    progressView.update({ type: 'class_images', dir: '/x', count: 40, generated: 40, cacheHit: false, data: {} });
    progressView.stop();
    const lines = out.trim().split('\n');
    assert.equal(lines[0], 'class images 1/40');
    assert.ok(
      lines.slice(1, -1).every((line) => /^class images \d+\/40 ETA \d+s$/.test(line)),
      lines.join('\n'),
    );
    assert.ok(lines.length >= 10 && lines.length <= 23, `${lines.length} lines`);
    assert.equal(lines.at(-2)!.split(' ')[2], '40/40');
    assert.equal(lines.at(-1), 'class images ready: 40 (40 generated)');
  });
});
