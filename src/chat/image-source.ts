/**
 * The bytes behind an `image_url`: a base64 `data:` URL is decoded in place; an http(s) URL is fetched through the
 * outbound policy (src/util/outbound). A remote image that cannot be used fails with one message per server
 * configuration, whatever went wrong — refused address, closed port, 404, timeout, oversize, not an image — so the
 * error cannot be used to scan the server's network.
 */
import { InvalidRequestError } from '../protocol/index.js';
import { formatBytes, outboundFetch, type AddressPolicy } from '../util/index.js';

/** How http(s) image URLs are fetched. */
export interface ImageFetchPolicy {
  /** Addresses a fetch may reach (every redirect hop is checked). */
  addresses: AddressPolicy;
  /** Time for one image, connection to last byte, redirects included, in milliseconds. Default 10 000. */
  timeoutMs: number;
  /** Redirects followed per image. Default 3. */
  maxRedirects: number;
}

/** Bytes still allowed for the images of one request, shared by all its parts. */
export interface ImageByteBudget {
  left: number;
}

/** Where an image part came from: `remote` errors must stay uniform. */
export interface ImageBytes {
  bytes: Buffer;
  remote: boolean;
}

/** What the source needs of the image limits. */
export interface ImageSourceLimits {
  maxBytes: number;
  maxRequestBytes: number;
  fetch: ImageFetchPolicy | null;
}

/**
 * The single answer for any failed remote image. It depends only on the configuration, and says what an image URL
 * must satisfy, so an honest client can still tell what to fix.
 */
export function remoteImageError(
  param: string,
  policy: ImageFetchPolicy,
  rules: string,
  cause?: unknown,
): InvalidRequestError {
  return new InvalidRequestError(
    `Could not use the image at this URL. Image URLs must be http(s), allowed by the server's fetch policy, and answer ` +
      `200 within ${policy.timeoutMs / 1000} s with ${rules}. Send the image as a base64 data URL for a precise error.`,
    { param, code: 'invalid_image_url', cause },
  );
}

function tooLarge(param: string, limit: number, perRequest: boolean): InvalidRequestError {
  const what = perRequest
    ? `The images of this request are larger than ${formatBytes(limit)} in total`
    : `Image is larger than ${formatBytes(limit)}`;
  return new InvalidRequestError(what, { param, code: 'image_too_large' });
}

/** Decodes a base64 data URL of at most `cap` bytes; `tooBig` is the error past it. */
function fromDataUrl(url: string, cap: number, tooBig: () => InvalidRequestError, param: string): Buffer {
  const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(url);
  if (!match || !match[2])
    throw new InvalidRequestError('Image data URLs must be base64 encoded', { param, code: 'invalid_image_url' });
  if (!(match[1] ?? '').startsWith('image/')) {
    throw new InvalidRequestError(`Data URL media type '${match[1]}' is not an image`, {
      param,
      code: 'invalid_image_format',
    });
  }
  const body = match[3] ?? '';
  // Padding makes the estimate up to 2 bytes high; the exact length is checked after decoding.
  if (Math.floor((body.length * 3) / 4) > cap + 2) throw tooBig();
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length > cap) throw tooBig();
  return bytes;
}

/**
 * Reads one image part's bytes, charging them to `budget` (the request's total). Data URLs fail with precise 400s;
 * remote URLs with `remoteImageError(…, rules)` for every failure; with `fetch` null, remote URLs are refused.
 */
export async function readImageBytes(
  url: string,
  limits: ImageSourceLimits,
  budget: ImageByteBudget,
  param: string,
  rules: string,
): Promise<ImageBytes> {
  const cap = Math.min(limits.maxBytes, budget.left);
  if (url.startsWith('data:')) {
    const perRequest = budget.left < limits.maxBytes;
    const tooBig = () => tooLarge(param, perRequest ? limits.maxRequestBytes : limits.maxBytes, perRequest);
    const bytes = fromDataUrl(url, cap, tooBig, param);
    budget.left -= bytes.length;
    return { bytes, remote: false };
  }
  const policy = limits.fetch;
  if (!policy) {
    throw new InvalidRequestError('This server does not fetch image URLs; send the image inline as a base64 data URL', {
      param,
      code: 'invalid_image_url',
    });
  }
  try {
    const response = await outboundFetch(url, {
      policy: policy.addresses,
      maxBytes: cap,
      timeoutMs: policy.timeoutMs,
      maxRedirects: policy.maxRedirects,
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    budget.left -= bytes.length;
    return { bytes, remote: true };
  } catch (error) {
    throw remoteImageError(param, policy, rules, error);
  }
}
