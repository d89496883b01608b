import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Paths inside an ATELIER_HOME. Everything atelier persists lives under `root`. */
export interface HomeLayout {
  /** The home folder itself. */
  root: string;
  /** SQLite database file. */
  database: string;
  /** Content-addressed blobs: `blobs/sha256/<2 hex>/<64 hex>`. */
  blobs: string;
  /** Installed models, one folder per model. */
  models: string;
  /** Partial downloads kept for resume, one folder per repo and revision. */
  downloads: string;
  /** Scratch space on the same filesystem as the rest, so renames out of it are atomic. */
  tmp: string;
  /**
   * What every node of a fleet must reach: fine-tune job folders (checkpoints, outputs) and the class-image cache.
   * The home itself by default; the shared blob folder (`ATELIER_BLOB_DIR`) in fleet mode.
   */
  shared: string;
}

/**
 * The home folder: `explicit` if given, else `ATELIER_HOME`, else `~/.atelier`. Returned absolute so that paths stored
 * in the database do not depend on the working directory.
 */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.ATELIER_HOME ?? join(homedir(), '.atelier'));
}

/** The layout of a home folder (pure: creates nothing). */
export function homeLayout(root: string): HomeLayout {
  return {
    root,
    database: join(root, 'atelier.db'),
    blobs: join(root, 'blobs'),
    models: join(root, 'models'),
    downloads: join(root, 'downloads'),
    tmp: join(root, 'tmp'),
    shared: root,
  };
}
