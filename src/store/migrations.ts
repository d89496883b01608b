import { camelCaseFineTuningRows } from './camel-case-rows.js';
import type { SqlDatabase } from './sql-database.js';
import { toPostgresSchema } from './sql-dialect.js';

/**
 * One schema step. Versions are consecutive from 1; a released migration is never edited, only followed. `sql` is the
 * one schema definition, in SQLite's spelling; PostgreSQL runs it through `toPostgresSchema`.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Row rewrites SQL cannot say plainly, run after `sql` in the same transaction. */
  run?: (db: SqlDatabase) => void;
}

/** Every migration, in order. Append new ones at the end. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'models, files, jobs, job events, checkpoints',
    sql: `
      CREATE TABLE models (
        name        TEXT PRIMARY KEY,
        format      TEXT NOT NULL,
        path        TEXT NOT NULL,
        size        INTEGER NOT NULL,
        source      TEXT NOT NULL,
        revision    TEXT,
        metadata    TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL
      );
      CREATE TABLE files (
        id          TEXT PRIMARY KEY,
        filename    TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        bytes       INTEGER NOT NULL,
        sha256      TEXT NOT NULL,
        status      TEXT NOT NULL DEFAULT 'processed',
        metadata    TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX files_by_purpose ON files (purpose, created_at);
      CREATE TABLE jobs (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL UNIQUE,
        kind             TEXT NOT NULL,
        status           TEXT NOT NULL,
        model            TEXT NOT NULL,
        result_model     TEXT,
        hyperparameters  TEXT NOT NULL DEFAULT '{}',
        params           TEXT NOT NULL DEFAULT '{}',
        error            TEXT,
        created_at       INTEGER NOT NULL,
        started_at       INTEGER,
        finished_at      INTEGER,
        updated_at       INTEGER NOT NULL
      );
      CREATE INDEX jobs_by_kind ON jobs (kind, seq);
      CREATE TABLE job_events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        level       TEXT NOT NULL,
        type        TEXT NOT NULL,
        message     TEXT NOT NULL,
        data        TEXT,
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX job_events_by_job ON job_events (job_id, seq);
      CREATE TABLE checkpoints (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        step        INTEGER NOT NULL,
        path        TEXT NOT NULL,
        metrics     TEXT NOT NULL DEFAULT '{}',
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX checkpoints_by_job ON checkpoints (job_id, step);
    `,
  },
  {
    version: 2,
    name: 'fine-tuning JSON columns in camelCase (hyperparameters, params, event data, checkpoint metrics)',
    sql: '',
    run: camelCaseFineTuningRows,
  },
  {
    version: 3,
    name: 'web studio history: chats, generated images, saved form settings',
    sql: `
      CREATE TABLE studio_chats (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        title       TEXT NOT NULL,
        model       TEXT NOT NULL,
        settings    TEXT NOT NULL DEFAULT '{}',
        messages    TEXT NOT NULL DEFAULT '[]',
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE TABLE studio_images (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        model       TEXT NOT NULL,
        prompt      TEXT NOT NULL,
        seed        INTEGER,
        parameters  TEXT NOT NULL,
        settings    TEXT NOT NULL DEFAULT '{}',
        png         BLOB NOT NULL,
        created_at  INTEGER NOT NULL
      );
      CREATE TABLE studio_forms (
        name        TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        updated_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'stored responses of /v1/responses (the answer as sent, and the conversation previous_response_id replays)',
    sql: `
      CREATE TABLE responses (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        model       TEXT NOT NULL,
        response    TEXT NOT NULL,
        items       TEXT NOT NULL DEFAULT '[]',
        created_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'fleet mode: nodes with capabilities and heartbeats, queue runs and which node holds them',
    sql: `
      CREATE TABLE fleet_nodes (
        id            TEXT PRIMARY KEY,
        role          TEXT NOT NULL,
        capabilities  TEXT NOT NULL DEFAULT '[]',
        pid           INTEGER NOT NULL,
        started_at    INTEGER NOT NULL,
        heartbeat_at  INTEGER NOT NULL
      );
      CREATE TABLE fleet_runs (
        queue_job_id      TEXT PRIMARY KEY,
        queue             TEXT NOT NULL,
        node              TEXT NOT NULL,
        data              TEXT NOT NULL DEFAULT '{}',
        started_at        INTEGER NOT NULL,
        cancel_requested  INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX fleet_runs_by_node ON fleet_runs (node);
    `,
  },
];

/** Any number, fits in PostgreSQL's bigint: the advisory lock every atelier node takes while it migrates. */
const MIGRATION_LOCK = 7_306_521_044;

/**
 * Brings the database up to the newest schema. Each migration runs in its own transaction together with the bump of
 * `schema_version`, so a crash leaves the database at a whole version; running it again is a no-op. A database newer
 * than this code is refused rather than silently misread. On PostgreSQL the nodes of a fleet may start together: an
 * advisory lock makes them migrate one after another (the later ones find nothing left to do).
 */
export function migrate(db: SqlDatabase, list: readonly Migration[] = migrations): number {
  const postgres = db.dialect === 'postgres';
  if (postgres) db.exec(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
  try {
    return migrateLocked(db, list);
  } finally {
    if (postgres) db.exec(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
  }
}

function migrateLocked(db: SqlDatabase, list: readonly Migration[]): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)');
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
  const newest = list.length === 0 ? 0 : list[list.length - 1]!.version;
  if (current > newest) {
    throw new Error(`database schema version ${current} is newer than this atelier (${newest}); upgrade atelier`);
  }
  for (const migration of list) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      if (migration.sql.trim() !== '')
        db.exec(db.dialect === 'postgres' ? toPostgresSchema(migration.sql) : migration.sql);
      migration.run?.(db);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(
        migration.version,
        Math.floor(Date.now() / 1000),
      );
    });
  }
  return newest;
}
