/**
 * A GGUF v3 writer (the llama.cpp/ggml file format): little-endian header, typed key/value metadata, tensor infos,
 * then the tensor data, each tensor aligned to `general.alignment` bytes from the start of the data section.
 * Only what the demo models need is supported: scalar, string and array values, F32 and Q8_0 tensors.
 */
import { quantizeQ8_0 } from './gguf-quant.js';

/** GGUF metadata value types (numbering from the spec). */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** A scalar metadata type (everything but ARRAY). */
export type GgufScalarType = Exclude<(typeof GgufType)[keyof typeof GgufType], 9>;

/** A typed metadata value: a scalar, or an array of one scalar type. */
export type GgufValue =
  | { type: GgufScalarType; value: number | bigint | boolean | string }
  | { type: 9; itemType: GgufScalarType; items: ReadonlyArray<number | bigint | boolean | string> };

/** ggml tensor element type F32 (the tiny demo models' only type). */
export const GGML_TYPE_F32 = 0;
/** ggml tensor element type Q8_0 (benchmark-size demo models; see gguf-quant.ts). */
export const GGML_TYPE_Q8_0 = 8;

/** A tensor to store. `dims` are ggml's `ne`, innermost (contiguous) first: a PyTorch `[out, in]` weight is `[in, out]`. */
export interface GgufTensor {
  name: string;
  dims: number[];
  data: Float32Array;
  /** Stored type; default F32. Q8_0 needs `dims[0]` to be a multiple of 32. */
  type?: typeof GGML_TYPE_F32 | typeof GGML_TYPE_Q8_0;
}

/** Helpers to build typed metadata values. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: GgufType.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: GgufType.INT32, value }),
  f32: (value: number): GgufValue => ({ type: GgufType.FLOAT32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufType.BOOL, value }),
  str: (value: string): GgufValue => ({ type: GgufType.STRING, value }),
  strings: (items: readonly string[]): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.STRING, items }),
  i32s: (items: readonly number[]): GgufValue => ({ type: GgufType.ARRAY, itemType: GgufType.INT32, items }),
};

/** Grows a buffer as little-endian values are appended. */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf.writeUInt8(v, this.length++);
  }
  u32(v: number): void {
    this.reserve(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
  }
  u64(v: number | bigint): void {
    this.reserve(8);
    this.length = this.buf.writeBigUInt64LE(BigInt(v), this.length);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeString(sink: ByteSink, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  sink.u64(bytes.length);
  sink.bytes(bytes);
}

function writeScalar(sink: ByteSink, type: GgufScalarType, v: number | bigint | boolean | string): void {
  const b = Buffer.alloc(8);
  switch (type) {
    case GgufType.STRING:
      return writeString(sink, String(v));
    case GgufType.BOOL:
      return sink.u8(v ? 1 : 0);
    case GgufType.UINT8:
      return sink.u8(Number(v));
    case GgufType.INT8:
      b.writeInt8(Number(v));
      return sink.bytes(b.subarray(0, 1));
    case GgufType.UINT16:
      b.writeUInt16LE(Number(v));
      return sink.bytes(b.subarray(0, 2));
    case GgufType.INT16:
      b.writeInt16LE(Number(v));
      return sink.bytes(b.subarray(0, 2));
    case GgufType.UINT32:
      return sink.u32(Number(v));
    case GgufType.INT32:
      b.writeInt32LE(Number(v));
      return sink.bytes(b.subarray(0, 4));
    case GgufType.FLOAT32:
      b.writeFloatLE(Number(v));
      return sink.bytes(b.subarray(0, 4));
    case GgufType.UINT64:
      return sink.u64(BigInt(v as number | bigint));
    case GgufType.INT64:
      b.writeBigInt64LE(BigInt(v as number | bigint));
      return sink.bytes(b);
    case GgufType.FLOAT64:
      b.writeDoubleLE(Number(v));
      return sink.bytes(b);
  }
}

function tensorBytes(tensor: GgufTensor): Uint8Array {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (count !== tensor.data.length)
    throw new Error(`tensor ${tensor.name}: dims ${tensor.dims} ≠ ${tensor.data.length} values`);
  if (tensor.type === GGML_TYPE_Q8_0) return quantizeQ8_0(tensor.data);
  const out = Buffer.alloc(count * 4);
  tensor.data.forEach((v, i) => out.writeFloatLE(v, i * 4));
  return out;
}

/**
 * Serialises a complete GGUF v3 file. Metadata keys are written in the given order; `general.alignment` (default
 * 32) is honoured when present as a UINT32 value.
 */
export function writeGguf(metadata: ReadonlyArray<[string, GgufValue]>, tensors: readonly GgufTensor[]): Buffer {
  const alignEntry = metadata.find(([key]) => key === 'general.alignment')?.[1];
  const alignment = alignEntry && 'value' in alignEntry ? Number(alignEntry.value) : 32;
  const sink = new ByteSink();
  sink.bytes(Buffer.from('GGUF', 'ascii'));
  sink.u32(3);
  sink.u64(tensors.length);
  sink.u64(metadata.length);
  for (const [key, value] of metadata) {
    writeString(sink, key);
    sink.u32(value.type);
    if (value.type === GgufType.ARRAY) {
      sink.u32(value.itemType);
      sink.u64(value.items.length);
      for (const item of value.items) writeScalar(sink, value.itemType, item);
    } else {
      writeScalar(sink, value.type, value.value);
    }
  }
  const blobs = tensors.map(tensorBytes);
  let offset = 0;
  tensors.forEach((tensor, i) => {
    writeString(sink, tensor.name);
    sink.u32(tensor.dims.length);
    for (const d of tensor.dims) sink.u64(d);
    sink.u32(tensor.type ?? GGML_TYPE_F32);
    sink.u64(offset);
    offset += Math.ceil((blobs[i]?.length ?? 0) / alignment) * alignment;
  });
  sink.pad(alignment);
  for (const blob of blobs) {
    sink.bytes(blob);
    sink.pad(alignment);
  }
  return sink.result();
}
