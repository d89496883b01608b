/**
 * The sequences of one llama.cpp context, lent to one generation at a time. node-llama-cpp batches the decode steps
 * of all busy sequences together, so concurrent requests share each forward pass. A free sequence whose KV cache
 * shares the longest prefix with the new prompt is preferred, which is what makes multi-turn chats and repeated
 * system prompts cheap (`cached_tokens`).
 */
import type { LlamaContext, LlamaContextSequence, Token } from 'node-llama-cpp';

/** A lent sequence; call `release()` exactly once when the generation is over. */
export interface SequenceLease {
  sequence: LlamaContextSequence;
  release(): void;
}

/** Hands out the context's sequences, queueing callers when all are busy. */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: { prompt: readonly Token[]; resolve: (s: LlamaContextSequence) => void }[] = [];

  constructor(context: LlamaContext) {
    while (context.sequencesLeft > 0) this.free.push(context.getSequence());
  }

  /** Number of generations waiting for a sequence. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Resolves with the free sequence best matching `prompt` (longest shared token prefix), waiting if none is free. */
  acquire(prompt: readonly Token[], signal?: AbortSignal): Promise<SequenceLease> {
    const best = this.takeBest(prompt);
    if (best) return Promise.resolve(this.lease(best));
    return new Promise((resolve, reject) => {
      const waiter = { prompt, resolve: (s: LlamaContextSequence) => resolve(this.lease(s)) };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) {
            this.waiters.splice(at, 1);
            reject(signal.reason);
          }
        },
        { once: true },
      );
    });
  }

  private takeBest(prompt: readonly Token[]): LlamaContextSequence | null {
    let bestAt = -1;
    let bestLength = -1;
    this.free.forEach((s, i) => {
      const shared = s.compareContextTokens(prompt as Token[]).firstDifferentIndex;
      if (shared > bestLength) [bestAt, bestLength] = [i, shared];
    });
    return bestAt < 0 ? null : (this.free.splice(bestAt, 1)[0] ?? null);
  }

  private lease(sequence: LlamaContextSequence): SequenceLease {
    let released = false;
    return {
      sequence,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiters.shift();
        if (next) next.resolve(sequence);
        else this.free.push(sequence);
      },
    };
  }
}
