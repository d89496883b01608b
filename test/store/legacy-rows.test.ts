/**
 * Rows written before protocol/ converted fine-tuning wire shapes at the edge (snake_case JSON columns) are migrated
 * into the camelCase domain shapes, and the API renders them exactly as it did before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { dreamboothJob } from '../../src/personalize/index.js';
import { fineTuningCheckpointToWire, fineTuningEventToWire, fineTuningJobToWire } from '../../src/protocol/index.js';
import { migrate, migrations, openStore, SqliteDatabase } from '../../src/store/index.js';

/** A database at schema version 1 holding what the previous code wrote for one finished DreamBooth job. */
function legacyHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'atelier-legacy-'));
  const db = new Database(join(home, 'atelier.db'));
  migrate(new SqliteDatabase(db), migrations.slice(0, 1));
  const hp = { class_name: 'dog', n_steps: 4, batch_size: 2, mode: 'lora', prior_preservation: false };
  const params = {
    training_file: 'file-a',
    instance_files: ['file-b'],
    seed: 7,
    suffix: 'dog',
    metadata: { team_name: 'x' },
    config: { train: { max_steps: 3 } },
    file_config: null,
  };
  const insertJob = db.prepare(`INSERT INTO jobs (id, kind, status, model, result_model, hyperparameters, params,
    created_at, finished_at, updated_at) VALUES (?, ?, ?, 'sd', ?, ?, ?, 100, 200, 200)`);
  insertJob.run('ftjob-old', 'fine_tuning', 'succeeded', 'ft:sd:dog:old', JSON.stringify(hp), JSON.stringify(params));
  insertJob.run(
    'imgjob-old',
    'images',
    'queued',
    null,
    JSON.stringify({ guidance_scale: 7 }),
    JSON.stringify({ n_images: 1 }),
  );
  const insertEvent = db.prepare(`INSERT INTO job_events (id, job_id, level, type, message, data, created_at)
    VALUES (?, 'ftjob-old', 'info', ?, ?, ?, 150)`);
  insertEvent.run(
    'ftevent-1',
    'message',
    'Class images ready',
    JSON.stringify({ count: 2, generated: 0, cache_hit: true }),
  );
  const metrics = { step: 2, loss: 0.5, grad_norm: 1.5, total_steps: 4, train_loss: 0.5 };
  insertEvent.run('ftevent-2', 'metrics', 'Step 2/4', JSON.stringify(metrics));
  insertEvent.run('ftevent-3', 'message', 'Fine-tuning job started', null);
  db.prepare(
    `INSERT INTO checkpoints (id, job_id, step, path, metrics, created_at)
    VALUES ('ftckpt-1', 'ftjob-old', 2, '/x', ?, 160)`,
  ).run(JSON.stringify({ step: 2, train_loss: 0.5 }));
  db.close();
  return home;
}

test('migration 2 turns legacy snake_case rows into the domain shapes and the wire is unchanged', (t) => {
  const home = legacyHome();
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const store = openStore(home);
  t.after(() => store.close());

  const job = store.jobs.get('ftjob-old')!;
  assert.deepEqual(job.hyperparameters, {
    className: 'dog',
    nSteps: 4,
    batchSize: 2,
    mode: 'lora',
    priorPreservation: false,
  });
  assert.deepEqual(job.params, {
    trainingFile: 'file-a',
    instanceFiles: ['file-b'],
    seed: 7,
    suffix: 'dog',
    // Values belonging to others keep their spelling: user metadata, the worker's config.
    metadata: { team_name: 'x' },
    config: { train: { max_steps: 3 } },
    fileConfig: null,
  });
  assert.deepEqual(store.jobs.get('imgjob-old')!.hyperparameters, { guidance_scale: 7 }, 'other kinds are left alone');

  const wire = fineTuningJobToWire(dreamboothJob(job));
  assert.deepEqual(wire.method, {
    type: 'dreambooth',
    dreambooth: {
      hyperparameters: { class_name: 'dog', n_steps: 4, batch_size: 2, mode: 'lora', prior_preservation: false },
      instance_files: ['file-b'],
    },
  });
  assert.deepEqual(
    [wire.training_file, wire.seed, wire.metadata, wire.hyperparameters.batch_size, wire.fine_tuned_model],
    ['file-a', 7, { team_name: 'x' }, 2, 'ft:sd:dog:old'],
  );

  const events = store.events.since('ftjob-old');
  assert.deepEqual(events[0]!.data, { count: 2, generated: 0, cacheHit: true });
  assert.deepEqual(events[1]!.data, { step: 2, metrics: { loss: 0.5, grad_norm: 1.5 }, totalSteps: 4, trainLoss: 0.5 });
  assert.deepEqual(
    events.map((e) => fineTuningEventToWire(e).data),
    [
      { count: 2, generated: 0, cache_hit: true },
      { step: 2, loss: 0.5, grad_norm: 1.5, total_steps: 4, train_loss: 0.5 },
      {},
    ],
  );

  const [checkpoint] = store.checkpoints.list('ftjob-old');
  assert.deepEqual(checkpoint!.metrics, { step: 2, trainLoss: 0.5 });
  assert.deepEqual(fineTuningCheckpointToWire(checkpoint!, 'ftjob-old', 'ft:sd:dog:old:ckpt-step-2').metrics, {
    step: 2,
    train_loss: 0.5,
  });
});
