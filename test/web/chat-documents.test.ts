/**
 * PDFs in the studio's Chat tab, in real Chromium against the real server: an attached PDF shows one thumbnail per
 * page (a scanned page marked as such), is sent as OpenAI's `file` part, reaches the vision model, gives schema-valid
 * JSON from the text model, and a scan sent to the text model comes back as the API's 400 naming the page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import type { Page, Request } from 'playwright-core';
import { invoicePdf, invoiceSchema, scannedLetterPdf } from '../../scripts/make-invoice-pdf.js';
import { startStudio, type Studio } from './studio-harness.js';

type Part = { type: string; text?: string; file?: { file_data: string; filename: string } };

const chat = (page: Page) => page.locator('#panel-chat');

async function setup(page: Page, model: string, maxTokens: number, schemaText = ''): Promise<void> {
  await chat(page).getByRole('button', { name: 'New chat' }).click();
  await page.locator(`#chat-model option[value="${model}"]`).waitFor({ state: 'attached' });
  await chat(page).getByLabel('Model').selectOption(model);
  await chat(page).getByLabel('Max tokens').fill(String(maxTokens));
  await chat(page).getByLabel('Temperature').fill('0');
  const details = chat(page).locator('details.options');
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
  await chat(page).getByLabel('JSON schema').fill(schemaText);
}

/** Attaches `bytes` as a PDF and waits for its page thumbnails; returns their captions. */
async function attach(page: Page, name: string, bytes: Uint8Array): Promise<string[]> {
  await chat(page)
    .getByLabel('Attach images to the message')
    .setInputFiles({ name, mimeType: 'application/pdf', buffer: Buffer.from(bytes) });
  await page.locator('.composer .pdf-pages[data-state="ready"]').waitFor();
  return page.locator('.composer .pdf-page figcaption').allInnerTexts();
}

/** Sends `text` with what is attached; returns the content of the user message the page posted. */
async function send(page: Page, text: string): Promise<Part[]> {
  await chat(page).getByLabel('Message', { exact: true }).fill(text);
  const [request] = await Promise.all([
    page.waitForRequest((r: Request) => r.url().endsWith('/v1/chat/completions')),
    chat(page).getByRole('button', { name: 'Send' }).click(),
  ]);
  const body = request.postDataJSON() as { messages: { content: Part[] }[] };
  return body.messages.at(-1)!.content;
}

describe('web studio: PDF attachments in the Chat tab', () => {
  let studio: Studio;
  let page: Page;
  let letter: Uint8Array;
  before(async () => {
    studio = await startStudio();
    page = studio.page;
    letter = await scannedLetterPdf();
  });
  after(() => studio.close());

  it('shows a thumbnail per page, marks the scan, and sends the PDF as a file part the vision model reads', async () => {
    await setup(page, 'atelier-demo-vlm', 4);
    assert.deepEqual(await attach(page, 'letter.pdf', letter), ['p. 1', 'p. 2 · scan']);
    assert.equal(await page.locator('.composer .pdf-page img').count(), 2);
    const content = await send(page, 'Read the letter.');
    assert.deepEqual(content, [
      { type: 'text', text: 'Read the letter.' },
      {
        type: 'file',
        file: {
          file_data: `data:application/pdf;base64,${Buffer.from(letter).toString('base64')}`,
          filename: 'attachment-1.pdf',
        },
      },
    ]);
    const reply = page.locator('#chat-transcript .message.assistant').last();
    await reply.locator('.meta:not(:empty)').waitFor();
    assert.match(await reply.locator('.meta').innerText(), /finish: length · 4 tokens/);
    assert.equal(await chat(page).getByRole('alert').count(), 0, 'no error is shown');
    await page.locator('#chat-transcript .message.user .pdf-pages[data-state="ready"]').waitFor();
    assert.equal(
      await page.locator('#chat-transcript .message.user .pdf-page img').count(),
      2,
      'the sent PDF shows its pages',
    );
    assert.equal(await page.locator('.composer .thumb').count(), 0, 'the composer is cleared');
    assert.deepEqual(studio.pageErrors, []);
  });

  it('reads an invoice into the strict schema on the text model; a scan there is the API 400 naming the page', async () => {
    await setup(page, 'atelier-demo-gguf', 200, JSON.stringify(invoiceSchema));
    assert.deepEqual(await attach(page, 'invoice.pdf', await invoicePdf()), ['p. 1']);
    await send(page, 'Extract the invoice.');
    const reply = page.locator('#chat-transcript .message.assistant').last();
    await reply.locator('.meta:not(:empty)').waitFor();
    const text = (await reply.locator('.content').textContent()) ?? '';
    assert.ok(new Ajv.default().compile(invoiceSchema)(JSON.parse(text)), text);

    await setup(page, 'atelier-demo-gguf', 4);
    await attach(page, 'letter.pdf', letter);
    await chat(page).getByLabel('Message', { exact: true }).fill('Summarise.');
    await chat(page).getByRole('button', { name: 'Send' }).click();
    const alert = chat(page).getByRole('alert').filter({ hasText: 'no text layer' });
    await alert.waitFor();
    assert.match(
      await alert.innerText(),
      /^400 invalid_request_error \(code document_page_without_text, param messages\[0\]\.content\[1\]\): attachment-1\.pdf: page 2 has no text layer/,
    );
    await page.locator('.composer .pdf-pages[data-state="ready"]').waitFor();
    assert.equal(await page.locator('.composer .pdf-page img').count(), 2, 'the PDF goes back into the composer');
    assert.deepEqual(studio.pageErrors, []);
  });
});
