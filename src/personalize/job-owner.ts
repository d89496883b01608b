import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { workerModule } from '../worker/index.js';

/** Who is training a job right now: the atelier process driving it and its worker. */
export interface JobOwner {
  runnerPid: number;
  workerPid: number | null;
}

const ownerFile = (jobRoot: string): string => join(jobRoot, 'owner.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `pid` is still a diffusion worker (pids are reused; never signal a stranger). */
function isWorker(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(workerModule);
  } catch {
    return false;
  }
}

/** Records that this process drives the job (`workerPid` once its worker is up). */
export function claimJob(jobRoot: string, workerPid: number | null): void {
  const owner: JobOwner = { runnerPid: process.pid, workerPid };
  writeFileSync(ownerFile(jobRoot), JSON.stringify(owner));
}

/** Forgets the owner once the worker is gone. */
export function releaseJob(jobRoot: string): void {
  rmSync(ownerFile(jobRoot), { force: true });
}

/** The recorded owner, or null. */
export function jobOwner(jobRoot: string): JobOwner | null {
  try {
    return JSON.parse(readFileSync(ownerFile(jobRoot), 'utf8')) as JobOwner;
  } catch {
    return null;
  }
}

/**
 * Makes a `running` job found at start-up safe to resume. Returns false when another live atelier process (say an
 * `atelier train` next to the server) is driving it: leave it alone. Otherwise its driver died; a worker it left
 * behind (orphaned by a crash, still training) gets SIGTERM — it writes a checkpoint — and, after `graceMs`,
 * SIGKILL, so two workers never write the same checkpoint folder.
 */
export async function takeOverJob(jobRoot: string, graceMs = 10_000): Promise<boolean> {
  const owner = jobOwner(jobRoot);
  if (owner === null) return true;
  if (owner.runnerPid !== process.pid && alive(owner.runnerPid)) return false;
  const worker = owner.workerPid;
  if (worker !== null && alive(worker) && isWorker(worker)) {
    process.kill(worker, 'SIGTERM');
    for (let waited = 0; alive(worker) && waited < graceMs; waited += 100) await sleep(100);
    if (alive(worker) && isWorker(worker)) process.kill(worker, 'SIGKILL');
  }
  releaseJob(jobRoot);
  return true;
}
