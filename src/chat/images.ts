/**
 * Resolves `image_url` content parts into decoded RGBA images, under limits checked before any pixel is decoded: the
 * request's image count, bytes per image and per request, then width, height and pixel count read from the image's
 * header (sharp's `metadata()` reads only the header). Vector formats (SVG), which sharp would rasterise at any size
 * the document asks for, are refused unless the operator opts in. Every failure is a 400 naming the part.
 */
import sharp from 'sharp';
import { InvalidRequestError } from '../protocol/index.js';
import { createAddressPolicy, formatBytes, imageSizeProblem, readImageHeader } from '../util/index.js';
import type { EngineImage } from '../engines/index.js';
import { readImageBytes, remoteImageError, type ImageByteBudget, type ImageFetchPolicy } from './image-source.js';

/** Limits on the images of one chat request. */
export interface ImageLimits {
  /** Largest encoded image accepted, in bytes. Default 20 MiB (OpenAI's limit). */
  maxBytes: number;
  /** Largest total of encoded image bytes in one request. Default 50 MiB. */
  maxRequestBytes: number;
  /** Most image parts in one request. Default 8. */
  maxImages: number;
  /** Largest width or height in pixels, read from the header before decoding. Default 8192. */
  maxPixelsPerSide: number;
  /** Largest width × height, read from the header before decoding (64 MiB of RGBA at the default). Default 16 777 216. */
  maxPixels: number;
  /** Whether SVG input is rasterised (at its declared size, within the pixel limits). Default false: refused. */
  allowVector: boolean;
  /** How http(s) URLs are fetched; null turns remote fetching off (data URLs only). */
  fetch: ImageFetchPolicy | null;
}

/** Default image limits: public addresses only, 10 s per fetch, 3 redirects. */
export const defaultImageLimits: ImageLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxRequestBytes: 50 * 1024 * 1024,
  maxImages: 8,
  maxPixelsPerSide: 8192,
  maxPixels: 16_777_216,
  allowVector: false,
  fetch: { addresses: createAddressPolicy(), timeoutMs: 10_000, maxRedirects: 3 },
};

/** One image part of a request: its URL, OpenAI `detail`, and the `param` path errors name. */
export interface ImagePart {
  url: string;
  detail: 'low' | 'high' | 'auto';
  param: string;
}

/** Raster formats decoded (as sharp's `metadata().format` names them; AVIF reports as heif). */
const rasterFormats = new Set(['jpeg', 'png', 'webp', 'gif', 'heif', 'avif', 'tiff']);

/** Longest side per OpenAI `detail`: low = one 512 px tile; high/auto = the processor's own size. */
export function detailMaxSide(detail: 'low' | 'high' | 'auto'): number | null {
  return detail === 'low' ? 512 : null;
}

function formatRules(limits: ImageLimits): string {
  const formats = `PNG, JPEG, WebP, GIF, AVIF or TIFF${limits.allowVector ? ' (or SVG)' : ''}`;
  return `a ${formats} image of at most ${formatBytes(limits.maxBytes)}, ${limits.maxPixelsPerSide} px a side and ${limits.maxPixels} pixels`;
}

/** Text that starts with `<` (after a BOM or blanks) is markup: SVG or something posing as it. */
function looksLikeMarkup(bytes: Buffer): boolean {
  const head = bytes
    .subarray(0, 256)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart();
  return head.startsWith('<');
}

/** Checks format and size from the header alone; throws an Error whose message is safe for data-URL clients. */
async function checkHeader(bytes: Buffer, limits: ImageLimits): Promise<void> {
  if (!limits.allowVector && looksLikeMarkup(bytes)) throw new Error('SVG and other vector images are not accepted');
  const header = await readImageHeader(bytes);
  const vector = header.format === 'svg';
  if (!(rasterFormats.has(header.format) || (vector && limits.allowVector))) {
    throw new Error(
      vector ? 'SVG and other vector images are not accepted' : `format '${header.format}' is not accepted`,
    );
  }
  const problem = imageSizeProblem(header, { maxSide: limits.maxPixelsPerSide, maxPixels: limits.maxPixels });
  if (problem) throw new Error(problem);
}

async function decode(bytes: Buffer, detail: ImagePart['detail'], limits: ImageLimits): Promise<EngineImage> {
  await checkHeader(bytes, limits);
  // limitInputPixels again: the decoder itself stops should the header have understated the size.
  const image = sharp(bytes, { limitInputPixels: limits.maxPixels });
  const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgba: new Uint8Array(data), maxSide: detailMaxSide(detail) };
}

/** Downloads (if needed) and decodes one image, charging its bytes to the request's `budget`. */
async function loadImage(part: ImagePart, limits: ImageLimits, budget: ImageByteBudget): Promise<EngineImage> {
  const rules = formatRules(limits);
  const source = await readImageBytes(part.url, limits, budget, part.param, rules);
  try {
    return await decode(source.bytes, part.detail, limits);
  } catch (error) {
    if (source.remote && limits.fetch) throw remoteImageError(part.param, limits.fetch, rules, error);
    throw new InvalidRequestError(`The image could not be used: ${(error as Error).message}`, {
      param: part.param,
      code: 'invalid_image_format',
      cause: error,
    });
  }
}

/**
 * Loads the image parts of one request in order, one at a time (so at most one image is being decoded per request),
 * after checking their count. Throws `InvalidRequestError` (400) naming the first part that breaks a limit.
 */
export async function loadImages(
  parts: readonly ImagePart[],
  limits: ImageLimits = defaultImageLimits,
): Promise<EngineImage[]> {
  if (parts.length > limits.maxImages) {
    throw new InvalidRequestError(
      `A request may carry at most ${limits.maxImages} images; this one has ${parts.length}`,
      {
        param: 'messages',
        code: 'too_many_images',
      },
    );
  }
  const budget: ImageByteBudget = { left: limits.maxRequestBytes };
  const images: EngineImage[] = [];
  for (const part of parts) images.push(await loadImage(part, limits, budget));
  return images;
}
