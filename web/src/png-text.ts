/**
 * The `parameters` text chunk atelier writes into every PNG (AUTOMATIC1111's format: prompt, `Negative prompt:`,
 * then `Steps: …, Sampler: …, CFG scale: …, Seed: …, Size: …, Model: …`), or null when the PNG has none. Reads
 * tEXt (Latin-1) and uncompressed iTXt (UTF-8), the two chunks Pillow writes for it.
 */
export function pngParameters(png: Uint8Array): string | null {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const latin1 = new TextDecoder('latin1');
  for (let offset = 8; offset + 8 <= png.length; ) {
    const length = view.getUint32(offset);
    const type = latin1.decode(png.subarray(offset + 4, offset + 8));
    const data = png.subarray(offset + 8, offset + 8 + length);
    offset += 12 + length;
    if (type === 'IEND') break;
    if (type !== 'tEXt' && type !== 'iTXt') continue;
    const nul = data.indexOf(0);
    if (nul < 0 || latin1.decode(data.subarray(0, nul)) !== 'parameters') continue;
    if (type === 'tEXt') return latin1.decode(data.subarray(nul + 1));
    if (data[nul + 1] !== 0) continue;
    // iTXt: keyword\0, compression flag, method, language\0, translated keyword\0, text.
    const language = data.indexOf(0, nul + 3);
    const translated = data.indexOf(0, language + 1);
    return new TextDecoder('utf-8').decode(data.subarray(translated + 1));
  }
  return null;
}

/** Decodes base64 into bytes. */
export function base64Bytes(b64: string): Uint8Array {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
