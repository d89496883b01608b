// How a runtime keeps the token masks of its parse sets (see `Runtime.fillMask`).

/** Sets bit `id` of `mask`, noting it in `added` when it was clear. */
export function mark(mask: Uint32Array, id: number, added: number[]): void {
  const w = id >>> 5;
  const bit = 1 << (id & 31);
  if ((mask[w]! & bit) === 0) {
    mask[w]! |= bit;
    added.push(id);
  }
}

/** A set's mask as kept: a shared base mask (a lexeme's, or none) plus token ids, or a whole copy. */
export class CachedMask {
  constructor(
    private readonly base: Uint32Array | null,
    private readonly extra: Int32Array | null,
  ) {}

  /** Bytes held beyond the shared base. */
  get bytes(): number {
    return 64 + (this.extra ? this.extra.byteLength : this.base!.byteLength);
  }

  fill(out: Uint32Array): void {
    if (!this.extra) {
      out.set(this.base!);
      return;
    }
    if (this.base) out.set(this.base);
    else out.fill(0);
    for (const id of this.extra) out[id >>> 5]! |= 1 << (id & 31);
  }
}

/** Masks by set, first in first out under a byte budget: old states are rarely revisited. */
export class MaskCache {
  private static readonly BUDGET = 64 << 20;
  private readonly entries = new Map<number, CachedMask>();
  private bytes = 0;

  get(set: number): CachedMask | undefined {
    return this.entries.get(set);
  }

  add(set: number, mask: CachedMask): void {
    this.entries.set(set, mask);
    this.bytes += mask.bytes;
    while (this.bytes > MaskCache.BUDGET) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }
}
