/**
 * Managing what the studio holds, in a real Chromium against the real server (tiny SD demo, a loopback hub): the
 * Models tab pulls a model from the hub with a progress bar (`/v1/pulls`: files, bytes, notes of a resumed transfer,
 * a failed pull shown as an alert), and the Personalize tab deletes a finished fine-tuning job after a confirmation
 * (`DELETE /v1/fine_tuning/jobs/{id}`: its events and checkpoint rows go, its model would stay; a live job is a 409).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startHubServer, type HubServer } from '../models/hub-server.js';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { screenshot, startStudio, until, waitForModel, type Studio } from './studio-harness.js';

const SD = 'atelier-demo-sd';
const sha = (n: number): string => String(n).repeat(40).slice(0, 40);
/** A GGUF as far as format detection goes (magic and version), 3 MB so the pull takes several chunks. */
const gguf = (): Buffer => Buffer.concat([Buffer.from('GGUF\x03\0\0\0'), randomBytes(3_000_000)]);

/** A call on the API from Node with a JSON body; resolves with the status and parsed body. */
async function call(
  studio: Studio,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL(path, studio.url), {
    method,
    ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Uploads a subject photo as a fine-tune file; resolves with its id. */
async function upload(studio: Studio, i: number): Promise<string> {
  const form = new FormData();
  form.append('purpose', 'fine-tune');
  form.append('file', new Blob([subjectPhoto(i)], { type: 'image/png' }), `ball-${i}.png`);
  const response = await fetch(new URL('/v1/files', studio.url), { method: 'POST', body: form });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { id: string }).id;
}

describe('web studio: pulling models and deleting jobs in headless Chromium', () => {
  let studio: Studio;
  let page: Page;
  let hub: HubServer;
  before(async () => {
    hub = await startHubServer({
      'org/tiny': { sha: sha(1), files: { 'tiny.gguf': gguf(), 'README.md': Buffer.from('# tiny\n') } },
      'org/broken': { sha: sha(2), files: { 'broken.gguf': gguf() } },
    });
    process.env.HF_ENDPOINT = hub.endpoint; // the server inherits the test's environment
    studio = await startStudio({ python: true, viewport: { width: 1400, height: 900 } });
    page = studio.page;
    await waitForModel(studio, SD);
  });
  after(async () => {
    await studio.close();
    await hub.close();
  });

  it('pulls a model from the hub with a progress bar, a resumed transfer noted, and shows a failed pull', async () => {
    hub.faults.dropAfter.set('tiny.gguf', 1_000_000);
    await page.locator('#tab-models').click();
    const models = page.locator('#panel-models');
    await models.getByLabel('Repository').fill('org/tiny');
    await models.getByLabel('Install as').fill('pulled/tiny');
    await models.getByLabel('Files').fill('*.gguf');
    await models.getByRole('button', { name: 'Pull', exact: true }).click();
    await models.locator('#pull-words', { hasText: 'installed as pulled/tiny' }).waitFor();
    assert.equal(
      await models.locator('#pull-words').innerText(),
      '1/1 files · 3.0 MB of 3.0 MB · installed as pulled/tiny',
    );
    const bar = models.locator('#pull-progress');
    assert.equal(
      await bar.evaluate((p) => {
        const progress = p as unknown as { value: number; max: number };
        return `${progress.value}/${progress.max}`;
      }),
      '3000008/3000008',
    );
    assert.match(
      await models.locator('#pull-notes').innerText(),
      /tiny\.gguf: transfer interrupted at \d+ bytes .*resuming/,
    );
    await models.locator('#models-table tr[data-model="pulled/tiny"]').waitFor();
    const pulls = (
      await studio.api<{ data: { status: string; files: { path: string; done: boolean }[] }[] }>('/v1/pulls')
    ).data;
    assert.deepEqual(
      pulls.map((p) => [p.status, p.files]),
      [['succeeded', [{ path: 'tiny.gguf', total_bytes: 3_000_008, done_bytes: 3_000_008, done: true }]]],
    );
    // The hub's ranges were used: the resume asked for the rest, not the whole file again.
    assert.ok(
      hub.requests.some((r) => r.range?.startsWith('bytes=') && !r.range.startsWith('bytes=0-')),
      JSON.stringify(hub.requests),
    );
    await screenshot(page, 'models-pull-1400');

    hub.faults.corrupt.add('broken.gguf');
    await models.getByLabel('Repository').fill('org/broken');
    await models.getByLabel('Install as').fill('');
    await models.getByRole('button', { name: 'Pull', exact: true }).click();
    await models.getByRole('alert').filter({ hasText: 'integrity_error' }).waitFor();
    assert.match(await models.locator('#pull-words').innerText(), /failed$/);
    await models.getByLabel('Repository').fill('not a repo');
    await models.getByRole('button', { name: 'Pull', exact: true }).click();
    await models.getByRole('alert').filter({ hasText: 'invalid repo' }).waitFor();
    assert.equal((await call(studio, 'GET', '/v1/pulls/pull_nope')).status, 404);
  });

  it('deletes a finished job after a confirmation, with its events; a live one is refused', async () => {
    const files = [await upload(studio, 1), await upload(studio, 2), await upload(studio, 3)];
    const body = {
      model: SD,
      training_file: files[0],
      suffix: 'to-delete',
      method: {
        type: 'dreambooth',
        dreambooth: {
          instance_files: files.slice(1),
          hyperparameters: { class_name: 'ball', n_steps: 2, prior_preservation: false },
        },
      },
    };
    const created = await call(studio, 'POST', '/v1/fine_tuning/jobs', body);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.id as string;
    const live = await call(studio, 'DELETE', `/v1/fine_tuning/jobs/${id}`);
    assert.equal(live.status, 409, JSON.stringify(live.body));
    assert.match(String((live.body.error as { message: string }).message), /cancel it before deleting it/);
    assert.equal((await call(studio, 'POST', `/v1/fine_tuning/jobs/${id}/cancel`)).status, 200);

    await page.locator('#tab-personalize').click();
    const ft = page.locator('#panel-personalize');
    await ft.locator('.jobs button.job', { hasText: 'to-delete' }).click();
    await until(async () => (await ft.locator('#job-summary').getAttribute('data-status')) === 'cancelled');
    assert.equal((await call(studio, 'DELETE', `/v1/fine_tuning/jobs/${id}?delete_model=maybe`)).status, 400);
    const asked = studio.dialogs.length;
    await ft.getByRole('button', { name: 'Delete job' }).click();
    await ft.getByText('Select a job to see its progress.').waitFor();
    assert.match(studio.dialogs[asked] ?? '', /^Delete the job "to-delete" with its events and checkpoint list\?/);
    await until(async () => (await ft.locator('.jobs button.job', { hasText: 'to-delete' }).count()) === 0);
    assert.equal((await call(studio, 'GET', `/v1/fine_tuning/jobs/${id}`)).status, 404);
    assert.equal((await call(studio, 'GET', `/v1/fine_tuning/jobs/${id}/events`)).status, 404);
    assert.equal((await call(studio, 'DELETE', `/v1/fine_tuning/jobs/${id}`)).status, 404);
    // The uploads are the user's and stay.
    for (const file of files) assert.equal((await call(studio, 'GET', `/v1/files/${file}`)).status, 200);
    assert.deepEqual(studio.pageErrors, []);
  });

  it('shows validation samples while a LoRA job trains, and a LoRA strength slider for its model', async () => {
    const files = [await upload(studio, 4), await upload(studio, 5), await upload(studio, 6)];
    const config = {
      tracking: {
        tensorboard: false,
        validation_prompts: ['a photo of sks ball'],
        validation_every_n_steps: 1,
        validation_steps: 2,
      },
    };
    const created = await call(studio, 'POST', '/v1/fine_tuning/jobs', {
      model: SD,
      training_file: files[0],
      suffix: 'with-samples',
      method: {
        type: 'dreambooth',
        dreambooth: {
          instance_files: files.slice(1),
          config,
          hyperparameters: { class_name: 'ball', n_steps: 2, prior_preservation: false },
        },
      },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const id = created.body.id as string;
    await page.locator('#tab-personalize').click();
    const ft = page.locator('#panel-personalize');
    await ft.locator('.jobs button.job', { hasText: 'with-samples' }).click();
    await until(async () => (await ft.locator('#job-summary').getAttribute('data-status')) === 'succeeded');
    const samples = (
      await studio.api<{ data: { step: number; prompt: string; url: string }[] }>(`/v1/fine_tuning/jobs/${id}/samples`)
    ).data;
    assert.deepEqual(
      samples.map((s) => [s.step, s.prompt]),
      [
        [1, 'a photo of sks ball'],
        [2, 'a photo of sks ball'],
      ],
    );
    const png = Buffer.from(await (await fetch(new URL(samples[1]!.url, studio.url))).arrayBuffer());
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    await until(async () => (await ft.locator('#job-samples figure').count()) === 2);
    assert.deepEqual(await ft.locator('#job-samples figcaption').allInnerTexts(), [
      'step 2 · a photo of sks ball',
      'step 1 · a photo of sks ball',
    ]);
    await until(
      async () =>
        (await ft
          .locator('#job-samples img')
          .evaluateAll(
            (imgs) => imgs.filter((i) => (i as unknown as { naturalWidth: number }).naturalWidth > 0).length,
          )) === 2,
    );
    await screenshot(page, 'personalize-samples-1400');

    await ft.getByRole('button', { name: 'Generate with this model' }).click();
    const images = page.locator('#panel-images');
    const strength = images.getByLabel('LoRA strength');
    await strength.waitFor();
    await strength.fill('0');
    assert.equal(await images.locator('#images-lora-words').innerText(), '0.00');
    for (const [field, value] of [
      ['steps', '2'],
      ['seed', '3'],
      ['n', '1'],
    ])
      await images.locator(`#images-${field}`).fill(value!);
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().endsWith('/v1/images/generations')),
      images.getByRole('button', { name: 'Generate' }).click(),
    ]);
    assert.equal((request.postDataJSON() as { lora_scale?: number }).lora_scale, 0);
    await images.locator('#images-gallery figure').first().waitFor();
    await images.locator('#images-model').selectOption(SD);
    assert.ok(await strength.isHidden(), 'no strength for a model without a LoRA');
    assert.deepEqual(studio.pageErrors, []);
  });
});
