/**
 * Makes the sample documents of docs/DOCUMENTS.md and the document tests with pdf-lib (MIT): an invoice whose every
 * page has a text layer, and a two-page letter whose second page is a scan (an image, no text).
 *
 *   npx tsx scripts/make-invoice-pdf.ts invoice.pdf      # writes the invoice and invoice.json (its strict schema)
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';

/** The invoice's facts, as the schema's answer should give them back. */
export const invoiceFacts = { number: 'INV-2026-042', customer: 'Atelier Studio GmbH', total: 1234.5, currency: 'EUR' };

/** A strict JSON schema for invoices (what `--schema invoice.json` enforces). */
export const invoiceSchema = {
  type: 'object',
  properties: {
    invoice_number: { type: 'string', maxLength: 32 },
    customer: { type: 'string', maxLength: 64 },
    total: { type: 'number', minimum: 0, maximum: 1000000000 },
    currency: { enum: ['EUR', 'USD', 'GBP'] },
  },
  required: ['invoice_number', 'customer', 'total', 'currency'],
  additionalProperties: false,
};

/** A one-page invoice with a text layer (Helvetica, so the reader needs pdf.js's bundled standard fonts). */
export async function invoicePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const page = doc.addPage([420, 300]);
  const lines = [
    [`Invoice ${invoiceFacts.number}`, 16],
    [`Bill to: ${invoiceFacts.customer}`, 11],
    ['1 x Custom model fine-tuning        1,000.00', 11],
    ['1 x Document extraction setup         234.50', 11],
    [`Total: ${invoiceFacts.total.toFixed(2)} ${invoiceFacts.currency}`, 13],
  ] as const;
  lines.forEach(([text, size], i) => page.drawText(text, { x: 30, y: 250 - i * 32, size, font }));
  return doc.save();
}

/** Two pages: page 1 with a text layer (`text`), page 2 a scanned-only page — a picture of a page and no text at all. */
export async function scannedLetterPdf(text = 'Dear customer, your order 7 has shipped.'): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  doc.addPage([300, 200]).drawText(text, { x: 20, y: 150, size: 10, font });
  const scan = await sharp({ create: { width: 120, height: 80, channels: 3, background: { r: 230, g: 225, b: 210 } } })
    .composite([
      {
        input: { create: { width: 80, height: 8, channels: 3, background: { r: 20, g: 20, b: 20 } } },
        top: 20,
        left: 20,
      },
    ])
    .png()
    .toBuffer();
  const image = await doc.embedPng(scan);
  doc.addPage([300, 200]).drawImage(image, { x: 0, y: 0, width: 300, height: 200 });
  return doc.save();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ?? 'invoice.pdf';
  writeFileSync(out, await invoicePdf());
  writeFileSync(out.replace(/\.pdf$/i, '') + '.json', `${JSON.stringify(invoiceSchema, null, 2)}\n`);
  console.log(`wrote ${out} and its schema ${out.replace(/\.pdf$/i, '')}.json`);
}
