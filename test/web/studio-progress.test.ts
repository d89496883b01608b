/**
 * The studio's Images and Personalize habits against the real server with the tiny Stable Diffusion demo: sizes
 * from the model and checked before asking, "image 1 of 2" in seed order, a gallery that survives a reload and a
 * server restart, a suffix typo refused before any upload, a class-image phase whose bar advances (counts and ETA
 * as job events), jobs named by their suffix, checkpoints usable as models, base vs fine-tuned on one seed, and
 * screenshots of both tabs at 1400 and 390 px.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { screenshot, sidewaysOverflow, startStudio, until, waitForModel, type Studio } from './studio-harness.js';

const SD = 'atelier-demo-sd';
const photos = [0, 1, 2].map((i) => ({
  name: `ball-${i}.png`,
  mimeType: 'image/png',
  buffer: Buffer.from(subjectPhoto(i)),
}));

interface EventWire {
  message: string;
  data: Record<string, unknown>;
}

/** The gallery's cards as [caption line, seed]. */
async function cards(page: Page): Promise<string[][]> {
  return page
    .locator('#images-gallery figure')
    .evaluateAll((figures) =>
      figures.map((f) => [f.querySelector('.batch-index')?.textContent ?? '', f.getAttribute('data-seed') ?? '']),
    );
}

describe('web studio: images, gallery and DreamBooth progress in headless Chromium', () => {
  let studio: Studio;
  let page: Page;
  const ft = () => page.locator('#panel-personalize');
  before(async () => {
    studio = await startStudio({ python: true, viewport: { width: 1400, height: 900 } });
    page = studio.page;
    await waitForModel(studio, SD);
  });
  after(async () => {
    await studio.close();
  });

  it('offers sizes from the model, says its native size, and refuses a bad size before asking', async () => {
    await page.locator('#tab-images').click();
    await page.locator(`#images-model option[value="${SD}"]`).waitFor({ state: 'attached' });
    await until(async () => (await page.locator('#images-size').getAttribute('placeholder')) === 'native 32x32');
    assert.deepEqual(
      await page
        .locator('#image-sizes option')
        .evaluateAll((o) => o.map((x) => (x as unknown as { value: string }).value)),
      ['32x32', '48x32', '32x48', '64x64'],
    );
    assert.match(
      await page.locator('#images-size-hint').innerText(),
      /multiples of 8 from 8 to 2048; trained at 32x32/,
    );
    assert.equal(await page.locator('#images-guidance').getAttribute('placeholder'), 'default');
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/v1/images/generations')) requests.push(r.url());
    });
    await page.locator('#images-prompt').fill('a red ball');
    await page.locator('#images-size').fill('30x30');
    await page.locator('#panel-images').getByRole('button', { name: 'Generate' }).click();
    await page
      .locator('#panel-images')
      .getByRole('alert')
      .filter({ hasText: 'multiples of 8 from 8 to 2048; 30 is not' })
      .waitFor();
    await page.locator('#images-size').fill('64');
    await page.locator('#panel-images').getByRole('button', { name: 'Generate' }).click();
    await page.locator('#panel-images').getByRole('alert').filter({ hasText: 'Size must be WIDTHxHEIGHT' }).waitFor();
    assert.deepEqual(requests, [], 'nothing was sent');
  });

  it('labels a batch "image i of n" in seed order and keeps the gallery across a reload and a restart', async () => {
    await page.locator('#images-size').fill('');
    for (const [id, value] of [
      ['steps', '2'],
      ['seed', '42'],
      ['n', '2'],
    ])
      await page.locator(`#images-${id}`).fill(value!);
    await page.locator('#panel-images').getByRole('button', { name: 'Generate' }).click();
    await until(async () => (await page.locator('#images-gallery figure').count()) === 2);
    const shown = [
      ['image 1 of 2', '42'],
      ['image 2 of 2', '43'],
    ];
    assert.deepEqual(await cards(page), shown);
    assert.equal((await studio.api<{ data: unknown[] }>('/v1/studio/images')).data.length, 2);
    await page.reload();
    await page.locator('#tab-images').click();
    await until(async () => (await page.locator('#images-gallery figure img[src^="blob:"]').count()) === 2);
    assert.deepEqual(await cards(page), shown);
    assert.equal(await page.locator('#images-seed').inputValue(), '42', 'the form came back too');
    await studio.restart();
    await page.locator('#tab-images').click();
    await until(async () => (await page.locator('#images-gallery figure img[src^="blob:"]').count()) === 2);
    assert.deepEqual(await cards(page), shown, 'the gallery survived the restart');
    await page.locator('#images-gallery figure').first().getByRole('button', { name: 'Reuse seed' }).click();
    assert.equal(await page.locator('#images-seed').inputValue(), '42');
    for (const width of [1400, 390]) {
      await page.setViewportSize({ width, height: 900 });
      assert.deepEqual(await sidewaysOverflow(page), { scroll: 0, wide: [] }, `images at ${width}px`);
      await screenshot(page, `sd-server-images-${width}`);
    }
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  it('refuses a suffix typo before any upload: no stray files on the server', async () => {
    await page.locator('#tab-personalize').click();
    await ft().locator(`#ft-model option[value="${SD}"]`).waitFor({ state: 'attached' });
    // Chromium compiles `pattern` with the v flag: the old "[A-Za-z0-9_-]+" was not a valid expression there.
    assert.equal(
      await ft()
        .locator('#ft-suffix')
        .evaluate((input) => (input as unknown as { validity: { valid: boolean } }).validity.valid),
      true,
    );
    await ft().getByLabel('Subject photos').setInputFiles(photos);
    await ft().getByLabel('Class word').fill('ball');
    await ft().getByLabel('Model suffix').fill('my ball!');
    assert.equal(
      await ft()
        .locator('#ft-suffix')
        .evaluate((input) => (input as unknown as { validity: { patternMismatch: boolean } }).validity.patternMismatch),
      true,
    );
    await ft().getByRole('button', { name: 'Upload and start training' }).click();
    const alert = ft().getByRole('alert').filter({ hasText: 'Model suffix' });
    await alert.waitFor();
    assert.equal(
      await alert.innerText(),
      'Model suffix: letters, digits, "-" and "_" only, up to 64 — "my ball!" has a space, "!".',
    );
    await ft().getByLabel('Resolution').fill('30');
    await ft().getByLabel('Model suffix').fill('my-ball');
    await ft().getByRole('button', { name: 'Upload and start training' }).click();
    await ft().getByRole('alert').filter({ hasText: 'Resolution: a multiple of 8' }).waitFor();
    assert.deepEqual((await studio.api<{ data: unknown[] }>('/v1/files')).data, []);
  });

  it('shows the class-image phase as a bar that advances, with counts and ETA as job events; names the job by its suffix', async (t) => {
    await ft().getByLabel('Resolution').fill('32');
    await ft().getByLabel('Steps').fill('2');
    await ft().locator('#ft-class-images').fill('12');
    assert.match(
      await ft().locator('#ft-class-cost').innerText(),
      /^12 images drawn by the base model before training/,
    );
    if ((await ft().locator('details.options').getAttribute('open')) === null)
      await ft().locator('details.options summary').click();
    // A cache folder of its own: class images cached by an earlier run would leave no phase to watch.
    const cacheDir = mkdtempSync(join(tmpdir(), 'atelier-class-cache-'));
    t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
    await ft()
      .locator('#ft-config')
      .fill(
        JSON.stringify({
          prior: { sample_steps: 6, sample_batch_size: 1, cache_dir: cacheDir },
          tracking: { tensorboard: false },
        }),
      );
    // Every value the class-image bar shows, as the page renders it.
    await page.evaluate(`window.classBar = []; new MutationObserver(() => {
      const bar = document.querySelector('#job-phases [data-phase="class_images"] progress');
      if (bar && window.classBar.at(-1) !== bar.value + '/' + bar.max) window.classBar.push(bar.value + '/' + bar.max);
    }).observe(document.getElementById('job-detail'), { subtree: true, childList: true, attributes: true })`);
    await ft().getByRole('button', { name: 'Upload and start training' }).click();
    const row = ft().locator('#jobs-list li[data-job]').first();
    await row.waitFor();
    assert.equal(await row.locator('.job-name').innerText(), 'my-ball', 'named by its suffix while it runs');
    const id = (await row.getAttribute('data-job'))!;
    await ft().locator('#job-summary[data-status="succeeded"]').waitFor({ timeout: 300_000 });
    await ft().locator('#job-phases [data-phase="class_images"] .phase-words', { hasText: '12/12' }).waitFor();
    assert.match(
      (await ft().locator('svg.loss-chart').getAttribute('aria-label')) ?? '',
      /^training loss from \d\.\d{4} to \d\.\d{4} over 2 steps$/,
    );

    const events = (
      await studio.api<{ data: EventWire[] }>(`/v1/fine_tuning/jobs/${id}/events?limit=100`)
    ).data.reverse();
    const progress = events.filter((e) => e.data.stage === 'class_images');
    assert.equal(progress[0]!.message, 'Generating class images: 12 to go');
    const steps = progress.map((e) => e.data.step as number);
    assert.ok(steps.length >= 4, `class-image progress events: ${steps.join(', ')}`);
    assert.deepEqual(
      [...steps].sort((a, b) => a - b),
      steps,
    );
    assert.equal(steps.at(-1), 12);
    assert.ok(
      progress.slice(2).every((e) => typeof e.data.eta_seconds === 'number' && / · ETA \d/.test(e.message)),
      'an ETA once measured',
    );
    const training = events.findIndex((e) => e.message === 'Training: 2 steps');
    assert.ok(
      training >= 0 && training < events.findIndex((e) => /^Step 1\/2/.test(e.message)),
      'the stage line comes before its first step',
    );
    // The bar: what the page showed never went backwards and ended full; replaying the event log through the
    // page's own phase module shows it advancing step by step.
    const seen = await page.evaluate<string[]>('window.classBar');
    assert.equal(seen.at(-1), '12/12');
    const replay = await page.evaluate<number[]>(`(async () => {
      const { jobPhases } = await import('/js/phase-bars.js');
      const events = ${JSON.stringify(events)};
      const job = { status: 'running', estimated_finish: null };
      const out = [];
      for (let n = 1; n <= events.length; n++) {
        const phase = jobPhases(job, events.slice(0, n).reverse()).find((p) => p.id === 'class_images');
        if (phase && out.at(-1) !== phase.step) out.push(phase.step);
      }
      return out;
    })()`);
    assert.deepEqual(replay, steps);
    for (const width of [1400, 390]) {
      await page.setViewportSize({ width, height: 900 });
      assert.deepEqual(await sidewaysOverflow(page), { scroll: 0, wide: [] }, `personalize at ${width}px`);
      await screenshot(page, `sd-server-personalize-${width}`);
    }
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  it('generates with a checkpoint and compares the fine-tune with its base on one seed', async () => {
    const checkpoint = ft().locator('#job-checkpoints tbody tr').first();
    const name = (await checkpoint.locator('code').innerText()).trim();
    assert.match(name, /:ckpt-step-\d+$/);
    await checkpoint.getByRole('button', { name: 'Generate' }).click();
    await page.locator('#panel-images').waitFor();
    await until(async () => (await page.locator('#images-model').inputValue()) === name);
    await page.locator('#tab-personalize').click();
    await ft().getByRole('button', { name: 'Generate with this model' }).click();
    await page.locator('#panel-images').waitFor();
    const model = await page.locator('#images-model').inputValue();
    assert.match(model, /^ft:atelier-demo-sd:/);
    for (const [field, value] of [
      ['steps', '2'],
      ['seed', '5'],
      ['n', '1'],
    ])
      await page.locator(`#images-${field}`).fill(value!);
    const before = await page.locator('#images-gallery figure').count();
    await page.locator('#panel-images').getByRole('button', { name: 'Generate' }).click();
    await until(async () => (await page.locator('#images-gallery figure').count()) === before + 1);
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith('/v1/images/generations')),
      page.locator('#images-gallery figure').first().getByRole('button', { name: 'Compare with base' }).click(),
    ]);
    const body = request.postDataJSON() as Record<string, unknown>;
    assert.equal(body.model, SD);
    assert.equal(body.seed, 5);
    await until(async () => (await page.locator('#images-compare img[src^="data:"]').count()) === 2);
    assert.deepEqual(await page.locator('#images-compare figcaption').allInnerTexts(), [
      `fine-tuned: ${model}`,
      `base: ${SD}`,
    ]);
    assert.deepEqual(studio.pageErrors, []);
  });
});
