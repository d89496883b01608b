/**
 * `atelier curate` and `atelier train --plan/--curate` through the real program: the generated demo VLM judges
 * photos under the constrained decoder, atelier's own checks drop a corrupt file and a near-duplicate, and the plan
 * validates against the shipped schema (two validators) — then trains the tiny SD from it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { registerSchema, validate } from '@hyperjump/json-schema/draft-2020-12';
import { Ajv2020 } from 'ajv/dist/2020.js';
import sharp from 'sharp';
import { ChatModelPool } from '../../src/chat/index.js';
import { buildProgram, type CliDeps } from '../../src/cli/index.js';
import { OnnxEngine } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { curationPlanSchema, type CurationPlan } from '../../src/personalize/index.js';
import { openStore } from '../../src/store/index.js';
import { makeTinySd } from '../personalize/fixtures.js';
import { subjectPhoto } from '../personalize/subject-photos.js';

const VLM = 'atelier-demo-vlm';
const shippedSchema = JSON.parse(
  readFileSync(new URL('../../docs/curation-plan.schema.json', import.meta.url), 'utf8'),
) as object;

/** Runs a whole `atelier …` command line in-process with real ONNX chat engines; returns output and exit status. */
async function atelier(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const deps: CliDeps = {
    version: '0.0.0',
    demoModels: [],
    python: { isReady: () => true, ensure: async () => undefined },
    routes: () => [],
    chatPool: () =>
      new ChatModelPool({ engines: { onnx: async () => new OnnxEngine({ threads: 1 }) }, contextSize: 1024 }),
    out: (text) => void (out += text),
    err: (text) => void (err += text),
  };
  process.exitCode = 0;
  await buildProgram(deps).parseAsync(['node', 'atelier', ...args]);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, err, code };
}

/** 4 good photos, a truncated PNG (header fine, pixels missing) and a brightened JPEG copy of photo 1. */
async function photoFolder(dir: string): Promise<string> {
  const photos = join(dir, 'photos');
  mkdirSync(photos);
  for (let i = 0; i < 4; i++) writeFileSync(join(photos, `dog-${i}.png`), subjectPhoto(i));
  writeFileSync(join(photos, 'dog-9.png'), subjectPhoto(4).subarray(0, 90));
  writeFileSync(
    join(photos, 'dog-1b.jpg'),
    await sharp(subjectPhoto(1)).modulate({ brightness: 1.05 }).jpeg({ quality: 90 }).toBuffer(),
  );
  writeFileSync(join(photos, 'notes.txt'), 'not a photo');
  return photos;
}

async function checkWithHyperjump(plan: unknown): Promise<boolean> {
  const id = 'https://atelier.local/schemas/curation-plan.schema.json';
  registerSchema(shippedSchema as Parameters<typeof registerSchema>[0], id);
  const check = await validate(id);
  return check(plan as Parameters<typeof check>[0]).valid;
}

describe('atelier curate', () => {
  let dir: string;
  let home: string;
  let photos: string;
  let tiny: string;
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-cli-curate-'));
    home = join(dir, 'home');
    const store = openStore(home);
    const vlm = demoModels.find((m) => m.name === VLM)!;
    new ModelRegistry(store).addLocal(await vlm.generate(join(dir, 'vlm'), { seed: 1 }), { name: VLM });
    store.close();
    photos = await photoFolder(dir);
    tiny = makeTinySd(dir);
  });

  it('ships the schema it validates with', () => {
    assert.deepEqual(shippedSchema, JSON.parse(JSON.stringify(curationPlanSchema)));
  });

  it('--json: a plan valid under both validators, the two bad photos dropped with reasons, a class proposed, same seed same plan', async () => {
    const run = await atelier('--home', home, 'curate', photos, '--json', '--seed', '3', '--min-size', '16');
    assert.equal(run.code, 0, run.err);
    const plan = JSON.parse(run.out) as CurationPlan;
    const ajv = new Ajv2020({ strict: false }).compile(shippedSchema);
    assert.ok(ajv(plan), JSON.stringify(ajv.errors));
    assert.ok(await checkWithHyperjump(plan));
    assert.deepEqual(
      plan.photos.map((p) => p.name),
      ['dog-0.png', 'dog-1.png', 'dog-1b.jpg', 'dog-2.png', 'dog-3.png', 'dog-9.png'],
    );
    const byName = new Map(plan.photos.map((p) => [p.name, p]));
    assert.deepEqual(
      byName.get('dog-9.png')!.reasons.map((r) => r.code),
      ['decode_failed'],
    );
    assert.equal(byName.get('dog-9.png')!.keep, false);
    const twin = byName.get('dog-1b.jpg')!;
    assert.equal(twin.keep, false);
    assert.equal(twin.reasons[0]!.code, 'near_duplicate');
    assert.match(twin.reasons[0]!.message, /near-duplicate of dog-1\.png \(dHash distance \d+ ≤ 10\)/);
    for (const photo of plan.photos) assert.equal(photo.keep, photo.reasons.length === 0, photo.name);
    assert.ok(plan.kept >= 3 && plan.kept + plan.dropped === 6, `kept ${plan.kept}`);
    // Every photo that passed atelier's checks was judged, and the verdicts decode under the schema.
    for (const name of ['dog-0.png', 'dog-1.png', 'dog-2.png', 'dog-3.png']) assert.ok(byName.get(name)!.verdict, name);
    assert.equal(plan.model, VLM);
    if (plan.class_noun === null) assert.deepEqual(plan.class_votes, []);
    else {
      assert.equal(plan.class_noun_source, 'majority');
      assert.equal(plan.class_noun, plan.class_votes[0]!.noun);
    }
    const again = await atelier('--home', home, 'curate', photos, '--json', '--seed', '3', '--min-size', '16');
    assert.equal(again.out, run.out);
    writeFileSync(join(dir, 'plan.json'), run.out);
  });

  it('--class wins over the votes; the table names each decision; photos under --min-size are dropped', async () => {
    const run = await atelier('--home', home, 'curate', photos, '--class', ' Dog ', '--seed', '3');
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^PHOTO +PLAN +SIZE +CAPTION \/ WHY DROPPED\n/);
    assert.match(run.out, /dog-9\.png +drop +- +decode_failed: /);
    // Default min size 256 px: 48 px photos are all too small.
    assert.match(run.out, /dog-0\.png +drop +48x48 +too_small: 48x48 px; need at least 256 px/);
    assert.match(run.out, /class noun: dog \(given\)/);
    const bad = await atelier('--home', home, 'curate', join(dir, 'nowhere'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /nowhere: no such file or folder/);
  });

  it('atelier train --plan trains on the kept photos with the (edited) captions and records the plan', async () => {
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as CurationPlan;
    plan.photos.find((p) => p.keep)!.caption = 'on a blue rug';
    plan.class_noun = null;
    writeFileSync(join(dir, 'edited.json'), JSON.stringify(plan));
    const common = [
      '--home',
      home,
      'train',
      '--subject',
      photos,
      '--model',
      tiny,
      '--resolution',
      '32',
      '--steps',
      '1',
      '--no-prior',
    ];
    const notJson = await atelier(...common, '--plan', join(dir, 'photos', 'notes.txt'));
    assert.equal(notJson.code, 1);
    assert.match(notJson.err, /^error: --plan .*notes\.txt: Unexpected token/m);
    const noClass = await atelier(...common, '--plan', join(dir, 'edited.json'));
    assert.equal(noClass.code, 1);
    assert.match(noClass.err, /Curation proposed no class noun; set 'class_name'/);
    const run = await atelier(...common, '--class', 'dog', '--plan', join(dir, 'edited.json'));
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^fine-tuned model: ft:tiny-sd:dreambooth:\w+ \(job (ftjob-\w+), /);
    const jobId = /\(job (ftjob-\w+),/.exec(run.out)![1]!;
    const instance = join(home, 'fine-tunes', jobId, 'instance');
    const kept = plan.photos.filter((p) => p.keep).map((p) => p.name);
    const rows = readFileSync(join(instance, 'metadata.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file_name: string; text: string });
    assert.deepEqual(
      rows.map((r) => r.file_name),
      kept,
    );
    assert.equal(rows[0]!.text, 'a photo of sks dog, on a blue rug');
    const store = openStore(home);
    try {
      const events = store.events.list(jobId, { limit: 100 }).data;
      const curated = events.find((e) => e.message.startsWith('Curated subject photos by atelier-demo-vlm'));
      assert.ok(curated, events.map((e) => e.message).join('\n'));
      assert.deepEqual((curated.data as { plan: unknown }).plan, plan);
      assert.ok(events.some((e) => e.message.startsWith('Dropped photo dog-9.png: ')));
    } finally {
      store.close();
    }
  });

  it('atelier train --curate makes the plan on the VLM, prints it, and trains', async () => {
    const run = await atelier(
      '--home',
      home,
      'train',
      '--subject',
      photos,
      '--model',
      tiny,
      '--resolution',
      '32',
      '--steps',
      '1',
      '--no-prior',
      '--curate',
      VLM,
      '--class',
      'dog',
    );
    assert.equal(run.code, 0, run.err);
    assert.match(run.err, /dog-1b\.jpg +drop +48x48 +near_duplicate: /);
    assert.match(run.err, /class noun: dog \(given\)/);
    assert.match(run.out, /^fine-tuned model: /);
  });
});
