/**
 * Back-pressure for one model: at most `parallel` generations run (the engine's sequences) and at most `queue` more
 * wait; beyond that a request is refused at once with 429 and a `Retry-After`, instead of piling up latency.
 */
import { RateLimitError } from '../protocol/index.js';

/** Limits of one model's admission. */
export interface AdmissionOptions {
  /** Requests generating at once (match the engine's `parallel`). Default 4. */
  parallel?: number;
  /** Requests allowed to wait beyond those. Default 16. */
  queue?: number;
  /** Seconds a refused client is told to wait. Default 1. */
  retryAfterSeconds?: number;
}

/** Counts in-flight requests of one model. */
export class Admission {
  private inFlight = 0;
  private readonly limit: number;
  private readonly retryAfter: number;

  constructor(options: AdmissionOptions = {}) {
    this.limit = (options.parallel ?? 4) + (options.queue ?? 16);
    this.retryAfter = options.retryAfterSeconds ?? 1;
  }

  /** Requests admitted and not yet released. */
  get active(): number {
    return this.inFlight;
  }

  /** Admits one request or throws `RateLimitError` (429); call the returned function exactly once when done. */
  enter(): () => void {
    if (this.inFlight >= this.limit) {
      throw new RateLimitError(
        `The model is busy (${this.inFlight} requests in flight); retry shortly`,
        this.retryAfter,
      );
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        this.inFlight--;
      }
    };
  }
}
