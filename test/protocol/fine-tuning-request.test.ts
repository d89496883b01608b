import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError, parseCursorParams, parseFineTuningJobCreate } from '../../src/protocol/index.js';

const method = (hyperparameters: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'dreambooth',
  dreambooth: { hyperparameters, ...extra },
});

/** The `param` of the InvalidRequestError that parsing `body` throws. */
function paramOf(body: unknown): string | null {
  try {
    parseFineTuningJobCreate(body);
  } catch (error) {
    assert.ok(error instanceof InvalidRequestError, String(error));
    return error.param;
  }
  assert.fail('expected a 400');
}

describe('parseFineTuningJobCreate', () => {
  it('accepts a DreamBooth request and fills the defaults', () => {
    const body = parseFineTuningJobCreate({
      model: 'tiny-sd',
      training_file: 'file-a',
      method: method({ class_name: 'dog', n_steps: 4, mode: 'lora', preset: '8gb' }, { instance_files: ['file-b'] }),
      suffix: 'my-dog',
    });
    assert.deepEqual(body, {
      model: 'tiny-sd',
      trainingFile: 'file-a',
      instanceFiles: ['file-b'],
      hyperparameters: { className: 'dog', nSteps: 4, mode: 'lora', preset: '8gb' },
      config: null,
      curation: null,
      seed: null,
      suffix: 'my-dog',
      metadata: null,
    });
  });

  it('takes method.dreambooth.curation (atelier extension), which makes class_name optional', () => {
    const body = (curation: unknown, hyperparameters: object = {}) => ({
      model: 'tiny-sd',
      training_file: 'file-a',
      method: { type: 'dreambooth', dreambooth: { hyperparameters, curation } },
    });
    const parsed = parseFineTuningJobCreate(body({ model: 'atelier-demo-vlm' }));
    assert.deepEqual(parsed.curation, { model: 'atelier-demo-vlm', captions: true, minSize: null, seed: 0 });
    assert.deepEqual(parsed.hyperparameters, {});
    const full = parseFineTuningJobCreate(
      body({ model: 'v', captions: false, min_size: 64, seed: 7 }, { class_name: 'dog' }),
    );
    assert.deepEqual(full.curation, { model: 'v', captions: false, minSize: 64, seed: 7 });
    const refused = (curation: unknown, param: string) =>
      assert.throws(
        () => parseFineTuningJobCreate(body(curation)),
        (e: unknown) => e instanceof InvalidRequestError && e.param === param,
      );
    refused({}, 'method.dreambooth.curation.model');
    refused({ model: 'v', min_size: 0 }, 'method.dreambooth.curation.min_size');
    refused({ model: 'v', captions: 'yes' }, 'method.dreambooth.curation.captions');
    refused('v', 'method.dreambooth.curation');
    refused(undefined, 'method.dreambooth.hyperparameters.class_name');
  });

  const bad: [string, unknown, string][] = [
    ['no model', { training_file: 'f', method: method({ class_name: 'dog' }) }, 'model'],
    ['no training file', { model: 'm', method: method({ class_name: 'dog' }) }, 'training_file'],
    ['supervised method', { model: 'm', training_file: 'f', method: { type: 'supervised' } }, 'method.type'],
    [
      'no class',
      { model: 'm', training_file: 'f', method: method({}) },
      'method.dreambooth.hyperparameters.class_name',
    ],
    [
      'bad preset',
      { model: 'm', training_file: 'f', method: method({ class_name: 'd', preset: '4gb' }) },
      'method.dreambooth.hyperparameters.preset',
    ],
    [
      'fractional steps',
      { model: 'm', training_file: 'f', method: method({ class_name: 'd', n_steps: 2.5 }) },
      'method.dreambooth.hyperparameters.n_steps',
    ],
    [
      'unknown hyperparameter',
      { model: 'm', training_file: 'f', method: method({ class_name: 'd', epochs: 3 }) },
      'method.dreambooth.hyperparameters.epochs',
    ],
    [
      'resolution not /8',
      { model: 'm', training_file: 'f', method: method({ class_name: 'd', resolution: 30 }) },
      'method.dreambooth.hyperparameters.resolution',
    ],
    [
      'two-word identifier',
      { model: 'm', training_file: 'f', method: method({ class_name: 'd', identifier: 'a b' }) },
      'method.dreambooth.hyperparameters.identifier',
    ],
    ['unknown top-level key', { model: 'm', training_file: 'f', method: method({ class_name: 'd' }), foo: 1 }, 'foo'],
    ['bad suffix', { model: 'm', training_file: 'f', method: method({ class_name: 'd' }), suffix: 'a b' }, 'suffix'],
    [
      'non-array files',
      { model: 'm', training_file: 'f', method: method({ class_name: 'd' }, { instance_files: 'x' }) },
      'method.dreambooth.instance_files',
    ],
  ];
  for (const [name, body, param] of bad) {
    it(`rejects ${name} naming '${param}'`, () => assert.equal(paramOf(body), param));
  }
});

describe('parseCursorParams', () => {
  it('reads after/limit and refuses out-of-range limits', () => {
    assert.deepEqual(parseCursorParams({ after: 'ftjob-1', limit: '5' }), { after: 'ftjob-1', limit: 5 });
    assert.deepEqual(parseCursorParams({}), { after: null, limit: 20 });
    assert.throws(() => parseCursorParams({ limit: '0' }), InvalidRequestError);
    assert.throws(() => parseCursorParams({ limit: '101' }), InvalidRequestError);
  });
});
