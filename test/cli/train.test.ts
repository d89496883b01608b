import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildProgram, type CliDeps } from '../../src/cli/index.js';
import { runTrain, type TrainOptions } from '../../src/cli/train.js';
import { ModelRegistry } from '../../src/models/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { makeTinySd, tempDir } from '../personalize/fixtures.js';
import { subjectPhoto } from '../personalize/subject-photos.js';

/** Runs a whole `atelier …` command line in-process (the real program and its global options). */
async function atelier(...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const deps: CliDeps = {
    version: '0.0.0',
    demoModels: [],
    python: { isReady: () => true, ensure: async () => undefined },
    routes: () => [],
    out: (text) => void (out += text),
    err: (text) => void (err += text),
  };
  await buildProgram(deps).parseAsync(['node', 'atelier', ...args]);
  return { out, err };
}

/** Runs `atelier train` in-process on `store`, capturing what it prints. */
async function train(store: Store, options: Partial<TrainOptions>) {
  let out = '';
  let err = '';
  const io = { out: (text: string) => void (out += text), err: (text: string) => void (err += text) };
  const code = await runTrain({ store, registry: new ModelRegistry(store) }, { prior: true, set: [], ...options }, io);
  return { code, out, err };
}

describe('atelier train', () => {
  it('trains a subject folder on a base given by path and prints the new model', async (t) => {
    const dir = tempDir(t, 'cli-train');
    const tiny = makeTinySd(dir);
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    for (let i = 0; i < 3; i++) writeFileSync(join(photos, `dog-${i}.png`), subjectPhoto(i));
    writeFileSync(join(photos, 'notes.txt'), 'not a photo');
    const store = openStore(join(dir, 'home'));
    t.after(() => store.close());
    const common = { subject: photos, class: 'dog', resolution: 32, classImages: 2 };

    const missing = await train(store, { class: 'dog' });
    assert.equal(missing.code, 1);
    assert.match(missing.err, /error: --subject is required/);

    // Through the real program: `--config` after the verb is the training config, not the server's config file.
    writeFileSync(join(dir, 'bad.yaml'), 'train:\n  learning_rat: 0.1\n');
    const bad = await atelier(
      '--home',
      join(dir, 'home'),
      'train',
      '--subject',
      photos,
      '--class',
      'dog',
      '--model',
      tiny,
      '--resolution',
      '32',
      '--config',
      join(dir, 'bad.yaml'),
    );
    assert.equal(process.exitCode, 1);
    process.exitCode = 0;
    assert.match(bad.err, /invalid training config/);
    assert.match(bad.err, /train\.learning_rat: unknown key \(.*\blr\b/);

    writeFileSync(join(dir, 'good.yaml'), 'prior:\n  sample_steps: 2\ntracking:\n  tensorboard: false\n');
    const good = await train(store, {
      ...common,
      model: 'tiny-sd',
      steps: 2,
      checkpointEvery: 1,
      config: join(dir, 'good.yaml'),
    });
    assert.equal(good.code, 0, good.err);
    const name = /^fine-tuned model: (ft:tiny-sd:dreambooth:\w+) \(job ftjob-\w+, [\dhms]+\)\n$/.exec(good.out)?.[1];
    assert.ok(name, good.out);
    assert.match(good.err, /class images ready: 2 \((cached|2 generated)\)/);
    assert.match(good.err, /checkpoint saved at step 1: /);
    assert.match(good.err, /training 2\/2 loss \d+\.\d{4}/);
    assert.equal(store.models.get(name)?.metadata.base_model, 'tiny-sd');
  });

  it("passes --adapter to the worker and trains at the base model's native size without --resolution", async (t) => {
    const dir = tempDir(t, 'cli-train-adapter');
    const tiny = makeTinySd(dir);
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    for (let i = 0; i < 3; i++) writeFileSync(join(photos, `dog-${i}.png`), subjectPhoto(i));
    const store = openStore(join(dir, 'home'));
    t.after(() => store.close());
    const common = { subject: photos, class: 'dog', model: tiny, classImages: 2, set: ['prior.sample_steps=2'] };

    const bad = await train(store, { ...common, adapter: 'lokx' });
    assert.equal(bad.code, 1);
    assert.match(bad.err, /lora\.adapter/);

    const good = await train(store, { ...common, adapter: 'lokr', steps: 2 });
    assert.equal(good.code, 0, good.err);
    const files = readdirSync(join(dir, 'home'), { recursive: true }).map(String);
    assert.ok(
      files.some((f) => f.endsWith('lycoris_kohya.safetensors')),
      files.join('\n'),
    );
    const configs = files.filter((f) => f.endsWith('config.json') && f.includes('fine-tunes'));
    const job = configs
      .map((f) => JSON.parse(readFileSync(join(dir, 'home', f), 'utf8')) as { data?: { resolution?: number } })
      .find((c) => c.data?.resolution !== undefined);
    assert.equal(job?.data?.resolution, 32);
  });
});
