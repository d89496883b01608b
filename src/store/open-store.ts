import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BlobStore } from './blob-store.js';
import { CheckpointRepo } from './checkpoint-repo.js';
import { EventRepo } from './event-repo.js';
import { FileRepo } from './file-repo.js';
import { homeLayout, type HomeLayout } from './home.js';
import { JobRepo } from './job-repo.js';
import { migrate } from './migrations.js';
import { ModelRepo } from './model-repo.js';
import { PostgresDatabase } from './postgres-database.js';
import { SqliteDatabase, type SqlDatabase } from './sql-database.js';

/** Everything persistent under one ATELIER_HOME. Create with `openStore`, release with `close`. */
export interface Store {
  readonly layout: HomeLayout;
  /** The connection (SQLite or PostgreSQL behind one shape), for repositories added by other folders. */
  readonly db: SqlDatabase;
  readonly blobs: BlobStore;
  readonly models: ModelRepo;
  readonly files: FileRepo;
  readonly jobs: JobRepo;
  readonly events: EventRepo;
  readonly checkpoints: CheckpointRepo;
  /** Runs `fn` in one database transaction (nested calls become savepoints); it commits only if `fn` returns. */
  transaction<T>(fn: () => T): T;
  /** Closes the database; any later use throws. Idempotent. */
  close(): void;
}

/** Where the store keeps what is not under ATELIER_HOME (fleet mode). */
export interface StoreOptions {
  /** `postgres://…` puts the tables in PostgreSQL (fleet mode); empty or absent keeps SQLite in the home (default). */
  databaseUrl?: string;
  /** Blob folder shared by the nodes of a fleet (an NFS mount); default `<home>/blobs`. */
  blobDir?: string;
}

/** Opens and migrates the database `options` name (SQLite in the home by default), naming it in any error. */
function openDatabase(layout: HomeLayout, options: StoreOptions): SqlDatabase {
  const where = options.databaseUrl ? 'the PostgreSQL database' : `the atelier database at ${layout.database}`;
  let db: SqlDatabase | undefined;
  try {
    db = options.databaseUrl ? new PostgresDatabase(options.databaseUrl) : SqliteDatabase.open(layout.database);
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw new Error(`cannot open ${where}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Opens (creating if needed) the store in `home`: makes the folders, opens the database (SQLite in the home by default,
 * PostgreSQL when `databaseUrl` is set), migrates it to the newest schema and sweeps day-old temp files of
 * interrupted blob writes.
 */
export function openStore(home: string, options: StoreOptions = {}): Store {
  const blobDir = options.blobDir ? resolve(options.blobDir) : null;
  const layout: HomeLayout = blobDir ? { ...homeLayout(home), blobs: blobDir, shared: blobDir } : homeLayout(home);
  for (const dir of [layout.root, layout.blobs, layout.models, layout.downloads, layout.tmp]) {
    mkdirSync(dir, { recursive: true });
  }
  const db = openDatabase(layout, options);
  // Temp files live beside the blobs they become, so the final rename is atomic on a shared mount too.
  const blobs = new BlobStore(layout.blobs, blobDir ? join(blobDir, 'tmp') : join(layout.tmp, 'blobs'));
  blobs.sweepTemp();
  let closed = false;
  return {
    layout,
    db,
    blobs,
    models: new ModelRepo(db),
    files: new FileRepo(db),
    jobs: new JobRepo(db),
    events: new EventRepo(db),
    checkpoints: new CheckpointRepo(db),
    transaction: <T>(fn: () => T): T => db.transaction(fn),
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
