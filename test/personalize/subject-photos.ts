import { crc32, deflateSync } from 'node:zlib';

/** One PNG chunk: length, type, data, CRC of type + data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encodes RGB pixels (row-major, 3 bytes each) as a PNG: signature, IHDR, one IDAT, IEND. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 3 + 1)] = 0; // filter: none
    rows.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const grounds = [
  [30, 110, 210],
  [50, 170, 70],
  [160, 120, 60],
  [225, 225, 225],
  [25, 25, 25],
];

/**
 * Photo `i` of one test subject: a striped red square on a coloured ground whose brightness ramps in a direction
 * that changes with `i`, square placed differently each time — so the worker's duplicate check sees distinct photos.
 */
export function subjectPhoto(i: number, size = 48): Buffer {
  const rgb = new Uint8Array(size * size * 3);
  const ground = grounds[i % grounds.length]!;
  const side = size >> 1;
  const x0 = (i * 7) % (size - side);
  const y0 = (i * 11 + 3) % (size - side);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = (i % 2 === 0 ? x : size - 1 - y) / (size - 1);
      const ramp = i % 3 === 0 ? 0.5 + t : 1.4 - 0.8 * t;
      const inBox = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
      const stripe = inBox && (y - y0) % 4 === 0;
      const colour = stripe ? [250, 250, 250] : inBox ? [210, 30, 30] : ground.map((c) => Math.min(255, c * ramp));
      rgb.set(colour.map(Math.round), (y * size + x) * 3);
    }
  }
  return encodePng(size, size, rgb);
}
