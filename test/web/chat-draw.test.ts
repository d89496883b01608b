/**
 * The studio's Chat tab with "Draw with" in a real Chromium against the real server: each reply calls atelier's
 * `image_generation` tool (forced) with the demo Stable Diffusion model, and the picture appears inline in the reply,
 * stays there after a reload (the saved chat), and is not sent back to the model as an image part.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { startStudio, waitForModel, type Studio } from './studio-harness.js';

const SD = 'atelier-demo-sd';
const chat = (page: Page) => page.locator('#panel-chat');

describe('web studio: a generated image appears in the chat', () => {
  let studio: Studio;
  let page: Page;
  before(async () => {
    studio = await startStudio({ python: true });
    page = studio.page;
    await waitForModel(studio, SD);
    // The page listed the models before the SD demo was installed (in the background after start-up).
    await page.reload();
  });
  after(async () => {
    await studio.close();
  });

  it('draws with the chosen image model and shows the PNG in the reply', async () => {
    await page.getByRole('tab', { name: 'Chat' }).click();
    await page.locator('#chat-model option[value="atelier-demo-gguf"]').waitFor({ state: 'attached' });
    await chat(page).getByLabel('Model').selectOption('atelier-demo-gguf');
    await chat(page).getByLabel('Max tokens').fill('200');
    await chat(page).getByLabel('Temperature').fill('0');
    await page.locator(`#chat-draw option[value="${SD}"]`).waitFor({ state: 'attached' });
    await chat(page).getByLabel('Draw with').selectOption(SD);
    await chat(page).getByLabel('Message', { exact: true }).fill('Draw my dog on the moon');
    const [request] = await Promise.all([
      page.waitForRequest((r: Request) => r.url().endsWith('/v1/chat/completions')),
      chat(page).getByRole('button', { name: 'Send' }).click(),
    ]);
    const body = request.postDataJSON() as { tools: { type: string; model: string }[]; tool_choice: { type: string } };
    assert.deepEqual(body.tools, [{ type: 'image_generation', model: SD }]);
    assert.deepEqual(body.tool_choice, { type: 'image_generation' });
    const reply = chat(page).locator('#chat-transcript .message.assistant').first();
    await reply.locator('.meta:not(:empty)').waitFor({ timeout: 480_000 });
    const image = reply.locator('.thumbs img');
    assert.equal(await image.count(), 1);
    assert.match((await image.getAttribute('src')) ?? '', /^data:image\/png;base64,iVBORw0KGgo/);
    // Decoded by the browser: a broken PNG has no natural width.
    assert.ok(await image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0));

    // The next turn sends the reply's text only: the picture was the server's, not an input image.
    await chat(page).getByLabel('Draw with').selectOption('');
    await chat(page).getByLabel('Message', { exact: true }).fill('Thanks');
    const [next] = await Promise.all([
      page.waitForRequest((r: Request) => r.url().endsWith('/v1/chat/completions')),
      chat(page).getByRole('button', { name: 'Send' }).click(),
    ]);
    const messages = (next.postDataJSON() as { messages: { role: string; content: unknown }[] }).messages;
    assert.equal(typeof messages.find((m) => m.role === 'assistant')?.content, 'string');
    assert.equal((next.postDataJSON() as { tools?: unknown }).tools, undefined);
    await chat(page).locator('#chat-transcript .message.assistant').nth(1).locator('.meta:not(:empty)').waitFor();

    await page.reload();
    await page.getByRole('tab', { name: 'Chat' }).click();
    await page.locator('#chat-history .chat-entry').first().click();
    await chat(page).locator('#chat-transcript .message.assistant .thumbs img').first().waitFor();
    assert.deepEqual(studio.pageErrors, []);
  });
});
