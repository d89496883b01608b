/**
 * Hand-built PNGs whose header promises far more pixels than their size suggests: an honest one (every row present,
 * all zero, so it deflates ~1000:1) and a truncated one (a valid header, then only the start of the pixel stream) that
 * a decoder can only fail on — if the server answers with the header's dimensions, it never decoded.
 */
import { createDeflate } from 'node:zlib';
import { pngChunk as chunk } from '../personalize/subject-photos.js';

function header(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)]);
}

/** Deflates `rows` rows of `width` zero pixels (each row a filter byte plus the pixels), streamed in 1 MiB pieces. */
async function zeroRows(width: number, rows: number, stopAfter = Infinity): Promise<Buffer> {
  const deflate = createDeflate({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (piece: Buffer) => out.push(piece));
  const done = new Promise((resolve) => deflate.on('end', resolve));
  const piece = Buffer.alloc(1024 * 1024);
  let left = Math.min((width + 1) * rows, stopAfter);
  while (left > 0) {
    const part = piece.subarray(0, Math.min(piece.length, left));
    left -= part.length;
    if (!deflate.write(part)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await done;
  return Buffer.concat(out);
}

/** A complete, valid PNG of `width`×`height` black pixels. */
export async function zeroPng(width: number, height: number): Promise<Buffer> {
  return Buffer.concat([
    header(width, height),
    chunk('IDAT', await zeroRows(width, height)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A PNG whose header says `width`×`height` but whose pixel stream stops after 64 KiB of rows: undecodable. */
export async function truncatedPng(width: number, height: number): Promise<Buffer> {
  return Buffer.concat([
    header(width, height),
    chunk('IDAT', await zeroRows(width, height, 64 * 1024)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
