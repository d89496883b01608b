import { getJson } from './api.js';

/** A `fine_tuning.job.event`. `data` of a metrics event holds step, total_steps, train_loss, lr, …. */
export interface JobEvent {
  id: string;
  created_at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
  type: 'message' | 'metrics';
  data: Record<string, unknown>;
}

interface Page {
  data: JobEvent[];
  has_more: boolean;
  last_id: string | null;
}

/**
 * The events of one job fetched so far, newest first and without duplicates. The API pages from the newest event
 * backwards (`after` = the last id of a page), so `pollNewer` reads pages until it meets an event it already holds,
 * and `loadOlder` continues past the oldest one held.
 */
export class EventLog {
  /** Held events, newest first. */
  events: JobEvent[] = [];
  /** Whether the server has events older than the oldest held. */
  hasOlder = false;

  constructor(
    private readonly jobId: string,
    private readonly pageSize = 20,
  ) {}

  private page(after: string | undefined): Promise<Page> {
    const query = new URLSearchParams({ limit: String(this.pageSize) });
    if (after) query.set('after', after);
    return getJson<Page>(`/v1/fine_tuning/jobs/${encodeURIComponent(this.jobId)}/events?${query}`);
  }

  /** Fetches the events newer than those held; returns how many were added. */
  async pollNewer(): Promise<number> {
    const first = this.events.length === 0;
    const known = new Set(this.events.map((event) => event.id));
    const fresh: JobEvent[] = [];
    for (let after: string | undefined; ; ) {
      const page = await this.page(after);
      const unseen = page.data.findIndex((event) => known.has(event.id));
      fresh.push(...(unseen === -1 ? page.data : page.data.slice(0, unseen)));
      if (first) this.hasOlder = page.has_more;
      if (first || unseen !== -1 || !page.has_more || page.last_id === null) break;
      after = page.last_id;
    }
    this.events = [...fresh, ...this.events];
    return fresh.length;
  }

  /** Fetches one page older than the oldest held event; returns how many were added. */
  async loadOlder(): Promise<number> {
    const oldest = this.events[this.events.length - 1];
    const page = await this.page(oldest?.id);
    const known = new Set(this.events.map((event) => event.id));
    const older = page.data.filter((event) => !known.has(event.id));
    this.events.push(...older);
    this.hasOlder = page.has_more;
    return older.length;
  }

  /** The newest metrics event's data (step, total_steps, train_loss, …), or null before the first step. */
  latestMetrics(): Record<string, unknown> | null {
    return this.events.find((event) => event.type === 'metrics')?.data ?? null;
  }
}
