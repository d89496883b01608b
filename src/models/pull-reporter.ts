/**
 * Receives a pull's progress. The CLI draws a bar per file (cli-progress); the server or tests pass their own.
 * All byte counts are absolute within the file (a resumed file starts at `resumedFrom`, not 0).
 */
export interface PullReporter {
  /** The files the pull will download (before the first starts), so totals and an ETA can be shown from the start. */
  plan?(files: readonly { path: string; size: number }[]): void;
  /** A file starts downloading; `resumedFrom` bytes were already on disk from an earlier attempt. */
  fileStart(path: string, totalBytes: number, resumedFrom: number): void;
  /** Bytes of `path` now on disk. */
  fileProgress(path: string, bytesDone: number): void;
  /** `path` is downloaded and verified. */
  fileDone(path: string): void;
  /** Anything else worth telling: a retry after a dropped connection, a file already present. */
  note(message: string): void;
}

/** A reporter that discards everything. */
export const silentReporter: PullReporter = {
  fileStart: () => {},
  fileProgress: () => {},
  fileDone: () => {},
  note: () => {},
};
