/**
 * PDF `file` parts through the official `openai` client: a two-page letter (page 1 with a text layer, page 2 a scan)
 * reaches the demo VLM as two page images plus the text layer, and the demo GGUF (text-only) as text — with a 400
 * naming the scanned page; an invoice whose pages all have text gives schema-valid JSON on both.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import OpenAI, { toFile } from 'openai';
import { invoicePdf, invoiceSchema, scannedLetterPdf } from '../../scripts/make-invoice-pdf.js';
import { defaultImageLimits, prepareChat } from '../../src/chat/index.js';
import type { EnginePrompt } from '../../src/engines/index.js';
import { parseChatRequest } from '../../src/protocol/index.js';
import { filesRoutes } from '../../src/server/routes/files.js';
import type { ModelRecord } from '../../src/store/index.js';
import { startChatHarness, type ChatHarness } from './chat-harness.js';

const VLM = 'atelier-demo-vlm';
const GGUF = 'atelier-demo-gguf';
const LETTER_TEXT = 'Dear customer, your order 7 has shipped.';

const pdfPart = (bytes: Uint8Array, filename: string) => ({
  type: 'file' as const,
  file: { file_data: `data:application/pdf;base64,${Buffer.from(bytes).toString('base64')}`, filename },
});

const schemaFormat = {
  type: 'json_schema' as const,
  json_schema: { name: 'invoice', schema: invoiceSchema, strict: true },
};

describe('PDF documents in chat completions', () => {
  let h: ChatHarness;
  let letter: Uint8Array;
  let invoice: Uint8Array;
  before(async () => {
    h = await startChatHarness({ models: [VLM, GGUF], routes: [filesRoutes()] });
    letter = await scannedLetterPdf(LETTER_TEXT);
    invoice = await invoicePdf();
  });
  after(() => h.close());

  /** The prompt atelier renders for `messages` on demo model `index` (the preparation the route runs). */
  async function promptFor(index: number, messages: object[]): Promise<EnginePrompt> {
    const model = await h.pool.get(h.records[index] as ModelRecord);
    const name = (h.records[index] as ModelRecord).name;
    return (await prepareChat(model, parseChatRequest({ model: name, messages }), defaultImageLimits)).prompt;
  }

  it('the VLM gets both pages as images at its processor size, and the text layer beside page 1', async () => {
    const messages = [
      {
        role: 'user' as const,
        content: [{ type: 'text' as const, text: 'Read this letter.' }, pdfPart(letter, 'letter.pdf')],
      },
    ];
    const completion = await h.client.chat.completions.create({
      model: VLM,
      messages,
      seed: 1,
      max_completion_tokens: 8,
    });
    assert.equal(completion.choices.length, 1);
    const withoutDoc = await h.client.chat.completions.create({
      model: VLM,
      messages: [{ role: 'user', content: 'Read this letter.' }],
      max_completion_tokens: 1,
    });
    assert.ok(
      (completion.usage?.prompt_tokens ?? 0) > (withoutDoc.usage?.prompt_tokens ?? 0) + 2 * 16,
      'two pages of image tokens',
    );
    const prompt = await promptFor(0, messages);
    assert.equal(prompt.images.length, 2);
    for (const image of prompt.images)
      assert.equal(Math.max(image.width, image.height), 64, 'the demo processor works at 64 px');
    assert.equal(prompt.text.split('<start_of_image>').length - 1, 2);
    assert.ok(prompt.text.includes(LETTER_TEXT));
    assert.match(
      prompt.text,
      /\[Page 1 of 2\][\s\S]*<start_of_image>[\s\S]*\[Text layer of page 1\]\n.*order 7[\s\S]*\[Page 2 of 2\][\s\S]*<start_of_image>/,
    );
  });

  it('the text-only GGUF model gets a 400 naming the scanned page', async () => {
    const err = await h.client.chat.completions
      .create({
        model: GGUF,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Read it.' }, pdfPart(letter, 'letter.pdf')] }],
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.param, 'messages[0].content[1]');
    assert.equal(err.code, 'document_page_without_text');
    assert.match(err.message, /letter\.pdf: page 2 has no text layer/);
  });

  it('json_schema output validates on both models for an invoice; the GGUF prompt holds its text with page markers', async () => {
    const validate = new Ajv.default().compile(invoiceSchema);
    for (const model of [VLM, GGUF]) {
      const completion = await h.client.chat.completions.create({
        model,
        seed: 3,
        max_completion_tokens: 200,
        response_format: schemaFormat,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'Extract the invoice.' }, pdfPart(invoice, 'invoice.pdf')] },
        ],
      });
      const content = completion.choices[0]?.message.content ?? '';
      assert.ok(validate(JSON.parse(content)), `${model}: ${content}`);
    }
    const prompt = await promptFor(1, [{ role: 'user', content: [pdfPart(invoice, 'invoice.pdf')] }]);
    assert.equal(prompt.images.length, 0);
    assert.match(
      prompt.text,
      /\[Document invoice\.pdf, 1 page\]\n\[Page 1 of 1\]\nInvoice INV-2026-042\nBill to: Atelier Studio GmbH\n[\s\S]*Total: 1234\.50 EUR/,
    );
  });

  it('takes an uploaded file (purpose user_data) by file_id, and refuses unknown ids', async () => {
    const file = await h.client.files.create({
      file: await toFile(Buffer.from(invoice), 'invoice.pdf'),
      purpose: 'user_data',
    });
    assert.equal(file.purpose, 'user_data');
    const completion = await h.client.chat.completions.create({
      model: GGUF,
      max_completion_tokens: 4,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Total?' },
            { type: 'file', file: { file_id: file.id } },
          ],
        },
      ],
    });
    assert.equal(completion.choices.length, 1);
    const err = await h.client.chat.completions
      .create({
        model: GGUF,
        messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-nope' } }] }],
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.param, 'messages[0].content[0].file.file_id');
  });
});
