/**
 * The studio's Models and Chat tabs in a real Chromium against the real server and demo models: streaming over
 * several turns, strict JSON schema output, image attachments reaching a vision-language model, API errors shown
 * from the error body, and Stop aborting a stream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import type { Page, Request } from 'playwright-core';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { startStudio, type Studio } from './studio-harness.js';

interface ChatBody {
  model: string;
  messages: { role: string; content: string | { type: string; text?: string; image_url?: { url: string } }[] }[];
  response_format?: { type: string; json_schema: { strict: boolean; schema: object } };
}

const KEY = 'sk-studio-test-0123456789';

const schema = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 6 }, legs: { type: 'integer', minimum: 0, maximum: 8 } },
  required: ['name', 'legs'],
  additionalProperties: false,
};

/** Types a message, sends it, and returns the request the page made plus the finished reply's text and meta line. */
async function send(page: Page, text: string): Promise<{ body: ChatBody; reply: string; meta: string }> {
  const before = await page.locator('#chat-transcript .message.assistant').count();
  await chat(page).getByLabel('Message', { exact: true }).fill(text);
  const [request] = await Promise.all([
    page.waitForRequest((r: Request) => r.url().endsWith('/v1/chat/completions')),
    chat(page).getByRole('button', { name: 'Send' }).click(),
  ]);
  const reply = page.locator('#chat-transcript .message.assistant').nth(before);
  await reply.locator('.meta:not(:empty)').waitFor();
  return {
    body: request.postDataJSON() as ChatBody,
    reply: (await reply.locator('.content').textContent()) ?? '',
    meta: await reply.locator('.meta').innerText(),
  };
}

/** The Chat tab's panel: labels like "Model" and buttons like "Stop" exist on other tabs too. */
const chat = (page: Page) => page.locator('#panel-chat');

async function setup(page: Page, model: string, maxTokens: number, schemaText = ''): Promise<void> {
  await chat(page).getByRole('button', { name: 'New chat' }).click();
  await page.locator(`#chat-model option[value="${model}"]`).waitFor({ state: 'attached' });
  await chat(page).getByLabel('Model').selectOption(model);
  await chat(page).getByLabel('Max tokens').fill(String(maxTokens));
  // Greedy decoding: the random demo weights then give the same reply every run (sampled, one may end at once).
  await chat(page).getByLabel('Temperature').fill('0');
  const details = chat(page).locator('details.options');
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
  await chat(page).getByLabel('JSON schema').fill(schemaText);
}

describe('web studio: models and chat in headless Chromium', () => {
  let studio: Studio;
  let page: Page;
  before(async () => {
    studio = await startStudio({ apiKey: KEY });
    page = studio.page;
  });
  after(async () => {
    await studio.close();
  });

  it('opens on the Chat tab and shows one tab at a time', async () => {
    assert.deepEqual(await page.getByRole('tabpanel').evaluateAll((panels) => panels.map((p) => p.id)), ['panel-chat']);
    await page.getByRole('tab', { name: 'Models' }).click();
    assert.deepEqual(await page.getByRole('tabpanel').evaluateAll((panels) => panels.map((p) => p.id)), [
      'panel-models',
    ]);
    assert.equal(await page.getByRole('tab', { name: 'Models' }).getAttribute('aria-selected'), 'true');
    assert.ok(page.url().endsWith('#models'));
  });

  it('asks for the API key the server wants and keeps it in this browser', async () => {
    await page.getByRole('tab', { name: 'Chat' }).click();
    const refused = chat(page).getByRole('alert').filter({ hasText: 'Could not list the models' });
    await refused.waitFor();
    assert.match(
      await refused.innerText(),
      /^Could not list the models: 401 invalid_request_error: You didn't provide an API key/,
    );
    await page.getByLabel('API key').fill(KEY);
    await page.getByLabel('API key').press('Enter');
    await refused.waitFor({ state: 'hidden' });
    await chat(page).locator('#chat-model option[value="atelier-demo-gguf"]').waitFor({ state: 'attached' });
    await page.reload();
    assert.equal(await page.getByLabel('API key').inputValue(), KEY);
    // The page itself needs no key; the API does.
    assert.equal((await fetch(studio.url)).status, 200);
    assert.equal((await fetch(new URL('/js/main.js', studio.url))).status, 200);
    assert.equal((await fetch(new URL('/v1/models', studio.url))).status, 401);
  });

  it("parses event streams as the HTML standard does (the page's own module)", async () => {
    // Split mid-line and between the CR and LF of a CRLF; CR alone and LF alone end lines too.
    const parts = [
      ': comment\r\ndata: {"a":',
      '1}\r\n\r',
      '\nevent: error\ndata: line one\ndata:line two\n\n',
      'data\r\rdata: [DONE]\n\n',
    ];
    const events = await page.evaluate<{ event: string; data: string }[]>(`(async () => {
      const { readSse } = await import('/js/sse.js');
      const body = new ReadableStream({ start(c) { for (const p of ${JSON.stringify(parts)}) c.enqueue(new TextEncoder().encode(p)); c.close(); } });
      const out = [];
      for await (const e of readSse(body)) out.push(e);
      return out;
    })()`);
    assert.deepEqual(events, [
      { event: 'message', data: '{"a":1}' },
      { event: 'error', data: 'line one\nline two' },
      { event: 'message', data: '' },
      { event: 'message', data: '[DONE]' },
    ]);
  });

  it('lists the demo models with their kind and format', async () => {
    await page.getByRole('tab', { name: 'Models' }).click();
    await page.locator('#models-table tr[data-model="atelier-demo-gguf"]').waitFor();
    const rows = await page
      .locator('#models-table tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 3).map((td) => td.textContent)));
    const served = await studio.api<{ data: { id: string }[] }>('/v1/models');
    assert.deepEqual(
      rows.map((row) => row[0]),
      served.data.map((m) => m.id).sort(),
    );
    assert.deepEqual(
      rows.find((row) => row[0] === 'atelier-demo-gguf'),
      ['atelier-demo-gguf', 'chat', 'gguf'],
    );
    assert.deepEqual(
      rows.find((row) => row[0] === 'atelier-demo-vlm'),
      ['atelier-demo-vlm', 'chat', 'onnx'],
    );
  });

  it('streams replies and sends the whole conversation on the next turn', async () => {
    await page.getByRole('tab', { name: 'Chat' }).click();
    await setup(page, 'atelier-demo-gguf', 6);
    // Record the reply's length at each change: several lengths means it arrived in pieces, not at the end.
    // (Browser-side code goes as strings: the tests' TypeScript knows Node, not the DOM.)
    await page.evaluate(`window.lengths = new Set(); new MutationObserver(() => {
      const reply = document.querySelector('#chat-transcript .message.assistant:last-child .content');
      if (reply) window.lengths.add(reply.textContent.length);
    }).observe(document.getElementById('chat-transcript'), { subtree: true, characterData: true, childList: true })`);
    const first = await send(page, 'Hello there');
    assert.equal(first.body.model, 'atelier-demo-gguf');
    assert.ok(first.reply.length > 0, 'the reply has text');
    assert.match(first.meta, /finish: length · 6 tokens/);
    assert.ok((await page.evaluate<number>('window.lengths.size')) >= 3, 'the reply was written delta by delta');
    const second = await send(page, 'And then?');
    assert.deepEqual(second.body.messages, [
      { role: 'user', content: 'Hello there' },
      { role: 'assistant', content: first.reply },
      { role: 'user', content: 'And then?' },
    ]);
    assert.equal(await page.locator('#chat-transcript .message').count(), 4);
  });

  it('with a JSON schema the reply parses and matches it', async () => {
    await setup(page, 'atelier-demo-gguf', 200, JSON.stringify(schema));
    const { body, reply, meta } = await send(page, 'Describe a cat as JSON');
    assert.equal(body.response_format?.type, 'json_schema');
    assert.equal(body.response_format?.json_schema.strict, true);
    assert.deepEqual(body.response_format?.json_schema.schema, schema);
    const validate = new Ajv.default({ strict: true }).compile(schema);
    assert.ok(validate(JSON.parse(reply)), `${reply}: ${JSON.stringify(validate.errors)}`);
    assert.match(meta, /finish: stop .* valid JSON/);
  });

  it('an attached image reaches the vision-language model', async () => {
    await setup(page, 'atelier-demo-vlm', 4);
    const png = Buffer.from(subjectPhoto(0));
    await chat(page)
      .getByLabel('Attach images to the message')
      .setInputFiles({ name: 'dog.png', mimeType: 'image/png', buffer: png });
    await page.locator('.composer .thumb img').waitFor();
    const { body, reply, meta } = await send(page, 'What is shown?');
    assert.deepEqual(body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is shown?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
        ],
      },
    ]);
    assert.ok(reply.length > 0);
    assert.match(meta, /finish: length · 4 tokens/);
    assert.equal(await chat(page).getByRole('alert').count(), 0, 'no error is shown');
    assert.equal(
      await page.locator('#chat-transcript .message.user img').count(),
      1,
      'the sent image shows in the transcript',
    );
    assert.equal(await page.locator('.composer .thumb').count(), 0, 'the composer is cleared');
  });

  it("shows the API's error body and gives the message back", async () => {
    await setup(page, 'atelier-demo-gguf', 4, '{"type": "nonsense"}');
    await chat(page).getByLabel('Message', { exact: true }).fill('hi');
    await chat(page).getByRole('button', { name: 'Send' }).click();
    const alert = chat(page).getByRole('alert').filter({ hasText: 'Unsupported schema' });
    await alert.waitFor();
    // The wording after "Unsupported schema:" is the schema checker's; the status, code and param are the API's.
    assert.match(
      await alert.innerText(),
      /^400 invalid_request_error \(code invalid_value, param response_format\.json_schema\.schema\): Unsupported schema: .*type/,
    );
    assert.equal(await chat(page).getByLabel('Message', { exact: true }).inputValue(), 'hi');
    assert.equal(await page.locator('#chat-transcript .message').count(), 0);
    await chat(page).getByLabel('JSON schema').fill('{"type": ');
    await chat(page).getByRole('button', { name: 'Send' }).click();
    await chat(page).getByRole('alert').filter({ hasText: 'The JSON schema is not valid JSON' }).waitFor();
  });

  it('Stop aborts a streaming reply, which stays as far as it got', async () => {
    await setup(page, 'atelier-demo-gguf', 3000);
    await chat(page).getByLabel('Message', { exact: true }).fill('Tell a very long story');
    await chat(page).getByRole('button', { name: 'Send' }).click();
    const reply = page.locator('#chat-transcript .message.assistant');
    await reply.locator('.content:not(:empty)').waitFor();
    await chat(page).getByRole('button', { name: 'Stop' }).click();
    await reply.locator('.meta', { hasText: 'stopped' }).waitFor();
    assert.ok(await chat(page).getByRole('button', { name: 'Send' }).isEnabled());
    assert.ok(await chat(page).getByRole('button', { name: 'Stop' }).isDisabled());
    await chat(page).getByLabel('Max tokens').fill('2');
    const next = await send(page, 'Short one');
    assert.equal(next.body.messages.length, 3, 'the stopped reply is part of the conversation');
    assert.match(next.meta, /finish: length/);
    assert.deepEqual(studio.pageErrors, []);
  });
});
