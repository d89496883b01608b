/**
 * Starting a worker thread from an ES module that sits next to the caller — the one place that knows how the
 * worker's file is named in both ways atelier runs: compiled (`dist/…/x.js`) and from source under tsx (tests,
 * benchmarks), where the sibling is `x.ts` and, tsx's loader not being inherited by worker threads, the worker has to
 * register it before importing the module.
 */
import { setPriority } from 'node:os';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts the module `name` (without extension) found next to `callerUrl` (the caller's `import.meta.url`) as a
 * worker thread with `options` (`workerData`, `resourceLimits` …).
 */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource) return new Worker(url, options);
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { ...options, eval: true });
}

/** Nice value of background worker threads: below the event loop's, so their CPU work never starves it. */
const BACKGROUND_NICE = 10;

/**
 * Lowers the scheduling priority of the calling worker thread (Linux: the nice value is per thread, and
 * `setpriority(PRIO_PROCESS, 0)` applies to the calling thread only), so that on a busy host input-proportional work
 * moved off the event loop does not take its CPU instead. Elsewhere the call would renice the whole process, so it
 * does nothing there.
 */
export function lowerThreadPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(0, BACKGROUND_NICE);
  } catch {
    // Not permitted in some sandboxes; the thread then simply runs at normal priority.
  }
}
