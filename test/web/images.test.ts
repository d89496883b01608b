/**
 * The studio's Images and Personalize tabs in a real Chromium against the real server: images from the tiny Stable
 * Diffusion demo model with the parameters their PNGs record, subject photos uploaded through /v1/files, DreamBooth
 * jobs created, followed (events paginated against the real API), cancelled, and one run to the end whose model
 * the Images tab then generates with.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { startStudio, until, waitForModel, type Studio } from './studio-harness.js';

const SD = 'atelier-demo-sd';
// Through the form's "worker config overrides": two class images drawn in two steps keep a run to seconds.
const quickConfig = {
  prior: { num_class_images: 2, sample_steps: 2, sample_batch_size: 2 },
  tracking: { tensorboard: false },
};

interface Page_<T> {
  data: T[];
  has_more: boolean;
}
interface FileWire {
  id: string;
  filename: string;
  purpose: string;
}
interface JobWire {
  id: string;
  status: string;
  training_file: string;
  fine_tuned_model: string | null;
  method: { dreambooth: { instance_files?: string[]; hyperparameters: Record<string, unknown> } };
}

/** Fills the Images form and generates; returns the gallery's newest `n` result cards. */
async function generate(page: Page, fields: Record<string, string>, n: number): Promise<Locator> {
  const images = page.locator('#panel-images');
  for (const [id, value] of Object.entries(fields)) await images.locator(`#images-${id}`).fill(value);
  const before = await images.locator('#images-gallery figure').count();
  await images.getByRole('button', { name: 'Generate' }).click();
  await images
    .locator('#images-gallery figure')
    .nth(before + n - 1)
    .waitFor();
  await images.getByRole('button', { name: 'Generate' }).and(page.locator(':enabled')).waitFor();
  return images.locator('#images-gallery figure');
}

/** Fills the Personalize form with three subject photos and starts a job; returns its id as the list shows it. */
async function startJob(page: Page, studio: Studio, steps: number): Promise<string> {
  const ft = page.locator('#panel-personalize');
  const known = new Set((await studio.api<Page_<JobWire>>('/v1/fine_tuning/jobs')).data.map((j) => j.id));
  await ft.locator(`#ft-model option[value="${SD}"]`).waitFor({ state: 'attached' });
  await ft
    .getByLabel('Subject photos')
    .setInputFiles(
      [0, 1, 2].map((i) => ({ name: `dog-${i}.png`, mimeType: 'image/png', buffer: Buffer.from(subjectPhoto(i)) })),
    );
  await ft.getByLabel('Class word').fill('dog');
  await ft.getByLabel('Steps').fill(String(steps));
  await ft.getByLabel('Resolution').fill('32');
  if ((await ft.locator('details.options').getAttribute('open')) === null)
    await ft.locator('details.options summary').click();
  await ft.locator('#ft-config').fill(JSON.stringify(quickConfig));
  await ft.getByRole('button', { name: 'Upload and start training' }).click();
  const newest = async () =>
    (await ft.locator('#jobs-list li[data-job]').count()) > 0
      ? ft.locator('#jobs-list li[data-job]').first().getAttribute('data-job')
      : null;
  await until(async () => {
    const id = await newest();
    return id !== null && !known.has(id);
  });
  const created = (await newest())!;
  await ft.locator(`#job-detail h3[data-job="${created}"]`).waitFor();
  return created;
}

describe('web studio: images and DreamBooth in headless Chromium', () => {
  let studio: Studio;
  let page: Page;
  before(async () => {
    studio = await startStudio({ python: true });
    page = studio.page;
    await waitForModel(studio, SD);
  });
  after(async () => {
    await studio.close();
  });

  it('generates on the tiny SD model and shows each image with its parameters', async () => {
    await page.getByRole('tab', { name: 'Images' }).click();
    await page.locator(`#images-model option[value="${SD}"]`).waitFor({ state: 'attached' });
    const cards = await generate(
      page,
      { prompt: 'a red ball on grass', negative: 'blurry', steps: '2', guidance: '3', seed: '7', n: '2' },
      2,
    );
    const captions = await cards.locator('pre.parameters').allInnerTexts();
    // Newest first: image 1 (seed 8) heads the gallery.
    assert.deepEqual(captions.map((c) => /Seed: (\d+)/.exec(c)?.[1]).sort(), ['7', '8']);
    for (const caption of captions) {
      assert.match(
        caption,
        /^a red ball on grass\nNegative prompt: blurry\nSteps: 2, Sampler: .*, CFG scale: 3(\.0)?, Seed: \d+, Size: \d+x\d+, Model: atelier-demo-sd$/,
      );
    }
    const sizes = await cards
      .locator('img')
      .evaluateAll((imgs) => imgs.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth));
    assert.ok(
      sizes.every((w) => w > 0),
      'the PNGs decode in the browser',
    );
    assert.ok(await page.locator('#panel-images').getByRole('alert').isHidden());
  });

  it('checks the photos and the config overrides before uploading anything', async () => {
    await page.getByRole('tab', { name: 'Personalize' }).click();
    const ft = page.locator('#panel-personalize');
    await ft.locator(`#ft-model option[value="${SD}"]`).waitFor({ state: 'attached' });
    await ft
      .getByLabel('Subject photos')
      .setInputFiles(
        [0, 1].map((i) => ({ name: `dog-${i}.png`, mimeType: 'image/png', buffer: Buffer.from(subjectPhoto(i)) })),
      );
    await ft.getByLabel('Class word').fill('dog');
    await ft.getByRole('button', { name: 'Upload and start training' }).click();
    await ft
      .getByRole('alert')
      .filter({ hasText: 'Choose 3–5 photos of the subject (or one zip of them); 2 chosen.' })
      .waitFor();
    await ft
      .getByLabel('Subject photos')
      .setInputFiles(
        [0, 1, 2].map((i) => ({ name: `dog-${i}.png`, mimeType: 'image/png', buffer: Buffer.from(subjectPhoto(i)) })),
      );
    await ft.locator('details.options summary').click();
    await ft.locator('#ft-config').fill('{"train": ');
    await ft.getByRole('button', { name: 'Upload and start training' }).click();
    await ft.getByRole('alert').filter({ hasText: 'The worker config overrides are not valid JSON' }).waitFor();
    assert.deepEqual((await studio.api<Page_<FileWire>>('/v1/files')).data, []);
  });

  it('uploads subject photos, creates a job that appears in the list, follows it and cancels it', async () => {
    const id = await startJob(page, studio, 500);
    const files = (await studio.api<Page_<FileWire>>('/v1/files?purpose=fine-tune&order=asc')).data;
    assert.deepEqual(
      files.map((f) => [f.filename, f.purpose]),
      [
        ['dog-0.png', 'fine-tune'],
        ['dog-1.png', 'fine-tune'],
        ['dog-2.png', 'fine-tune'],
      ],
    );
    const job = await studio.api<JobWire>(`/v1/fine_tuning/jobs/${id}`);
    assert.equal(job.training_file, files[0]!.id);
    assert.deepEqual(job.method.dreambooth.instance_files, [files[1]!.id, files[2]!.id]);
    assert.deepEqual(job.method.dreambooth.hyperparameters, {
      class_name: 'dog',
      identifier: 'sks',
      mode: 'lora',
      n_steps: 500,
      resolution: 32,
    });
    const ft = page.locator('#panel-personalize');
    await ft.locator('#job-events li').first().waitFor();
    await ft.getByRole('button', { name: 'Cancel job' }).click();
    await ft.locator('#job-summary[data-status="cancelled"]').waitFor();
    await ft.locator(`#jobs-list li[data-job="${id}"][data-status="cancelled"]`).waitFor();
    assert.equal(await ft.getByRole('button', { name: 'Cancel job' }).count(), 0);
    assert.equal((await studio.api<JobWire>(`/v1/fine_tuning/jobs/${id}`)).status, 'cancelled');
  });

  it('a finished job shows its checkpoints and all its events, and "Generate with this model" uses it', async () => {
    const id = await startJob(page, studio, 2);
    const ft = page.locator('#panel-personalize');
    await ft.locator('#job-summary[data-status="succeeded"]').waitFor({ timeout: 300_000 });
    const job = await studio.api<JobWire>(`/v1/fine_tuning/jobs/${id}`);
    assert.match(job.fine_tuned_model ?? '', /^ft:atelier-demo-sd:dreambooth:/);
    await ft.locator('#job-checkpoints tbody tr').first().waitFor();
    const events = (
      await studio.api<Page_<{ id: string; message: string }>>(`/v1/fine_tuning/jobs/${id}/events?limit=100`)
    ).data;
    await until(async () => (await ft.locator('#job-events li').count()) === events.length);
    assert.deepEqual(
      await ft.locator('#job-events li span').allInnerTexts(),
      events.map((e) => e.message),
    );
    // The same pagination in the page's own module, two events a page: older pages, then newer ones across pages.
    const paged = await page.evaluate<string[][]>(`(async () => {
      const { EventLog } = await import('/js/job-events.js');
      const log = new EventLog(${JSON.stringify(id)}, 2);
      await log.pollNewer();
      while (log.hasOlder) await log.loadOlder();
      const all = log.events.map((e) => e.id);
      log.events = log.events.slice(5);
      await log.pollNewer();
      return [all, log.events.map((e) => e.id)];
    })()`);
    assert.deepEqual(paged, [events.map((e) => e.id), events.map((e) => e.id)]);

    await ft.getByRole('button', { name: 'Generate with this model' }).click();
    const images = page.locator('#panel-images');
    await images.waitFor({ state: 'visible' });
    assert.ok(await ft.isHidden(), 'the Personalize tab gave way to Images');
    assert.equal(await images.locator('#images-model').inputValue(), job.fine_tuned_model);
    assert.equal(await images.locator('#images-prompt').inputValue(), 'a photo of sks dog');
    const cards = await generate(page, { steps: '2', seed: '1', n: '1', negative: '', guidance: '' }, 1);
    // A1111's format quotes values holding ':' or ','.
    assert.match(
      await cards.first().locator('pre.parameters').innerText(),
      new RegExp(`^a photo of sks dog\\nSteps: 2, .*Seed: 1, .*Model: "${job.fine_tuned_model}"$`),
    );
    assert.deepEqual(studio.pageErrors, []);
  });
});
