/**
 * Hostile PDFs for test/hostile/documents.test.ts, written as raw bytes (pdf-lib refuses to make most of them): an
 * object table with correct offsets around whatever objects a case needs.
 */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';

/** A PDF of `objects` (bodies of objects 1…n; object 1 is the catalog) with `trailer` entries beyond /Size and /Root. */
export function rawPdf(objects: (string | Buffer)[], trailer = ''): Buffer {
  const chunks: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let length = chunks[0]!.length;
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk = Buffer.concat([
      Buffer.from(`${i + 1} 0 obj\n`),
      Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'),
      Buffer.from('\nendobj\n'),
    ]);
    chunks.push(chunk);
    length += chunk.length;
  });
  const xref = [
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`,
    ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`),
  ].join('');
  chunks.push(
    Buffer.from(
      `${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailer} >>\nstartxref\n${length}\n%%EOF\n`,
    ),
  );
  return Buffer.concat(chunks);
}

/** A stream object body with `data` deflated. */
export function flateStream(data: Buffer | string, dict = ''): Buffer {
  const packed = deflateSync(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  return Buffer.concat([
    Buffer.from(`<< /Length ${packed.length} /Filter /FlateDecode ${dict} >>\nstream\n`),
    packed,
    Buffer.from('\nendstream'),
  ]);
}

const PAGES = '<< /Type /Pages /Kids [3 0 R] /Count 1 >>';
const page = (extra = '') => `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] ${extra} >>`;

/** Encrypted with a user password (the standard handler; the empty password does not open it). */
export function encryptedPdf(): Buffer {
  const hex = (n: number) => Buffer.alloc(32, n).toString('hex');
  return rawPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      PAGES,
      page(),
      `<< /Filter /Standard /V 1 /R 2 /O <${hex(7)}> /U <${hex(9)}> /P -4 >>`,
    ],
    `/Encrypt 4 0 R /ID [<${'ab'.repeat(16)}> <${'ab'.repeat(16)}>]`,
  );
}

/** RC4, which OpenSSL 3 no longer offers by default; the PDF standard security handler (revision 2) is built on it. */
function rc4(key: Buffer, data: Buffer): Buffer {
  const box = Array.from({ length: 256 }, (_, i) => i);
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + box[i]! + key[i % key.length]!) & 255;
    [box[i], box[j]] = [box[j]!, box[i]!];
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 255;
    j = (j + box[i]!) & 255;
    [box[i], box[j]] = [box[j]!, box[i]!];
    out[n] = data[n]! ^ box[(box[i]! + box[j]!) & 255]!;
  }
  return out;
}

/**
 * Encrypted with an empty user password (any reader opens it without asking): the standard handler, revision 2,
 * owner password "owner" (PDF 32000-1 algorithms 2, 3 and 4).
 */
export function emptyPasswordEncryptedPdf(): Buffer {
  const pad = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');
  const id = Buffer.alloc(16, 0xab);
  const owner = rc4(
    createHash('md5')
      .update(Buffer.concat([Buffer.from('owner'), pad]).subarray(0, 32))
      .digest()
      .subarray(0, 5),
    pad,
  );
  const p = Buffer.alloc(4);
  p.writeInt32LE(-4);
  const key = createHash('md5')
    .update(Buffer.concat([pad, owner, p, id]))
    .digest()
    .subarray(0, 5);
  const user = rc4(key, pad);
  return rawPdf(
    [
      '<< /Type /Catalog /Pages 2 0 R >>',
      PAGES,
      page(),
      `<< /Filter /Standard /V 1 /R 2 /O <${owner.toString('hex')}> /U <${user.toString('hex')}> /P -4 >>`,
    ],
    `/Encrypt 4 0 R /ID [<${id.toString('hex')}> <${id.toString('hex')}>]`,
  );
}

/** An /OpenAction that runs JavaScript, in plain objects. */
export function javascriptPdf(): Buffer {
  return rawPdf([
    '<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>',
    PAGES,
    page(),
  ]);
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
  return rawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    PAGES,
    page('/Annots [4 0 R]'),
    '<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A << /S /JavaScript /JS (this.print\\(\\)) >> >>',
  ]);
}

/** A page tree whose only kid is the tree itself. */
export function recursivePagesPdf(): Buffer {
  return rawPdf(['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [2 0 R] /Count 1 >>']);
}

/** A form XObject that draws itself. */
export function selfDrawingPdf(): Buffer {
  return rawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    PAGES,
    page('/Resources << /XObject << /X 4 0 R >> >> /Contents 5 0 R'),
    flateStream('/X Do', '/Type /XObject /Subtype /Form /BBox [0 0 200 200] /Resources << /XObject << /X 4 0 R >> >>'),
    flateStream('/X Do'),
  ]);
}

/** Arrays nested `depth` deep inside the catalog. */
export function deepArrayPdf(depth = 100_000): Buffer {
  return rawPdf([`<< /Type /Catalog /Pages 2 0 R /Deep ${'['.repeat(depth)}${']'.repeat(depth)} >>`, PAGES, page()]);
}

/** A page whose content stream is `ops` path operators: megabytes of work from a few kilobytes of deflate. */
export function heavyContentPdf(ops = 3_000_000): Buffer {
  return rawPdf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    PAGES,
    page('/Contents 4 0 R'),
    flateStream('0 0 m 200 200 l S\n'.repeat(ops)),
  ]);
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
