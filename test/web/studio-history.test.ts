/**
 * The studio's chat history, settings memory, habits and layout in a real Chromium against the real server (chat
 * demo models, no Python): chats kept server-side across a reload and a server restart, a sidebar with delete,
 * remembered settings, capability badges, pasted and dropped images, Markdown/JSON with Copy, Regenerate, the
 * lightbox, keyboard-only tab switching, and no sideways scroll at 390 px (with screenshots of every tab).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { subjectPhoto } from '../personalize/subject-photos.js';
import { screenshot, sidewaysOverflow, startStudio, until, type Studio } from './studio-harness.js';

const chat = (page: Page) => page.locator('#panel-chat');
const tabs = ['chat', 'images', 'personalize', 'models'] as const;

/** Sends a message and waits for the finished reply; returns the request body. */
async function send(page: Page, text: string): Promise<{ messages: { role: string; content: unknown }[] }> {
  const before = await page.locator('#chat-transcript .message.assistant').count();
  await chat(page).getByLabel('Message', { exact: true }).fill(text);
  const [request] = await Promise.all([
    page.waitForRequest((r: Request) => r.url().endsWith('/v1/chat/completions')),
    chat(page).getByRole('button', { name: 'Send' }).click(),
  ]);
  await page.locator('#chat-transcript .message.assistant').nth(before).locator('.meta:not(:empty)').waitFor();
  return request.postDataJSON() as { messages: { role: string; content: unknown }[] };
}

/** The transcript as [role, raw text] pairs. */
async function transcript(page: Page): Promise<string[][]> {
  return page
    .locator('#chat-transcript .message')
    .evaluateAll((items) =>
      items.map((li) => [li.getAttribute('data-role') ?? '', li.querySelector('.content')?.textContent ?? '']),
    );
}

/** Dispatches a paste (or a drop) of a PNG onto `selector`, as a browser does for a clipboard or dragged file. */
async function pasteImage(page: Page, selector: string, kind: 'paste' | 'drop'): Promise<void> {
  const b64 = Buffer.from(subjectPhoto(1)).toString('base64');
  await page.evaluate(`(() => {
    const bytes = Uint8Array.from(atob(${JSON.stringify(b64)}), (c) => c.charCodeAt(0));
    const data = new DataTransfer();
    data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
    const target = document.querySelector(${JSON.stringify(selector)});
    const event = ${JSON.stringify(kind)} === 'paste'
      ? new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
      : new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true });
    target.dispatchEvent(event);
  })()`);
}

describe('web studio: history, habits and layout in headless Chromium', () => {
  let studio: Studio;
  let page: Page;
  before(async () => {
    studio = await startStudio({ viewport: { width: 1400, height: 900 } });
    page = studio.page;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  });
  after(async () => {
    await studio.close();
  });

  it('switches tabs with the keyboard alone (WAI-ARIA tabs: one tab stop, arrows, Home, End)', async () => {
    await page.locator('#chat-model option[value="atelier-demo-gguf"]').waitFor({ state: 'attached' });
    await page.keyboard.press('Tab'); // the first focusable thing of the page is the selected tab
    const focused = () => page.evaluate<string>('document.activeElement.id');
    assert.equal(await focused(), 'tab-chat');
    const stops = await page.getByRole('tab').evaluateAll((all) => all.map((tab) => tab.getAttribute('tabindex')));
    assert.deepEqual(stops, ['0', '-1', '-1', '-1']);
    const shown = async () => page.getByRole('tabpanel').evaluateAll((panels) => panels.map((p) => p.id));
    for (const [key, tab] of [
      ['ArrowRight', 'images'],
      ['ArrowRight', 'personalize'],
      ['End', 'models'],
      ['ArrowRight', 'chat'],
      ['ArrowLeft', 'models'],
      ['Home', 'chat'],
    ] as const) {
      await page.keyboard.press(key);
      await until(async () => (await shown())[0] === `panel-${tab}`);
      assert.equal(await focused(), `tab-${tab}`);
      assert.equal(await page.locator(`#tab-${tab}`).getAttribute('aria-selected'), 'true');
      assert.equal(await page.locator(`#tab-${tab}`).getAttribute('tabindex'), '0');
    }
  });

  it('shows what each model takes and says what the JSON guarantee covers', async () => {
    await chat(page).getByLabel('Model').selectOption('atelier-demo-vlm');
    await until(async () => (await page.locator('#chat-model-badges .badge').allInnerTexts()).includes('vision'));
    assert.deepEqual(await page.locator('#chat-model-badges .badge').allInnerTexts(), ['vision', 'tools', 'JSON']);
    await chat(page).getByLabel('Model').selectOption('atelier-demo-gguf');
    await until(async () => !(await page.locator('#chat-model-badges .badge').allInnerTexts()).includes('vision'));
    assert.deepEqual(await page.locator('#chat-model-badges .badge').allInnerTexts(), ['tools', 'JSON']);
    const hint = (await chat(page).locator('details.options small').textContent()) ?? '';
    assert.match(hint, /unless it is cut short by the token limit/);
    assert.doesNotMatch(hint, /guaranteed/);
  });

  it('takes pasted and dropped images, and enlarges sent ones in a lightbox', async () => {
    await chat(page).getByLabel('Model').selectOption('atelier-demo-vlm');
    await chat(page).getByLabel('Max tokens').fill('2');
    await pasteImage(page, '#chat-input', 'paste');
    await page.locator('.composer .thumb img').first().waitFor();
    await pasteImage(page, '#panel-chat form.composer', 'drop');
    await until(async () => (await page.locator('.composer .thumb img').count()) === 2);
    await page.getByRole('button', { name: 'Remove attachment 2' }).click();
    const body = await send(page, 'What is it?');
    const content = body.messages[0]!.content as { type: string }[];
    assert.deepEqual(
      content.map((part) => part.type),
      ['text', 'image_url'],
      'the pasted image went with the message',
    );
    await page.getByRole('button', { name: 'Enlarge image 1' }).click();
    const lightbox = page.locator('dialog.lightbox[open]');
    await lightbox.locator('img').waitFor();
    assert.ok(
      (await lightbox.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0,
    );
    await page.keyboard.press('Escape');
    await lightbox.waitFor({ state: 'detached' });
    // This chat was saved too; deleting it leaves the sidebar empty for the next test.
    await page.locator('#chat-history li[data-chat]').first().waitFor();
    await page.getByRole('button', { name: 'Delete chat "What is it?"' }).click();
    await page.locator('#chat-history li[data-chat]').first().waitFor({ state: 'detached' });
    await chat(page).getByRole('button', { name: 'New chat' }).click();
    await chat(page).getByLabel('Model').selectOption('atelier-demo-gguf');
  });

  it('keeps a chat on the server: sidebar, reload, server restart, Regenerate, Copy, delete', async () => {
    await chat(page).getByLabel('Max tokens').fill('5');
    await chat(page).getByLabel('Temperature').fill('0');
    await send(page, 'Hello there');
    const sidebar = page.locator('#chat-history li[data-chat]');
    await until(async () => (await sidebar.count()) === 1);
    assert.match(await sidebar.first().innerText(), /^Hello there\natelier-demo-gguf/);
    const first = await transcript(page);
    assert.equal(first.length, 2);

    // Regenerate replaces the reply (greedy decoding: the same text) and resends the same conversation.
    const again = await Promise.all([
      page.waitForRequest((r: Request) => r.url().endsWith('/v1/chat/completions')),
      chat(page).getByRole('button', { name: 'Regenerate' }).click(),
    ]);
    assert.deepEqual((again[0].postDataJSON() as { messages: unknown[] }).messages, [
      { role: 'user', content: 'Hello there' },
    ]);
    await until(
      async () =>
        (await page.locator('#chat-transcript .message.assistant .meta:not(:empty)').count()) === 1 &&
        (await transcript(page)).length === 2,
    );
    assert.deepEqual(await transcript(page), first);
    await chat(page).getByRole('button', { name: 'Copy' }).click();
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), first[1]![1]);

    await page.reload();
    await page.locator('#chat-history li[data-chat]').first().waitFor();
    assert.equal(await chat(page).getByLabel('Max tokens').inputValue(), '5', 'the form settings came back');
    assert.equal(await page.locator('#chat-transcript .message').count(), 0, 'a reload opens a new chat');
    await page.locator('#chat-history .chat-entry').first().click();
    await until(async () => (await transcript(page)).length === 2);
    assert.deepEqual(await transcript(page), first);

    await studio.restart();
    await page.locator('#chat-history .chat-entry').first().click();
    await until(async () => (await transcript(page)).length === 2);
    assert.deepEqual(await transcript(page), first, 'the chat survived the restart');
    const next = await send(page, 'And then?');
    assert.deepEqual(
      next.messages.map((m) => m.content),
      ['Hello there', first[1]![1], 'And then?'],
      'a reopened chat continues',
    );
    const saved = await studio.api<{ data: { id: string }[] }>('/v1/studio/chats');
    assert.equal(saved.data.length, 1, 'continuing saves into the same chat');
    const stored = await studio.api<{ messages: unknown[] }>(`/v1/studio/chats/${saved.data[0]!.id}`);
    assert.equal(stored.messages.length, 4);

    await page.getByRole('button', { name: 'Delete chat "Hello there"' }).click();
    await until(async () => (await page.locator('#chat-history li[data-chat]').count()) === 0);
    assert.match(studio.dialogs.at(-1) ?? '', /^Delete the chat "Hello there"\?/);
    assert.deepEqual((await studio.api<{ data: unknown[] }>('/v1/studio/chats')).data, []);
  });

  it('Models tab: what each model takes, "Use in Chat", and delete after a confirmation', async () => {
    await page.locator('#tab-models').click();
    const vlm = page.locator('#models-table tr[data-model="atelier-demo-vlm"]');
    // The table renders as /v1/models answers: wait for the row's badges rather than reading an empty row.
    await until(async () => (await vlm.locator('.badge').count()) > 0);
    assert.deepEqual(await vlm.locator('.badge').allInnerTexts(), ['vision', 'tools', 'JSON']);
    await vlm.getByRole('button', { name: 'Use in Chat' }).click();
    await page.locator('#panel-chat').waitFor();
    await until(async () => (await chat(page).getByLabel('Model').inputValue()) === 'atelier-demo-vlm');
    await page.locator('#tab-models').click();
    await vlm.getByRole('button', { name: 'Delete atelier-demo-vlm' }).click();
    await vlm.waitFor({ state: 'detached' });
    assert.match(studio.dialogs.at(-1) ?? '', /^Delete the model "atelier-demo-vlm"/);
    const left = await studio.api<{ data: { id: string }[] }>('/v1/models');
    assert.ok(!left.data.some((m) => m.id === 'atelier-demo-vlm'));
  });

  it('renders Markdown as elements (never as HTML) and pretty-prints JSON', async () => {
    const parts = await page.evaluate<string[]>(`(async () => {
      const { renderMarkdown } = await import('/js/markdown.js');
      const box = document.createElement('div');
      box.append(renderMarkdown('# Title\\nSome **bold** and \`code\` <img src=x onerror=alert(1)>\\n\\n- one\\n- two\\n\\n\`\`\`js\\nlet a = 1;\\n\`\`\`'));
      return [...box.children].map((c) => c.tagName + ':' + c.textContent).concat(String(box.querySelectorAll('img').length));
    })()`);
    assert.deepEqual(parts, [
      'H3:Title',
      'P:Some bold and code <img src=x onerror=alert(1)>',
      'UL:onetwo',
      'PRE:let a = 1;',
      '0',
    ]);
  });

  it('fits 390 px without sideways scroll on every tab, and screenshots each tab at 1400 and 390 px', async () => {
    for (const width of [1400, 390]) {
      await page.setViewportSize({ width, height: 844 });
      for (const tab of tabs) {
        await page.locator(`#tab-${tab}`).click();
        await page.locator(`#panel-${tab}`).waitFor();
        if (tab === 'models') await page.locator('#models-table tr[data-model]').first().waitFor();
        const overflow = await sidewaysOverflow(page);
        assert.deepEqual(overflow, { scroll: 0, wide: [] }, `${tab} at ${width}px`);
        await screenshot(page, `chat-server-${tab}-${width}`);
      }
    }
    // The API key field stays put at the header's end whichever tab is shown.
    await page.setViewportSize({ width: 1400, height: 900 });
    const boxes: number[] = [];
    for (const tab of tabs) {
      await page.locator(`#tab-${tab}`).click();
      boxes.push(Math.round((await page.getByLabel('API key').boundingBox())!.x));
    }
    assert.equal(new Set(boxes).size, 1, `API key x positions: ${boxes.join(', ')}`);
    assert.deepEqual(studio.pageErrors, []);
  });
});
