import { inflateSync } from 'node:zlib';

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The text chunks of a PNG (`tEXt` Latin-1, `zTXt` compressed, `iTXt` UTF-8) as keyword → text. atelier writes
 * generation settings under `parameters` (A1111's format); this reads them back for `atelier generate` and tests.
 * Throws on a buffer that is not a PNG.
 */
export function readPngText(png: Buffer): Record<string, string> {
  if (png.length < 8 || !png.subarray(0, 8).equals(signature)) throw new Error('not a PNG file');
  const out: Record<string, string> = {};
  let offset = 8;
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    offset += 12 + length;
    if (type === 'IEND') break;
    const nul = data.indexOf(0);
    if (nul < 0) continue;
    const keyword = data.toString('latin1', 0, nul);
    if (type === 'tEXt') out[keyword] = data.toString('latin1', nul + 1);
    else if (type === 'zTXt') out[keyword] = inflateSync(data.subarray(nul + 2)).toString('latin1');
    else if (type === 'iTXt') out[keyword] = readInternational(data.subarray(nul + 1));
  }
  return out;
}

/** iTXt after the keyword: compression flag, method, language tag\0, translated keyword\0, text (UTF-8). */
function readInternational(rest: Buffer): string {
  const compressed = rest[0] === 1;
  const langEnd = rest.indexOf(0, 2);
  const transEnd = rest.indexOf(0, langEnd + 1);
  const text = rest.subarray(transEnd + 1);
  return (compressed ? inflateSync(text) : text).toString('utf8');
}

/**
 * Parses A1111 `parameters` text into `prompt`, `negative_prompt` and the `Key: value` pairs of its last line
 * (JSON-quoted values unquoted), e.g. `{ prompt, negative_prompt, Steps: '30', Sampler: 'Euler a', Seed: '1' }`.
 */
export function parseA1111Parameters(text: string): Record<string, string> {
  const lines = text.split('\n');
  const last = lines.at(-1) ?? '';
  const hasSettings = /(^|, )Steps: /.test(last);
  const head = hasSettings ? lines.slice(0, -1) : lines;
  const negativeAt = head.findIndex((line) => line.startsWith('Negative prompt:'));
  const prompt = (negativeAt < 0 ? head : head.slice(0, negativeAt)).join('\n');
  const negative = negativeAt < 0 ? '' : head.slice(negativeAt).join('\n').slice('Negative prompt:'.length).trim();
  const out: Record<string, string> = { prompt, negative_prompt: negative };
  if (!hasSettings) return out;
  const pair = /\s*([\w][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;
  for (const match of last.matchAll(pair)) {
    const value = (match[2] ?? '').trim();
    out[(match[1] ?? '').trim()] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  return out;
}
