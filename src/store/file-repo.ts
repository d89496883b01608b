import type { SqlDatabase } from './sql-database.js';

/** An uploaded file (OpenAI Files API); its bytes live in the blob store under `sha256`. */
export interface FileRecord {
  /** `file-…` */
  id: string;
  filename: string;
  /** OpenAI purpose (`fine-tune`, `vision`, `user_data`, …). */
  purpose: string;
  /** Size in bytes. */
  bytes: number;
  sha256: string;
  /** `uploaded` | `processed` | `error`. */
  status: string;
  metadata: Record<string, unknown>;
  /** Unix seconds. */
  createdAt: number;
}

interface Row {
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  sha256: string;
  status: string;
  metadata: string;
  created_at: number;
}

function fromRow(row: Row): FileRecord {
  return {
    id: row.id,
    filename: row.filename,
    purpose: row.purpose,
    bytes: row.bytes,
    sha256: row.sha256,
    status: row.status,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    createdAt: row.created_at,
  };
}

/** Rows of the `files` table. */
export class FileRepo {
  constructor(private readonly db: SqlDatabase) {}

  /** Inserts a new file row (ids are unique; inserting one twice throws). */
  insert(file: FileRecord): void {
    this.db
      .prepare(
        `INSERT INTO files (id, filename, purpose, bytes, sha256, status, metadata, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        file.id,
        file.filename,
        file.purpose,
        file.bytes,
        file.sha256,
        file.status,
        JSON.stringify(file.metadata),
        file.createdAt,
      );
  }

  /** A file by id, or undefined. */
  get(id: string): FileRecord | undefined {
    const row = this.db.prepare('SELECT * FROM files WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /** Files, newest first, optionally of one purpose. */
  list(options: { purpose?: string; limit?: number } = {}): FileRecord[] {
    // Ties within one second go to the later insert: SQLite's rowid, PostgreSQL's row position (files are never
    // updated in place, so ctid follows insertion until space freed by deletes is reused).
    const insertion = this.db.dialect === 'sqlite' ? 'rowid' : 'ctid';
    const rows = this.db
      .prepare(
        `SELECT * FROM files WHERE (CAST(@purpose AS TEXT) IS NULL OR purpose = @purpose)
         ORDER BY created_at DESC, ${insertion} DESC LIMIT @limit`,
      )
      .all({ purpose: options.purpose ?? null, limit: options.limit ?? Number.MAX_SAFE_INTEGER }) as Row[];
    return rows.map(fromRow);
  }

  /** How many file rows still point at a blob (so the blob is only deleted when this reaches zero). */
  countBySha(sha256: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM files WHERE sha256 = ?').get(sha256) as { n: number }).n;
  }

  /** Deletes a file row; returns whether one existed. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM files WHERE id = ?').run(id).changes > 0;
  }
}
