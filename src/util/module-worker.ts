/**
 * Starting a worker thread from an ES module that sits next to the caller — the one place that knows how the
 * worker's file is named in both ways atelier runs: compiled (`dist/…/x.js`) and from source under tsx (tests,
 * benchmarks), where the sibling is `x.ts` and, tsx's loader not being inherited by worker threads, the worker has to
 * register it before importing the module.
 */
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
