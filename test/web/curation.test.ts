/**
 * The studio's Personalize tab checks the subject photos with the demo VLM before training: the plan's table shows
 * the truncated photo and the near-duplicate dropped with reasons and the other photos kept, and a job started with
 * the plan ticked is curated the same way (its events record the plan). Real server, real Chromium.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { sidewaysOverflow, startStudio, waitForModel, type Studio } from './studio-harness.js';

const SD = 'atelier-demo-sd';
const VLM = 'atelier-demo-vlm';

interface EventWire {
  message: string;
  level: string;
  data: { plan?: { photos: { name: string; keep: boolean }[] } };
}

describe('web studio: curation results before training, in headless Chromium', () => {
  let studio: Studio;
  let page: Page;
  const ft = () => page.locator('#panel-personalize');
  before(async () => {
    studio = await startStudio({ python: true });
    page = studio.page;
    await waitForModel(studio, SD);
  });
  after(async () => {
    await studio?.close();
  });

  it('shows the plan — drops with reasons, captions, class noun — then starts a job curated the same way', async () => {
    const png = (i: number) => ({ name: `dog-${i}.png`, mimeType: 'image/png', buffer: Buffer.from(subjectPhoto(i)) });
    const twin = await sharp(subjectPhoto(1)).modulate({ brightness: 1.05 }).jpeg({ quality: 90 }).toBuffer();
    const files = [
      png(0),
      png(1),
      png(2),
      png(3),
      { name: 'dog-1b.jpg', mimeType: 'image/jpeg', buffer: twin },
      { name: 'dog-9.png', mimeType: 'image/png', buffer: Buffer.from(subjectPhoto(4).subarray(0, 90)) },
    ];
    await page.locator('#tab-personalize').click();
    await ft().locator(`#ft-model option[value="${SD}"]`).waitFor({ state: 'attached' });
    await ft().locator('#ft-curation-model').selectOption(VLM);
    await ft().getByLabel('Subject photos').setInputFiles(files);
    await ft().getByLabel('Resolution').fill('32');
    await ft().getByLabel('Steps').fill('1');
    await ft().getByLabel('Train with class images').uncheck();
    await ft().getByRole('button', { name: 'Check photos' }).click();
    const table = ft().locator('#ft-curation table');
    await table.waitFor({ timeout: 120_000 });
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    // In the order the photos were chosen (the job's order).
    assert.deepEqual(
      rows.map((r) => r[0]),
      files.map((f) => f.name),
    );
    const plan = Object.fromEntries(rows.map(([name, verdict, why]) => [name!, { verdict, why }]));
    assert.equal(plan['dog-9.png']!.verdict, 'drop');
    assert.match(plan['dog-9.png']!.why!, /^decode_failed: the pixels do not decode/);
    assert.equal(plan['dog-1b.jpg']!.verdict, 'drop');
    assert.match(plan['dog-1b.jpg']!.why!, /^near_duplicate: near-duplicate of dog-1\.png/);
    assert.ok(rows.filter((r) => r[1] === 'keep').length >= 3, JSON.stringify(rows));
    assert.match(
      await ft().locator('.curation-summary').innerText(),
      /^Keeps \d of 6 photos\. Class noun: .+\(majority\)|none proposed/,
    );
    assert.equal(await ft().locator('#ft-use-curation').isChecked(), true);
    // Captions of a random-weight VLM are long unbroken strings: the table must still fit a phone.
    await page.setViewportSize({ width: 390, height: 800 });
    assert.deepEqual(await sidewaysOverflow(page), { scroll: 0, wide: [] });
    await page.setViewportSize({ width: 1280, height: 720 });
    // Nothing was trained yet: the plan came before any job.
    assert.deepEqual((await studio.api<{ data: unknown[] }>('/v1/fine_tuning/jobs')).data, []);

    await ft().getByLabel('Class word').fill('dog');
    await ft().getByRole('button', { name: 'Upload and start training' }).click();
    const row = ft().locator('#jobs-list li[data-job]').first();
    await row.waitFor({ timeout: 120_000 });
    const id = (await row.getAttribute('data-job'))!;
    const events = (await studio.api<{ data: EventWire[] }>(`/v1/fine_tuning/jobs/${id}/events?limit=100`)).data;
    const curated = events.find((e) => e.message.startsWith(`Curated subject photos by ${VLM}`));
    assert.ok(curated, events.map((e) => e.message).join('\n'));
    const kept = curated.data.plan!.photos.filter((p) => p.keep).map((p) => p.name);
    assert.deepEqual(
      kept,
      rows.filter((r) => r[1] === 'keep').map((r) => r[0]),
      'the job made the plan the page showed',
    );
    assert.ok(events.some((e) => e.level === 'warn' && e.message.startsWith('Dropped photo dog-9.png: ')));
    await ft().locator('#job-summary[data-status="succeeded"]').waitFor({ timeout: 300_000 });
    assert.deepEqual(studio.pageErrors, []);
  });
});
