/**
 * The plan logic without a model: how atelier's own checks, a judge's verdicts and the user's class combine. The
 * judge here is a table of verdicts by photo name (the real VLM judge is exercised in test/cli/curate.test.ts and
 * test/e2e/fine-tuning-curation.test.ts); photos are real PNGs decoded by sharp.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  curatePhotos,
  differenceHash,
  hashDistance,
  keptPhotos,
  parseCurationPlan,
  planCaptions,
  type PhotoVerdict,
} from '../../src/personalize/index.js';
import { InvalidRequestError } from '../../src/protocol/index.js';
import { subjectPhoto } from './subject-photos.js';

const ok = (class_noun: string, caption = 'a caption'): PhotoVerdict => ({
  subject_present: true,
  class_noun,
  caption,
  problems: [],
});
const photos = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `p${i}.png`, bytes: subjectPhoto(i) }));
const tableJudge = (verdicts: Record<string, PhotoVerdict>) => async (photo: { name: string }) => verdicts[photo.name]!;

describe('curation plan', () => {
  it('personalize/ (curation included) imports nothing above it: the VLM comes in as a PhotoJudge function', () => {
    const root = join(import.meta.dirname, '..', '..', 'src', 'personalize');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(files.includes(join('curation', 'curation-plan.ts')));
    for (const file of files) {
      const imports = [...readFileSync(join(root, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      const upward = imports.filter((spec) => /\/(chat|engines|server|cli|structure)\//.test(spec));
      assert.deepEqual(upward, [], file);
    }
  });

  it('dHash: a re-encoded, brightened copy is within a few bits; different photos are far apart', async () => {
    const a = await differenceHash(subjectPhoto(1));
    const copy = await differenceHash(await sharp(subjectPhoto(1)).modulate({ brightness: 1.05 }).jpeg().toBuffer());
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.ok(hashDistance(a, copy) <= 6, `copy at ${hashDistance(a, copy)} bits`);
    assert.ok(hashDistance(a, await differenceHash(subjectPhoto(2))) > 10);
    assert.equal(hashDistance('ffffffffffffffff', '0000000000000000'), 64);
  });

  it('proposes the majority noun (normalised; ties to the first seen), keeps one-line captions, and a given class wins', async () => {
    const judge = tableJudge({
      'p0.png': ok(' Dog\n'),
      'p1.png': ok('cat', 'on\r\na rug'),
      'p2.png': ok('dog'),
      'p3.png': ok('cat'),
    });
    const plan = await curatePhotos(photos(4), { model: 'vlm', judge, className: null, minSize: 16 });
    assert.equal(plan.class_noun, 'dog');
    assert.equal(plan.class_noun_source, 'majority');
    assert.deepEqual(plan.class_votes, [
      { noun: 'dog', votes: 2 },
      { noun: 'cat', votes: 2 },
    ]);
    assert.equal(plan.photos[1]!.caption, 'on a rug');
    const given = await curatePhotos(photos(4), {
      model: 'vlm',
      judge,
      className: '  Golden  Retriever ',
      minSize: 16,
    });
    assert.deepEqual([given.class_noun, given.class_noun_source], ['golden retriever', 'given']);
    assert.deepEqual(parseCurationPlan(JSON.parse(JSON.stringify(given))), given);
  });

  it("drops on the VLM's serious findings only while more than 3 photos stay; mild ones are warnings", async () => {
    const judge = tableJudge({
      'p0.png': { ...ok('dog'), problems: ['blur', 'blur'] },
      'p1.png': { ...ok('dog'), subject_present: false },
      'p2.png': { ...ok('dog'), problems: ['low_light'] },
      'p3.png': { ...ok('dog'), problems: ['text_overlay'] },
      'p4.png': ok('dog'),
    });
    const plan = await curatePhotos(photos(5), { model: 'vlm', judge, className: null, minSize: 16 });
    const line = (i: number) => plan.photos[i]!;
    assert.deepEqual(line(0).reasons, [{ code: 'blur', message: 'the VLM reports blur' }]);
    assert.deepEqual(line(0).verdict!.problems, ['blur']);
    assert.equal(line(1).keep, false);
    assert.equal(line(1).reasons[0]!.code, 'no_subject');
    assert.deepEqual([line(2).keep, line(2).warnings.map((w) => w.code)], [true, ['low_light']]);
    // Dropping p3 too would leave 2: it stays, with the finding as a warning.
    assert.deepEqual([line(3).keep, line(3).warnings.map((w) => w.code)], [true, ['text_overlay']]);
    assert.deepEqual([plan.kept, plan.dropped], [3, 2]);
  });

  it('own checks: too small and undecodable photos never reach the judge', async () => {
    const asked: string[] = [];
    const judge = async (photo: { name: string }) => (asked.push(photo.name), ok('dog'));
    const input = [...photos(3), { name: 'junk.png', bytes: new Uint8Array([1, 2, 3]) }];
    const plan = await curatePhotos(input, { model: 'vlm', judge, className: null });
    assert.deepEqual(
      plan.photos.map((p) => p.reasons[0]?.code),
      ['too_small', 'too_small', 'too_small', 'decode_failed'],
    );
    assert.deepEqual(asked, []);
    assert.equal(plan.class_noun, null);
    assert.equal(plan.class_noun_source, 'none');
  });

  it('applying a plan: unknown photos and malformed plans are 400s; captions lead with the instance prompt', async () => {
    const plan = await curatePhotos(photos(3), { model: null, judge: null, className: 'dog', minSize: 16 });
    assert.equal(plan.model, null);
    assert.deepEqual(
      keptPhotos(photos(3), plan, 'p').map((p) => p.name),
      ['p0.png', 'p1.png', 'p2.png'],
    );
    assert.throws(
      () => keptPhotos(photos(4), plan, 'p'),
      (e: unknown) => e instanceof InvalidRequestError && /p3\.png/.test(e.message),
    );
    assert.deepEqual(
      planCaptions(['p0.png'], { ...plan, photos: [{ ...plan.photos[0]!, caption: 'asleep' }] }, 'a photo of sks dog'),
      [{ file_name: 'p0.png', text: 'a photo of sks dog, asleep' }],
    );
    assert.throws(
      () => parseCurationPlan({ ...plan, photos: [{ name: 'x' }] }, '--plan'),
      (e: unknown) =>
        e instanceof InvalidRequestError && e.param === '--plan' && /must have required property/.test(e.message),
    );
  });
});
