/**
 * ggml's Q8_0 quantization, for benchmark-size demo GGUFs: real deployments run quantized weights, and how a CPU
 * decode step scales with batch size depends on it (F32 matrix-vector products are compute-bound on one thread;
 * quantized ones are closer to memory-bound, as real models are). Integer arithmetic on float bits only, so the
 * bytes are identical on every machine (see prng.ts).
 */

/** Values per Q8_0 block (ggml `QK8_0`); a block is an F16 scale then 32 signed bytes. */
export const Q8_0_BLOCK = 32;
/** Bytes per Q8_0 block. */
export const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of `value` (rounded to nearest, ties to even; overflow → ±infinity). */
export function halfBits(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    return sign | roundShift(mantissa | 0x800000, 14 - e);
  }
  // A rounding carry out of the mantissa correctly bumps the exponent (and overflows to infinity at the top).
  return sign | ((e << 10) + roundShift(mantissa, 13));
}

function roundShift(value: number, shift: number): number {
  const kept = value >>> shift;
  const rest = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** Rounds half away from zero, like C's `roundf`. */
function roundAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/**
 * Q8_0 bytes of `data` (ggml `quantize_row_q8_0_ref`): per block of 32, scale d = max|x| / 127 stored as F16 and
 * q = round(x / d). `data.length` must be a multiple of 32 (rows of a matrix whose inner size is).
 */
export function quantizeQ8_0(data: Float32Array): Uint8Array {
  if (data.length % Q8_0_BLOCK !== 0)
    throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${data.length}`);
  const blocks = data.length / Q8_0_BLOCK;
  const out = Buffer.alloc(blocks * Q8_0_BLOCK_BYTES);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK;
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(data[base + i] as number));
    const d = Math.fround(amax / 127);
    const inverse = d === 0 ? 0 : Math.fround(1 / d);
    const at = b * Q8_0_BLOCK_BYTES;
    out.writeUInt16LE(halfBits(d), at);
    for (let i = 0; i < Q8_0_BLOCK; i++)
      out.writeInt8(roundAway(Math.fround((data[base + i] as number) * inverse)), at + 2 + i);
  }
  return out;
}
