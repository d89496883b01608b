/** The chat image limits and fetch policy from the server's configuration (keys `image*`, docs/SECURITY.md). */
import type { ImageLimits } from '../chat/index.js';
import { createAddressPolicy } from '../util/index.js';
import type { AtelierConfig } from './config-schema.js';

/** Redirects followed per image URL, each hop re-checked against the address policy. */
const maxImageRedirects = 3;

/**
 * Builds the limits once per server. Throws an Error naming a bad `imageFetchAllow` entry (neither a host name nor
 * an IP address or CIDR), so a typo stops the server at start instead of silently allowing nothing.
 */
export function imageLimitsFromConfig(config: AtelierConfig): ImageLimits {
  const fetch =
    config.imageFetch === 'off'
      ? null
      : {
          addresses: createAddressPolicy({
            allow: config.imageFetchAllow,
            publicInternet: config.imageFetch === 'public',
          }),
          timeoutMs: config.imageFetchTimeoutMs,
          maxRedirects: maxImageRedirects,
        };
  return {
    maxBytes: config.imageMaxBytes,
    maxRequestBytes: config.imageMaxRequestBytes,
    maxImages: config.imageMaxCount,
    maxPixelsPerSide: config.imageMaxSide,
    maxPixels: config.imageMaxPixels,
    allowVector: config.imageAllowVector,
    fetch,
  };
}
