/**
 * protocol/ is where wire shapes change spelling: camelCase domain objects in, OpenAI's snake_case objects out, and
 * one pagination helper for every paginated list.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cursorPage,
  eventDataToWire,
  fileToWire,
  fineTuningCheckpointToWire,
  fineTuningJobToWire,
  hyperparametersFromWire,
  hyperparametersToWire,
  hyperparameterWireNames,
  imageCompletedToWire,
  imagesResponseToWire,
  InvalidRequestError,
  modelListToWire,
  pageOf,
  parseFineTuningJobCreate,
  type FineTuningJobSource,
} from '../../src/protocol/index.js';

const job: FineTuningJobSource = {
  id: 'ftjob-1',
  status: 'running',
  model: 'sd',
  resultModel: null,
  createdAt: 10,
  finishedAt: null,
  error: null,
  hyperparameters: { className: 'dog', nSteps: 4, batchSize: 2, loraRank: 8 },
  params: { trainingFile: 'file-a', instanceFiles: [], seed: 3, metadata: null },
};

describe('fine-tuning wire', () => {
  it('renames every hyperparameter both ways, and a parsed request keeps what the wire said', () => {
    const wire = Object.fromEntries(Object.values(hyperparameterWireNames).map((name, i) => [name, i]));
    const domain = hyperparametersFromWire(wire as never);
    assert.equal(Object.keys(domain).length, Object.keys(wire).length);
    assert.ok(
      Object.keys(domain).every((key) => !key.includes('_')),
      Object.keys(domain).join(),
    );
    assert.deepEqual(hyperparametersToWire(domain), wire);
    const body = {
      model: 'sd',
      training_file: 'file-a',
      method: { type: 'dreambooth', dreambooth: { hyperparameters: { class_name: 'cat', train_text_encoder: true } } },
    };
    assert.deepEqual(
      hyperparametersToWire(parseFineTuningJobCreate(body).hyperparameters),
      body.method.dreambooth.hyperparameters,
    );
  });

  it('renders a job as the fine_tuning.job object', () => {
    const wire = fineTuningJobToWire(job, 1234);
    assert.deepEqual(wire, {
      id: 'ftjob-1',
      object: 'fine_tuning.job',
      created_at: 10,
      error: null,
      fine_tuned_model: null,
      finished_at: null,
      hyperparameters: { batch_size: 2, learning_rate_multiplier: 'auto', n_epochs: 'auto' },
      model: 'sd',
      organization_id: 'org-atelier',
      result_files: [],
      seed: 3,
      status: 'running',
      trained_tokens: null,
      training_file: 'file-a',
      validation_file: null,
      estimated_finish: 1234,
      integrations: null,
      metadata: null,
      user_provided_suffix: null,
      method: {
        type: 'dreambooth',
        dreambooth: { hyperparameters: { class_name: 'dog', n_steps: 4, batch_size: 2, lora_rank: 8 } },
      },
    });
    assert.equal(fineTuningJobToWire({ ...job, status: 'queued' }, 1234).estimated_finish, null);
  });

  it('flattens a metrics event beside step, total_steps and train_loss; renames atelier fields only', () => {
    const data = { step: 2, metrics: { loss: 0.5, grad_norm: 1 }, totalSteps: 4, trainLoss: 0.5 };
    assert.deepEqual(Object.entries(eventDataToWire(data)), [
      ['step', 2],
      ['loss', 0.5],
      ['grad_norm', 1],
      ['total_steps', 4],
      ['train_loss', 0.5],
    ]);
    assert.deepEqual(eventDataToWire({ count: 1, cacheHit: false }), { count: 1, cache_hit: false });
    assert.deepEqual(eventDataToWire(null), {});
  });

  it('renders checkpoint metrics in OpenAI names', () => {
    const checkpoint = { id: 'ftckpt-1', createdAt: 5, step: 2, metrics: { step: 2, trainLoss: 0.25 } };
    assert.deepEqual(fineTuningCheckpointToWire(checkpoint, 'ftjob-1', 'm:ckpt-step-2'), {
      id: 'ftckpt-1',
      object: 'fine_tuning.job.checkpoint',
      created_at: 5,
      fine_tuned_model_checkpoint: 'm:ckpt-step-2',
      fine_tuning_job_id: 'ftjob-1',
      metrics: { step: 2, train_loss: 0.25 },
      step_number: 2,
    });
  });
});

describe('files, models and images wire', () => {
  it('renders the file, model and image objects', () => {
    const file = { id: 'file-1', bytes: 3, createdAt: 9, filename: 'a.png', purpose: 'fine-tune', status: 'processed' };
    assert.deepEqual(fileToWire(file), {
      id: 'file-1',
      object: 'file',
      bytes: 3,
      created_at: 9,
      filename: 'a.png',
      purpose: 'fine-tune',
      status: 'processed',
      status_details: null,
      expires_at: null,
    });
    assert.deepEqual(modelListToWire([{ name: 'org/m', createdAt: 1, ownedBy: 'org', format: 'gguf' }]), {
      object: 'list',
      data: [{ id: 'org/m', object: 'model', created: 1, owned_by: 'org', format: 'gguf' }],
    });
    assert.deepEqual(imagesResponseToWire('a dog', [{ seed: 4, url: 'http://h/images/x.png' }], 7), {
      created: 7,
      data: [{ revised_prompt: 'a dog', seed: 4, url: 'http://h/images/x.png' }],
    });
    const done = imageCompletedToWire({ index: 1, seed: 4, b64Json: 'AA==', width: 64, height: 32 }, 7);
    assert.deepEqual(
      [done.type, done.size, done.b64_json, done.created_at, done.index],
      ['image_generation.completed', '64x32', 'AA==', 7, 1],
    );
  });
});

describe('pagination', () => {
  const items = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
  const ids = (page: { data: { id: string }[] }) => page.data.map((item) => item.id);

  it('pages an in-memory list after a cursor, with has_more and the first and last ids', () => {
    const first = pageOf(items, { after: null, limit: 2 }, 'Thing', (item) => item);
    assert.deepEqual([ids(first), first.has_more, first.first_id, first.last_id], [['a', 'b'], true, 'a', 'b']);
    const last = pageOf(items, { after: 'c', limit: 2 }, 'Thing', (item) => item);
    assert.deepEqual([ids(last), last.has_more], [['d', 'e'], false]);
    assert.deepEqual(cursorPage([], false), {
      object: 'list',
      data: [],
      has_more: false,
      first_id: null,
      last_id: null,
    });
  });

  it('refuses a cursor naming no item', () => {
    assert.throws(
      () => pageOf(items, { after: 'zz', limit: 2 }, 'Thing', (item) => item),
      (error: unknown) =>
        error instanceof InvalidRequestError &&
        error.param === 'after' &&
        /No such Thing object: zz/.test(error.message),
    );
  });
});
