import type { SqlDatabase } from './sql-database.js';

/** A stored response of `/v1/responses`: the answer as sent (opaque JSON here) and the conversation it closes. */
export interface StoredResponse {
  /** `resp_…` */
  id: string;
  model: string;
  /** The `response` object exactly as the API answered it (what `GET /v1/responses/{id}` returns). */
  response: Record<string, unknown>;
  /** The conversation items up to and including this response's output, replayed by `previous_response_id`. */
  items: unknown[];
  /** Unix seconds. */
  createdAt: number;
}

interface Row {
  id: string;
  model: string;
  response: string;
  items: string;
  created_at: number;
}

const fromRow = (row: Row): StoredResponse => ({
  id: row.id,
  model: row.model,
  response: JSON.parse(row.response) as Record<string, unknown>,
  items: JSON.parse(row.items) as unknown[],
  createdAt: row.created_at,
});

/** Rows of `responses`. */
export class ResponseRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Stores a response (its id is unique). */
  put(record: StoredResponse): void {
    this.db
      .prepare('INSERT INTO responses (id, model, response, items, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(record.id, record.model, JSON.stringify(record.response), JSON.stringify(record.items), record.createdAt);
  }

  /** The response with `id`, if stored. */
  get(id: string): StoredResponse | undefined {
    const row = this.db.prepare('SELECT * FROM responses WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /** Deletes a response; false when there was none. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM responses WHERE id = ?').run(id).changes > 0;
  }
}
