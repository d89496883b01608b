import { randomBytes } from 'node:crypto';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random id in OpenAI's style: `prefix-` + 24 base62 characters (~143 bits), e.g. `ftjob-3kT...`. Ids carry no
 * order; stores that need order keep a separate monotonic sequence.
 */
export function newId(prefix: string, length = 24): string {
  // 62 does not divide 256; rejecting bytes >= 248 keeps every character equally likely.
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += alphabet[byte % 62];
    }
  }
  return `${prefix}-${out}`;
}
