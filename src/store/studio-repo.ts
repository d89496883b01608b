import type { SqlDatabase } from './sql-database.js';

/** A conversation the web studio saved: its messages and chat settings as the page keeps them (opaque JSON here). */
export interface StudioChat {
  /** `chat-…` */
  id: string;
  title: string;
  model: string;
  settings: Record<string, unknown>;
  messages: unknown[];
  /** Unix seconds. */
  createdAt: number;
  updatedAt: number;
}

/** A generated image the studio kept for its gallery: the PNG bytes plus what made it. */
export interface StudioImage {
  /** `img-…` */
  id: string;
  model: string;
  prompt: string;
  seed: number | null;
  /** The A1111 `parameters` text the PNG records. */
  parameters: string;
  /** The form's request fields, so "reuse settings" can refill it. */
  settings: Record<string, unknown>;
  /** Unix seconds. */
  createdAt: number;
}

interface ChatRow {
  id: string;
  title: string;
  model: string;
  settings: string;
  messages: string;
  created_at: number;
  updated_at: number;
}

interface ImageRow {
  id: string;
  model: string;
  prompt: string;
  seed: number | null;
  parameters: string;
  settings: string;
  created_at: number;
}

const chatOf = (row: ChatRow): StudioChat => ({
  id: row.id,
  title: row.title,
  model: row.model,
  settings: JSON.parse(row.settings) as Record<string, unknown>,
  messages: JSON.parse(row.messages) as unknown[],
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const imageOf = (row: ImageRow): StudioImage => ({
  id: row.id,
  model: row.model,
  prompt: row.prompt,
  seed: row.seed,
  parameters: row.parameters,
  settings: JSON.parse(row.settings) as Record<string, unknown>,
  createdAt: row.created_at,
});

const imageColumns = 'id, model, prompt, seed, parameters, settings, created_at';

/**
 * The web studio's history (tables `studio_chats`, `studio_images`, `studio_forms`): kept server-side so it follows
 * the user across browsers and survives restarts. Lists are newest first with an `after` cursor like the API's.
 */
export class StudioRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Chats, most recently updated first (without their messages' bodies being needed by the caller). */
  listChats(): StudioChat[] {
    const rows = this.db.prepare('SELECT * FROM studio_chats ORDER BY updated_at DESC, seq DESC').all() as ChatRow[];
    return rows.map(chatOf);
  }

  /** One chat, or null. */
  getChat(id: string): StudioChat | null {
    const row = this.db.prepare('SELECT * FROM studio_chats WHERE id = ?').get(id) as ChatRow | undefined;
    return row ? chatOf(row) : null;
  }

  /** Inserts or replaces a chat (created_at of an existing one is kept). */
  saveChat(chat: StudioChat): StudioChat {
    this.db
      .prepare(
        `INSERT INTO studio_chats (id, title, model, settings, messages, created_at, updated_at)
         VALUES (@id, @title, @model, @settings, @messages, @createdAt, @updatedAt)
         ON CONFLICT (id) DO UPDATE SET title = @title, model = @model, settings = @settings, messages = @messages,
           updated_at = @updatedAt`,
      )
      .run({ ...chat, settings: JSON.stringify(chat.settings), messages: JSON.stringify(chat.messages) });
    return this.getChat(chat.id)!;
  }

  /** Deletes a chat; false when there was none. */
  deleteChat(id: string): boolean {
    return this.db.prepare('DELETE FROM studio_chats WHERE id = ?').run(id).changes > 0;
  }

  /** A page of images, newest first, after the image `after` (exclusive). */
  listImages(options: { after?: string; limit: number }): { data: StudioImage[]; hasMore: boolean } {
    const cursor = options.after
      ? (this.db.prepare('SELECT seq FROM studio_images WHERE id = ?').get(options.after) as
          | { seq: number }
          | undefined)
      : undefined;
    const rows = this.db
      .prepare(`SELECT ${imageColumns} FROM studio_images WHERE seq < ? ORDER BY seq DESC LIMIT ?`)
      .all(cursor?.seq ?? Number.MAX_SAFE_INTEGER, options.limit + 1) as ImageRow[];
    return { data: rows.slice(0, options.limit).map(imageOf), hasMore: rows.length > options.limit };
  }

  /** One image's record, or null. */
  getImage(id: string): StudioImage | null {
    const row = this.db.prepare(`SELECT ${imageColumns} FROM studio_images WHERE id = ?`).get(id) as
      | ImageRow
      | undefined;
    return row ? imageOf(row) : null;
  }

  /** One image's PNG bytes, or null. */
  imagePng(id: string): Buffer | null {
    const row = this.db.prepare('SELECT png FROM studio_images WHERE id = ?').get(id) as { png: Buffer } | undefined;
    return row?.png ?? null;
  }

  /** Stores an image. */
  addImage(image: StudioImage, png: Buffer): StudioImage {
    this.db
      .prepare(
        `INSERT INTO studio_images (id, model, prompt, seed, parameters, settings, png, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        image.id,
        image.model,
        image.prompt,
        image.seed,
        image.parameters,
        JSON.stringify(image.settings),
        png,
        image.createdAt,
      );
    return image;
  }

  /** Deletes an image; false when there was none. */
  deleteImage(id: string): boolean {
    return this.db.prepare('DELETE FROM studio_images WHERE id = ?').run(id).changes > 0;
  }

  /** A saved form's value (any JSON), or null when never saved. */
  getForm(name: string): unknown {
    const row = this.db.prepare('SELECT value FROM studio_forms WHERE name = ?').get(name) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as unknown) : null;
  }

  /** Saves a form's value. */
  saveForm(name: string, value: unknown, now: number): void {
    this.db
      .prepare(
        'INSERT INTO studio_forms (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      )
      .run(name, JSON.stringify(value), now);
  }
}
