/**
 * atelier's own checks on a subject photo, independent of any model: it must decode in full, be large enough to
 * train at the chosen resolution, and differ from the photos before it (a perceptual hash).
 */
import sharp from 'sharp';
import { imageSizeProblem, readImageHeader } from '../../util/index.js';
import { subjectPhotoLimits } from '../photo-limits.js';

/** A photo that decoded: its size and difference hash. */
export interface DecodedPhoto {
  width: number;
  height: number;
  /** 64-bit dHash as 16 hex digits (see `differenceHash`). */
  dhash: string;
}

/** Result of `inspectPhoto`: the decoded facts, or why the photo cannot be used at all. */
export type PhotoInspection =
  | { ok: true; photo: DecodedPhoto }
  | { ok: false; code: 'decode_failed' | 'too_large'; message: string };

/**
 * Grey levels (of 255) by which a left pixel must be brighter for its bit to be set. Plain dHash sets it for any
 * difference, so flat areas, whose neighbours differ by a level or two, hash as noise that a JPEG re-encode flips
 * (11 of 64 bits on a tiny test photo); with the margin they hash as 0 every time.
 */
const dHashMargin = 3;

/**
 * dHash: the photo as 9×8 greyscale, one bit per horizontally adjacent pair (left brighter than right, by more than
 * `dHashMargin`). It ignores scale, re-encoding and small colour shifts, which is what makes a near-duplicate; sharp
 * does the resize, so nothing but 72 bytes is ever compared. Hex, row-major, most significant bit first.
 */
export async function differenceHash(bytes: Uint8Array): Promise<string> {
  const grey = await sharp(bytes).greyscale().resize(9, 8, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  let bits = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) bits = (bits << 1n) | (grey[y * 9 + x]! > grey[y * 9 + x + 1]! + dHashMargin ? 1n : 0n);
  }
  return bits.toString(16).padStart(16, '0');
}

/** Number of differing bits between two dHashes. */
export function hashDistance(a: string, b: string): number {
  let diff = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let count = 0;
  for (; diff > 0n; diff >>= 1n) count += Number(diff & 1n);
  return count;
}

/**
 * Reads the header (refusing decompression bombs before any decode, with the same limits as job uploads), then
 * decodes every pixel — a truncated file often has a fine header — and hashes the photo.
 */
export async function inspectPhoto(bytes: Uint8Array): Promise<PhotoInspection> {
  let header;
  try {
    header = await readImageHeader(bytes);
  } catch (error) {
    return { ok: false, code: 'decode_failed', message: `not a readable image (${(error as Error).message})` };
  }
  const tooLarge = imageSizeProblem(header, subjectPhotoLimits);
  if (tooLarge) return { ok: false, code: 'too_large', message: tooLarge };
  try {
    await sharp(bytes, { failOn: 'error' }).raw().toBuffer();
    return { ok: true, photo: { width: header.width, height: header.height, dhash: await differenceHash(bytes) } };
  } catch (error) {
    return { ok: false, code: 'decode_failed', message: `the pixels do not decode (${(error as Error).message})` };
  }
}
