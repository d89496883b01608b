import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { runTrain, type TrainOptions } from '../../src/cli/train.js';
import { openStore } from '../../src/store/index.js';
import { makeTinySd, tempDir } from '../personalize/fixtures.js';
import { subjectPhoto } from '../personalize/subject-photos.js';

/** Runs `atelier train` in-process, capturing what it prints. */
async function train(options: Partial<TrainOptions>) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runTrain({ prior: true, set: [], ...options }, { stdout, stderr, interactive: false });
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
    const home = join(dir, 'home');
    const common = { subject: photos, class: 'dog', home, resolution: 32, classImages: 2 };

    const missing = await train({ home, class: 'dog' });
    assert.equal(missing.code, 1);
    assert.match(missing.err, /error: --subject is required/);

    writeFileSync(join(dir, 'bad.yaml'), 'train:\n  learning_rat: 0.1\n');
    const bad = await train({ ...common, model: tiny, config: join(dir, 'bad.yaml') });
    assert.equal(bad.code, 1);
    assert.match(bad.err, /invalid training config/);
    assert.match(bad.err, /train\.learning_rat: unknown key \(.*\blr\b/);

    writeFileSync(join(dir, 'good.yaml'), 'prior:\n  sample_steps: 2\ntracking:\n  tensorboard: false\n');
    const good = await train({ ...common, model: 'tiny-sd', steps: 2, checkpointEvery: 1, config: join(dir, 'good.yaml') });
    assert.equal(good.code, 0, good.err);
    const name = /^fine-tuned model: (ft:tiny-sd:dreambooth:\w+) \(job ftjob-\w+, [\dhms]+\)\n$/.exec(good.out)?.[1];
    assert.ok(name, good.out);
    assert.match(good.err, /class images ready: 2 \((cached|2 generated)\)/);
    assert.match(good.err, /checkpoint saved at step 1: /);
    assert.match(good.err, /training 2\/2 loss \d+\.\d{4}/);
    const store = openStore(home);
    t.after(() => store.close());
    assert.equal(store.models.get(name)?.metadata.base_model, 'tiny-sd');
  });
});
