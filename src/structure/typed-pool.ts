/**
 * Slices of a few large buffers handed out as small typed arrays. The decoder keeps tens of thousands of small
 * arrays alive (a 256-entry transition row per parse set, a 16 KB mask per lexeme state); each with its own
 * ArrayBuffer is a separate external allocation, and together they drove V8's collector to a sixth of the
 * decoder's time on MaskBench. Slices are never handed back: an owner keeps its own pool (a grammar's runtime, an
 * object machine), so a chunk is freed with the owner. Chunks start small and double, so small owners stay small.
 */
export class TypedPool {
  private int32 = new Int32Array(0);
  private int32Used = 0;
  private uint32 = new Uint32Array(0);
  private uint32Used = 0;

  constructor(private readonly maxChunkBytes = 1 << 20) {}

  /** A new Int32Array of `length` entries, each `fill`. */
  int32Array(length: number, fill: number): Int32Array {
    if (this.int32Used + length > this.int32.length) {
      this.int32 = new Int32Array(this.chunkLength(this.int32.length, length));
      this.int32Used = 0;
    }
    const out = this.int32.subarray(this.int32Used, (this.int32Used += length));
    if (fill !== 0) out.fill(fill);
    return out;
  }

  /** A new zeroed Uint32Array of `length` words. */
  uint32Array(length: number): Uint32Array {
    if (this.uint32Used + length > this.uint32.length) {
      this.uint32 = new Uint32Array(this.chunkLength(this.uint32.length, length));
      this.uint32Used = 0;
    }
    return this.uint32.subarray(this.uint32Used, (this.uint32Used += length));
  }

  /** Twice the last chunk, within the cap, and at least what is asked for. */
  private chunkLength(last: number, length: number): number {
    return Math.max(length, Math.min(Math.max(1024, last * 2), this.maxChunkBytes >>> 2));
  }
}

/** The pool of caches that outlive grammars (per-leaf masks; leaves are shared process-wide). */
export const sharedPool = new TypedPool();
