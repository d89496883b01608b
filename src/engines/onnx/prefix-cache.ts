/**
 * Prefix KV reuse for transformers.js text decoders: the KV cache of the last finished generation is kept with the
 * tokens it holds; a new prompt sharing a prefix with them starts from that cache cropped to the shared length
 * (always re-feeding at least the last prompt token). One slot per model: a generation takes it, and gives back
 * its own cache when it ends. Image prompts never use it (their positions depend on the vision inputs).
 */
import { Tensor, ones } from '@huggingface/transformers';

/** transformers.js `DynamicCache`: `past_key_values.<layer>.key|value` tensors shaped [batch, heads, seq, dim]. */
export type KvCache = Record<string, Tensor> & { dispose?: () => Promise<void> | void; get_seq_length?: () => number };

interface Slot {
  tokens: bigint[];
  kv: KvCache;
}

/** The single reusable cache of one model. */
export class PrefixCache {
  private slot: Slot | null = null;

  /**
   * Takes the cached state for `prompt`: returns the model inputs that continue from it (`input_ids` of the unshared
   * tail, full `attention_mask`, cropped `past_key_values`) and how many tokens were reused; null when nothing is.
   */
  take(prompt: bigint[]): { inputs: Record<string, unknown>; reused: number } | null {
    const slot = this.slot;
    this.slot = null;
    if (!slot) return null;
    let shared = 0;
    const limit = Math.min(slot.tokens.length, prompt.length - 1);
    while (shared < limit && slot.tokens[shared] === prompt[shared]) shared++;
    if (shared === 0) {
      void slot.kv.dispose?.();
      return null;
    }
    const kv = crop(slot.kv, shared);
    const tail = prompt.slice(shared);
    const inputs = {
      input_ids: new Tensor('int64', BigInt64Array.from(tail), [1, tail.length]),
      attention_mask: ones([1, prompt.length]),
      past_key_values: kv,
    };
    return { inputs, reused: shared };
  }

  /** Keeps `kv`, which holds the states of `tokens`, for the next request (replacing the previous one). */
  give(tokens: bigint[], kv: KvCache | null | undefined): void {
    if (!kv) return;
    void this.slot?.kv.dispose?.();
    this.slot = { tokens, kv };
  }

  /** Drops the kept cache. */
  clear(): void {
    void this.slot?.kv.dispose?.();
    this.slot = null;
  }
}

/** The cache restricted to its first `length` positions (a new cache object; tensors are sliced copies). */
function crop(kv: KvCache, length: number): KvCache {
  const out: Record<string, Tensor> = {};
  for (const [name, tensor] of Object.entries(kv)) {
    if (!name.startsWith('past_key_values.')) continue;
    out[name] = (tensor as Tensor).slice(null, null, [0, length], null);
  }
  const Cache = kv.constructor as new (entries: Record<string, Tensor>) => KvCache;
  return new Cache(out);
}
