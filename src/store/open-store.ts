import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from './blob-store.js';
import { CheckpointRepo } from './checkpoint-repo.js';
import { EventRepo } from './event-repo.js';
import { FileRepo } from './file-repo.js';
import { homeLayout, type HomeLayout } from './home.js';
import { JobRepo } from './job-repo.js';
import { migrate } from './migrations.js';
import { ModelRepo } from './model-repo.js';

/** Everything persistent under one ATELIER_HOME. Create with `openStore`, release with `close`. */
export interface Store {
  readonly layout: HomeLayout;
  /** The raw connection, for repositories added by other folders. */
  readonly db: Database.Database;
  readonly blobs: BlobStore;
  readonly models: ModelRepo;
  readonly files: FileRepo;
  readonly jobs: JobRepo;
  readonly events: EventRepo;
  readonly checkpoints: CheckpointRepo;
  /** Runs `fn` in one SQLite transaction (nested calls become savepoints); it commits only if `fn` returns. */
  transaction<T>(fn: () => T): T;
  /** Closes the database; any later use throws. Idempotent. */
  close(): void;
}

/**
 * Opens (creating if needed) the store in `home`: makes the folders, opens SQLite in WAL mode with full fsync (a
 * committed transaction survives a crash or power loss), enforces foreign keys, migrates to the newest schema and
 * sweeps day-old temp files of interrupted blob writes.
 */
export function openStore(home: string): Store {
  const layout = homeLayout(home);
  for (const dir of [layout.root, layout.blobs, layout.models, layout.downloads, layout.tmp]) {
    mkdirSync(dir, { recursive: true });
  }
  const db = new Database(layout.database);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Another process (a CLI verb while the server runs) may hold the write lock briefly.
    db.pragma('busy_timeout = 5000');
    migrate(db);
  } catch (error) {
    db.close();
    throw new Error(`cannot open the atelier database at ${layout.database}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const blobs = new BlobStore(layout.blobs, join(layout.tmp, 'blobs'));
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
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
