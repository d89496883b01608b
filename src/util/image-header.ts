/**
 * An image's format and size from its header alone (sharp's `metadata()` parses the header and decodes no pixels),
 * so decompression bombs — a few kilobytes that declare billions of pixels — are refused before any decode.
 */
import sharp from 'sharp';

/** Format and dimensions as declared by an image's header. */
export interface ImageHeader {
  /** sharp's format name: `png`, `jpeg`, `webp`, `gif`, `heif` (also AVIF), `tiff`, `svg`, … */
  format: string;
  width: number;
  /** Height of one page/frame (animated GIF/WebP declare all frames stacked). */
  height: number;
}

/** Size limits checked against a header. */
export interface ImageSizeLimits {
  /** Largest width or height, in pixels. */
  maxSide: number;
  /** Largest width × height, in pixels. */
  maxPixels: number;
}

/**
 * Reads the header of image bytes, or of the file at a path (sharp opens it on its thread pool and reads the header
 * alone); rejects with sharp's error when the input is no image it knows.
 */
export async function readImageHeader(input: Uint8Array | string): Promise<ImageHeader> {
  // No pixel limit here: nothing is decoded, and the caller's check then names the actual size.
  const meta = await sharp(input, { limitInputPixels: false }).metadata();
  return { format: meta.format ?? 'unknown', width: meta.width ?? 0, height: meta.pageHeight ?? meta.height ?? 0 };
}

/** Why `header` breaks `limits` (`image is 1x60000000, over 8192 px a side`), or null when it fits. */
export function imageSizeProblem(header: ImageHeader, limits: ImageSizeLimits): string | null {
  const { width, height } = header;
  if (width > limits.maxSide || height > limits.maxSide)
    return `image is ${width}x${height}, over ${limits.maxSide} px a side`;
  if (width * height > limits.maxPixels) return `image is ${width}x${height}, over ${limits.maxPixels} pixels`;
  return null;
}
