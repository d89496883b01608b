/**
 * The single-node job queue: job ids run one at a time, in order (training saturates the accelerator), by the
 * `run` the owner gives. Fleet mode replaces it with the shared PostgreSQL queue (docs/FLEET.md).
 */
export class LocalJobQueue {
  private readonly ids: string[] = [];
  private pumping: Promise<void> | null = null;

  /**
   * @param run trains one job; a rejection is reported through `onError` and the queue moves on.
   * @param isClosed once true, nothing more is started.
   */
  constructor(
    private readonly run: (id: string) => Promise<void>,
    private readonly onError: (id: string, error: unknown) => void,
    private readonly isClosed: () => boolean,
  ) {}

  /** Queues `id` (once) and starts draining if idle. */
  push(id: string): void {
    if (!this.ids.includes(id)) this.ids.push(id);
    this.pump();
  }

  /** Takes `id` off the queue if it is waiting there. */
  remove(id: string): void {
    const index = this.ids.indexOf(id);
    if (index >= 0) this.ids.splice(index, 1);
  }

  /** Resolves once nothing runs and nothing waits. */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private pump(): void {
    if (this.pumping || this.isClosed()) return;
    const drain = async (): Promise<void> => {
      while (!this.isClosed() && this.ids.length > 0) {
        const id = this.ids.shift()!;
        // A bug in one run must not take the server down with an unhandled rejection, nor stall the queue.
        await this.run(id).catch((error: unknown) => this.onError(id, error));
      }
    };
    // `.finally` runs after this assignment even when the queue is empty, so `pumping` is never left stale.
    this.pumping = drain().finally(() => {
      this.pumping = null;
      if (!this.isClosed() && this.ids.length > 0) this.pump();
    });
  }
}
