/**
 * Lines up the decode steps of concurrent generations on one context, so that node-llama-cpp batches all of them.
 *
 * node-llama-cpp decodes whatever is queued when a batch starts, and starts the next batch as soon as the previous
 * one's tokens are sampled. Sampling is one native job per sequence, finishing at different times, so without this
 * the sequence whose token came back last always missed the next batch: 4 streams ran in batches 3 wide
 * (bench/chat.ts). Here a generation ready for its next step waits while sibling steps are in flight; when the last
 * one lands, the gate gathers: it opens as soon as every active generation is waiting, or after one event-loop turn
 * for a generation that does not come (its consumer is slow) — that one joins the batch after.
 * Prompt evaluation is not a counted step, so a new request's prefill holds nobody up.
 */
export class StepGate {
  private active = 0;
  private inflight = 0;
  private waiting: (() => void)[] = [];
  private gathering = false;
  private round = 0;

  /** Registers a generation that now decodes step by step; call the returned function once when it ends. */
  join(): () => void {
    this.active++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.active--;
      if (this.gathering && this.waiting.length >= this.active) this.open();
    };
  }

  /** Resolves when this generation may queue its next step; `undefined` when it may go at once. */
  ready(): Promise<void> | undefined {
    if (this.gathering && this.waiting.length + 1 >= this.active) {
      this.open();
      return undefined;
    }
    if (!this.gathering && this.inflight === 0) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Counts `next` as a step in flight until it settles; the last one to land starts a gathering. */
  async step<T>(next: Promise<T>): Promise<T> {
    this.inflight++;
    try {
      return await next;
    } finally {
      if (--this.inflight === 0 && this.active > 1) {
        this.gathering = true;
        const round = ++this.round;
        setImmediate(() => {
          if (this.round === round) this.open();
        });
      }
    }
  }

  private open(): void {
    this.gathering = false;
    this.round++;
    const released = this.waiting;
    this.waiting = [];
    for (const resolve of released) resolve();
  }
}
