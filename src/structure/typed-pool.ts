/**
 * Slices of a few large buffers handed out as small typed arrays. The decoder keeps tens of thousands of small
 * arrays alive (a 256-entry transition row per parse set, a 16 KB mask per lexeme state); each with its own
 * ArrayBuffer is a separate external allocation, and together they drove V8's collector to a sixth of the
 * decoder's time on MaskBench. Slices are never handed back: an owner keeps its own pool (a grammar's runtime, an
 * object machine), so a chunk is freed with the owner. Chunks start small and double, so small owners stay small.
 */
export class TypedPool {
  private chunk = new ArrayBuffer(0);
  private used = 0;

  constructor(private readonly maxChunkBytes = 1 << 20) {}

  /** A new Int32Array of `length` entries, each `fill`. */
  int32Array(length: number, fill: number): Int32Array {
    const offset = this.take(length * 4);
    const out = new Int32Array(this.chunk, offset, length);
    if (fill !== 0) out.fill(fill);
    return out;
  }

  /** A new zeroed Uint32Array of `length` words. */
  uint32Array(length: number): Uint32Array {
    const offset = this.take(length * 4);
    return new Uint32Array(this.chunk, offset, length);
  }

  /**
   * The offset of `bytes` fresh (zeroed) bytes in the current chunk, after starting a new chunk if needed — so read
   * `chunk` only after calling this.
   */
  private take(bytes: number): number {
    if (this.used + bytes > this.chunk.byteLength) {
      // Twice the last chunk, within the cap, and at least what is asked for.
      this.chunk = new ArrayBuffer(
        Math.max(bytes, Math.min(Math.max(4096, this.chunk.byteLength * 2), this.maxChunkBytes)),
      );
      this.used = 0;
    }
    this.used += bytes;
    return this.used - bytes;
  }
}

/** The pool of caches that outlive grammars (per-leaf masks; leaves are shared process-wide). */
export const sharedPool = new TypedPool();
