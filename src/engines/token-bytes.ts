/**
 * Token strings → token bytes, for the two vocabulary encodings open-weight models use: GPT-2 style byte-level BPE
 * (every byte mapped to a printable code point) and SentencePiece (`▁` for space, `<0xAB>` byte-fallback pieces).
 * The constrained decoder matches bytes, never strings, so a token that holds half of a UTF-8 character still works.
 */

let byteLevelTable: Map<number, number> | null = null;

/** Code point → byte of GPT-2's `bytes_to_unicode` (printable bytes map to themselves, the rest to 256 + n). */
function byteLevelDecoder(): Map<number, number> {
  if (byteLevelTable) return byteLevelTable;
  const table = new Map<number, number>();
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table.set(printable ? b : 256 + shifted++, b);
  }
  byteLevelTable = table;
  return table;
}

/** Bytes of a byte-level BPE token string; null when it holds a code point outside the byte alphabet (a special). */
export function byteLevelTokenBytes(piece: string): Uint8Array | null {
  const table = byteLevelDecoder();
  const out: number[] = [];
  for (const ch of piece) {
    const b = table.get(ch.codePointAt(0) ?? -1);
    if (b === undefined) return null;
    out.push(b);
  }
  return Uint8Array.from(out);
}

const encoder = new TextEncoder();

/** Bytes of a SentencePiece piece: `<0xAB>` is one raw byte, `▁` is a space, everything else is UTF-8. */
export function sentencePieceTokenBytes(piece: string): Uint8Array {
  const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
  if (hex?.[1] !== undefined) return Uint8Array.of(parseInt(hex[1], 16));
  return encoder.encode(piece.replaceAll('\u2581', ' '));
}

/** The most UTF-8 bytes any token of `bytes` spells (special tokens by their marker text). */
export function longestTokenBytes(bytes: readonly Uint8Array[]): number {
  let most = 0;
  for (const b of bytes) if (b.length > most) most = b.length;
  return most;
}
