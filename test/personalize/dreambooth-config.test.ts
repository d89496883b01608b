import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDreamboothConfig, type JobPaths } from '../../src/personalize/dreambooth-config.js';
import { canTransition, isTerminal } from '../../src/personalize/job-state.js';

const paths: JobPaths = {
  root: '/h/fine-tunes/j',
  instanceDir: '/h/fine-tunes/j/instance',
  outputDir: '/h/fine-tunes/j/output',
  checkpointDir: '/h/fine-tunes/j/checkpoints',
  classImageCache: '/h/cache/class-images',
};

describe('buildDreamboothConfig', () => {
  it('maps hyperparameters onto the worker sections, with atelier-owned paths winning', () => {
    const config = buildDreamboothConfig({
      basePath: '/models/sd',
      hyperparameters: { className: 'dog', nSteps: 6, learningRate: 1e-4, preset: '8gb', loraRank: 8 },
      seed: 7,
      paths,
      fileConfig: { train: { grad_accum: 2, max_steps: 100 }, data: { flip_p: 0.5 } },
      overrides: { output: { dir: '/elsewhere' }, prior: { sample_steps: 3 } },
    });
    assert.deepEqual(config, {
      recipe: 'lora',
      preset: '8gb',
      train: { grad_accum: 2, max_steps: 6, lr: 1e-4, seed: 7 },
      data: {
        flip_p: 0.5,
        instance_prompt: 'a photo of sks dog',
        class_prompt: 'a photo of dog',
        instance_dir: paths.instanceDir,
      },
      lora: { rank: 8, alpha: 8 },
      prior: { sample_steps: 3, cache_dir: paths.classImageCache },
      model: { base: '/models/sd' },
      checkpoint: { dir: paths.checkpointDir, resume: 'auto' },
      output: { dir: paths.outputDir },
    });
  });

  it('turns prior preservation off when there is no class prompt, and keeps a config file recipe', () => {
    const config = buildDreamboothConfig({
      basePath: '/m',
      hyperparameters: { instancePrompt: 'a photo of zwx' },
      seed: 0,
      paths,
      fileConfig: { recipe: 'full' },
    });
    assert.equal(config.recipe, 'full');
    assert.deepEqual(config.prior, { enabled: false, cache_dir: paths.classImageCache });
  });
});

describe('job state machine', () => {
  it('allows the lifecycle edges and nothing out of a terminal state', () => {
    assert.ok(canTransition('validating_files', 'queued'));
    assert.ok(canTransition('running', 'queued'), 'a shutdown re-queues a running job');
    assert.ok(!canTransition('queued', 'succeeded'));
    for (const status of ['succeeded', 'failed', 'cancelled'] as const) {
      assert.ok(isTerminal(status));
      assert.ok(!canTransition(status, 'running'));
    }
  });
});
