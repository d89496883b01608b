/**
 * Resolves `image_url` content parts into decoded RGBA images: `data:` URLs are decoded in place, http(s) URLs are
 * fetched with a byte cap and a timeout. Anything that is not a decodable image within the limits becomes a 400 that
 * names the offending part, before any generation starts.
 */
import sharp from 'sharp';
import { InvalidRequestError } from '../protocol/index.js';
import type { EngineImage } from '../engines/index.js';

/** Limits on fetched and inlined images. */
export interface ImageLimits {
  /** Largest encoded image accepted, in bytes. Default 20 MiB (OpenAI's limit). */
  maxBytes: number;
  /** Time allowed for fetching one http(s) image, in milliseconds. Default 10 000. */
  timeoutMs: number;
  /** Largest decoded side in pixels (guards against decompression bombs). Default 8192. */
  maxPixelsPerSide: number;
}

/** Default image limits. */
export const defaultImageLimits: ImageLimits = { maxBytes: 20 * 1024 * 1024, timeoutMs: 10_000, maxPixelsPerSide: 8192 };

/** Longest side per OpenAI `detail`: low = one 512 px tile; high/auto = the processor's own size. */
export function detailMaxSide(detail: 'low' | 'high' | 'auto'): number | null {
  return detail === 'low' ? 512 : null;
}

async function readLimited(response: Response, maxBytes: number, param: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new InvalidRequestError(`Image is larger than ${maxBytes} bytes`, { param, code: 'image_too_large' });
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body ?? []) {
    total += (chunk as Uint8Array).length;
    if (total > maxBytes) throw new InvalidRequestError(`Image is larger than ${maxBytes} bytes`, { param, code: 'image_too_large' });
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

async function fetchBytes(url: string, limits: ImageLimits, param: string): Promise<Buffer> {
  if (url.startsWith('data:')) {
    const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
    if (!match || !match[2]) throw new InvalidRequestError('Image data URLs must be base64 encoded', { param, code: 'invalid_image_url' });
    if (!(match[1] ?? '').startsWith('image/')) {
      throw new InvalidRequestError(`Data URL media type '${match[1]}' is not an image`, { param, code: 'invalid_image_format' });
    }
    const body = match[3] ?? '';
    if ((body.length * 3) / 4 > limits.maxBytes) {
      throw new InvalidRequestError(`Image is larger than ${limits.maxBytes} bytes`, { param, code: 'image_too_large' });
    }
    return Buffer.from(body, 'base64');
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(limits.timeoutMs), redirect: 'follow' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return await readLimited(response, limits.maxBytes, param);
  } catch (error) {
    if (error instanceof InvalidRequestError) throw error;
    throw new InvalidRequestError(`Could not download image from ${url}: ${(error as Error).message}`, {
      param,
      code: 'invalid_image_url',
      cause: error,
    });
  }
}

/** Downloads (if needed) and decodes one image; `param` names the content part in errors. */
export async function loadImage(
  url: string,
  detail: 'low' | 'high' | 'auto',
  param: string,
  limits: ImageLimits = defaultImageLimits,
): Promise<EngineImage> {
  const bytes = await fetchBytes(url, limits, param);
  try {
    const image = sharp(bytes, { limitInputPixels: limits.maxPixelsPerSide ** 2 });
    const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width > limits.maxPixelsPerSide || info.height > limits.maxPixelsPerSide) {
      throw new Error(`image is ${info.width}x${info.height}, over ${limits.maxPixelsPerSide} px a side`);
    }
    return { width: info.width, height: info.height, rgba: new Uint8Array(data), maxSide: detailMaxSide(detail) };
  } catch (error) {
    throw new InvalidRequestError(`The image could not be decoded: ${(error as Error).message}`, {
      param,
      code: 'invalid_image_format',
      cause: error,
    });
  }
}
