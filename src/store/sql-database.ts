/**
 * The one connection shape every repository talks to, whichever database is behind it. It is better-sqlite3's own
 * synchronous shape (`prepare(sql).run/get/all`, `exec`, `transaction`) so the repositories, their callers and the
 * SQLite default are unchanged; PostgreSQL implements the same shape in `postgres-database.ts`.
 *
 * Why not kysely: its executors are asynchronous, so choosing it would make every repository and every caller
 * (routes, job owner, registry, CLI verbs) async in one sweep across folders other people are editing at the same
 * time. Why not an async repository interface for PostgreSQL only: two interfaces for one concept. Instead the SQL is
 * written once in SQLite's spelling with `?` / `@name` placeholders, and `sql-dialect.ts` renders it for PostgreSQL
 * (placeholders → `$n`, column types in migrations). Blocking on a query is what better-sqlite3 already does to the
 * event loop; a loopback or LAN PostgreSQL round trip costs about as much as a synchronous fsync'd SQLite commit.
 */
import Database from 'better-sqlite3';

/** Which database a connection speaks to. */
export type SqlDialect = 'sqlite' | 'postgres';

/** Parameters as better-sqlite3 takes them: positional values for `?`, or one object for `@name`. */
export type SqlParams = unknown[];

/** A prepared query. */
export interface SqlStatement {
  /** Runs a write; `changes` is the number of rows it touched. */
  run(...params: SqlParams): { changes: number };
  /** The first row, or undefined. */
  get(...params: SqlParams): unknown;
  /** Every row. */
  all(...params: SqlParams): unknown[];
}

/** A synchronous connection (see the file comment for why synchronous). */
export interface SqlDatabase {
  readonly dialect: SqlDialect;
  /** Prepares `sql` written in SQLite's spelling with `?` or `@name` placeholders. */
  prepare(sql: string): SqlStatement;
  /** Runs one or more statements without parameters. */
  exec(sql: string): void;
  /** Runs `fn` in one transaction (nested calls become savepoints); it commits only if `fn` returns. */
  transaction<T>(fn: () => T): T;
  /** Closes the connection; idempotent. */
  close(): void;
}

/** better-sqlite3 behind the shared shape (the default store). */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite';

  /** Wraps an open better-sqlite3 connection. */
  constructor(readonly raw: Database.Database) {}

  /**
   * Opens `path` in WAL mode with full fsync (a committed transaction survives a crash or power loss), enforcing
   * foreign keys and waiting up to 5 s for another process's write lock (a CLI verb while the server runs).
   */
  static open(path: string): SqliteDatabase {
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteDatabase(db);
  }

  prepare(sql: string): SqlStatement {
    const statement = this.raw.prepare(sql);
    return {
      run: (...params) => ({ changes: statement.run(...params).changes }),
      get: (...params) => statement.get(...params),
      all: (...params) => statement.all(...params),
    };
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    return this.raw.transaction(fn)();
  }

  close(): void {
    if (this.raw.open) this.raw.close();
  }
}
