/**
 * Hostile PDFs for test/hostile/documents.test.ts, written as raw bytes (pdf-lib refuses to make most of them): an
 * object table with correct offsets around whatever objects a case needs.
 */
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';

/** A PDF of `objects` (bodies of objects 1…n; object 1 is the catalog) with `trailer` entries beyond /Size and /Root. */
export function rawPdf(objects: (string | Buffer)[], trailer = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let length = chunks[0]!.length;
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'), Buffer.from('\nendobj\n')]);
    chunks.push(chunk);
    length += chunk.length;
  });
  const xref = [`xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`, ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`)].join('');
  chunks.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailer} >>\nstartxref\n${length}\n%%EOF\n`));
  return Buffer.concat(chunks);
}

/** A stream object body with `data` deflated. */
export function flateStream(data: Buffer | string, dict = ''): Buffer {
  const packed = deflateSync(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  return Buffer.concat([Buffer.from(`<< /Length ${packed.length} /Filter /FlateDecode ${dict} >>\nstream\n`), packed, Buffer.from('\nendstream')]);
}

const PAGES = '<< /Type /Pages /Kids [3 0 R] /Count 1 >>';
const page = (extra = '') => `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] ${extra} >>`;

/** Encrypted with a user password (the standard handler; the empty password does not open it). */
export function encryptedPdf(): Buffer {
  const hex = (n: number) => Buffer.alloc(32, n).toString('hex');
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R >>', PAGES, page(), `<< /Filter /Standard /V 1 /R 2 /O <${hex(7)}> /U <${hex(9)}> /P -4 >>`],
    `/Encrypt 4 0 R /ID [<${'ab'.repeat(16)}> <${'ab'.repeat(16)}>]`);
}

/** An /OpenAction that runs JavaScript, in plain objects. */
export function javascriptPdf(): Buffer {
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>', PAGES, page()]);
}

/** The same action hidden in a compressed object stream (pdf-lib writes object streams), so no raw bytes show it. */
export async function hiddenJavascriptPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  const action = doc.context.obj({ S: 'JavaScript', JS: PDFString.of('app.alert(1)') });
  doc.catalog.set(PDFName.of('OpenAction'), action);
  return doc.save({ useObjectStreams: true });
}

/** A link annotation whose action is JavaScript, on page 1. */
export function javascriptLinkPdf(): Buffer {
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R >>', PAGES, page('/Annots [4 0 R]'),
    '<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /JavaScript /JS (this.print\\(\\)) >> >>']);
}

/** A page tree whose only kid is the tree itself. */
export function recursivePagesPdf(): Buffer {
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [2 0 R] /Count 1 >>']);
}

/** A form XObject that draws itself. */
export function selfDrawingPdf(): Buffer {
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R >>', PAGES, page('/Resources << /XObject << /X 4 0 R >> >> /Contents 5 0 R'),
    flateStream('/X Do', '/Type /XObject /Subtype /Form /BBox [0 0 200 200] /Resources << /XObject << /X 4 0 R >> >>'),
    flateStream('/X Do')]);
}

/** Arrays nested `depth` deep inside the catalog. */
export function deepArrayPdf(depth = 100_000): Buffer {
  return rawPdf([`<< /Type /Catalog /Pages 2 0 R /Deep ${'['.repeat(depth)}${']'.repeat(depth)} >>`, PAGES, page()]);
}

/** A page whose content stream is `ops` path operators: megabytes of work from a few kilobytes of deflate. */
export function heavyContentPdf(ops = 3_000_000): Buffer {
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R >>', PAGES, page('/Contents 4 0 R'), flateStream('0 0 m 200 200 l S\n'.repeat(ops))]);
}

/** A PDF header, then garbage. */
export function garbagePdf(): Buffer {
  return Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(4096, 0x5a)]);
}

/** `count` blank pages (pdf-lib). */
export async function manyPagesPdf(count: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < count; i++) doc.addPage([200, 200]);
  return doc.save();
}
