import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';

/** Thrown when a live process holds the lock; the message names it and what it is doing. */
export class LockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock file holding this process's pid (created with O_EXCL, so two processes cannot both win).
 * A lock left by a process that no longer exists is taken over. Returns the release function. `what` describes the
 * holder's work for the error message.
 */
export function acquirePidLock(path: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8'));
      } catch {
        // Vanished between open and read: try again.
      }
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        throw new LockedError(`process ${holder} is already ${what}; wait for it to finish or stop it (lock: ${path})`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new LockedError(`could not take the lock ${path} (another process keeps taking it)`);
}
