import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { pythonExecutable, workerEnv } from './python-env.js';
import { JsonLineDecoder } from './json-lines.js';
import { parseWorkerEvent, type ErrorEvent, type ResultEvent, type WorkerEvent } from './worker-events.js';

/** A command for `python -m atelier_diffusion.worker`, sent as one JSON line on its stdin. */
export interface WorkerCommand {
  cmd: string;
  [field: string]: unknown;
}

/** How to start a worker and where its output goes. */
export interface WorkerDriverOptions {
  /** Interpreter; default: the pinned virtualenv's (`pythonExecutable()`). */
  python?: string;
  /** Extra environment variables on top of `workerEnv()`. */
  env?: Record<string, string>;
  /** Working directory of the worker; default: this process's. */
  cwd?: string;
  /** Milliseconds between SIGTERM and SIGKILL on cancel; default 10 000 (a checkpoint write can take seconds). */
  killGraceMs?: number;
  /** Called for every typed event, in order. */
  onEvent?: (event: WorkerEvent) => void;
  /** Called for stdout lines that are not worker events and for every stderr line (library noise, tracebacks). */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** How a worker run ended. */
export interface WorkerExit {
  /** Exit status, or null when killed by a signal. */
  code: number | null;
  /** The signal that ended it, or null. */
  signal: NodeJS.Signals | null;
  /** True when `cancel()` was called before it exited. */
  cancelled: boolean;
  /** The last `result` event, if any. */
  result: ResultEvent | null;
  /** The first `error` event, if any. */
  error: ErrorEvent | null;
  /** Last few KB of stderr: the traceback when the worker died without an `error` event. */
  stderrTail: string;
  /** Set when the process could not be started at all (no interpreter). */
  spawnError: Error | null;
}

const stderrKeepBytes = 16 * 1024;

/**
 * One running `python -m atelier_diffusion.worker` process executing one command. The command goes in as a JSON
 * line; stdin stays open while it runs (the worker reads `cancel` there) and is closed once its `result` or `error`
 * arrives, which makes the worker exit. Events arrive via `onEvent`; `exited` resolves once the process is gone *and*
 * its pipes are drained, so no event is lost.
 */
export class WorkerProcess {
  /** Resolves when the worker has exited and all its output has been delivered. */
  readonly exited: Promise<WorkerExit>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly killGraceMs: number;
  private cancelRequested = false;
  private killTimer: NodeJS.Timeout | null = null;

  private constructor(command: WorkerCommand, options: WorkerDriverOptions) {
    this.killGraceMs = options.killGraceMs ?? 10_000;
    this.child = spawn(options.python ?? pythonExecutable(), ['-m', 'atelier_diffusion.worker'], {
      cwd: options.cwd,
      env: workerEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = this.collect(options);
    // A worker that dies before reading its stdin makes this write fail with EPIPE; the exit path reports why.
    this.child.stdin.on('error', () => undefined);
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** Starts a worker for `command`. Never throws: a spawn failure shows up in `exited` as `spawnError`. */
  static start(command: WorkerCommand, options: WorkerDriverOptions = {}): WorkerProcess {
    return new WorkerProcess(command, options);
  }

  /** The worker's process id (undefined if it never started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Stops the worker: SIGTERM (the worker may finish writing a checkpoint), then SIGKILL after the grace period.
   * Resolves with the exit, marked `cancelled`. Calling it twice is harmless.
   */
  cancel(): Promise<WorkerExit> {
    if (!this.cancelRequested && this.child.exitCode === null && this.child.signalCode === null) {
      this.cancelRequested = true;
      this.child.kill('SIGTERM');
      this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), this.killGraceMs);
      this.killTimer.unref();
    }
    return this.exited;
  }

  private collect(options: WorkerDriverOptions): Promise<WorkerExit> {
    const decoder = new JsonLineDecoder();
    let result: ResultEvent | null = null;
    let error: ErrorEvent | null = null;
    let stderrTail = '';
    const deliver = (lines: ReturnType<JsonLineDecoder['push']>): void => {
      for (const line of lines) {
        const event = line.kind === 'json' ? parseWorkerEvent(line.value) : null;
        if (event === null) {
          options.onOutput?.(line.kind === 'json' ? JSON.stringify(line.value) : line.text, 'stdout');
          continue;
        }
        if (event.type === 'result') result = event;
        if (event.type === 'error' && error === null) error = event;
        // The command is answered: EOF on stdin lets the worker's serve loop end.
        if (event.type === 'result' || event.type === 'error') this.child.stdin.end();
        options.onEvent?.(event);
      }
    };
    const stderrLines = new JsonLineDecoder();
    this.child.stdout.on('data', (chunk: Buffer) => deliver(decoder.push(chunk)));
    this.child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-stderrKeepBytes);
      for (const line of stderrLines.push(chunk)) {
        options.onOutput?.(line.kind === 'text' ? line.text : JSON.stringify(line.value), 'stderr');
      }
    });
    return new Promise((resolve) => {
      let spawnError: Error | null = null;
      this.child.on('error', (err) => {
        spawnError = err;
      });
      // 'close' (not 'exit') fires after stdout/stderr have ended, so every line has been delivered by then.
      this.child.on('close', (code, signal) => {
        if (this.killTimer) clearTimeout(this.killTimer);
        deliver(decoder.end());
        resolve({ code, signal, cancelled: this.cancelRequested, result, error, stderrTail, spawnError });
      });
    });
  }
}

/** A short, human-readable reason for a failed exit: the worker's own error, else the last stderr lines. */
export function describeWorkerFailure(exit: WorkerExit): string {
  if (exit.spawnError) return `could not start the diffusion worker: ${exit.spawnError.message}`;
  if (exit.error) return exit.error.message;
  const lastLines = exit.stderrTail.trim().split('\n').slice(-5).join('\n');
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
  return lastLines ? `the diffusion worker ${how}: ${lastLines}` : `the diffusion worker ${how}`;
}

/**
 * A failed exit as a job error: the worker's code (`invalid_images`, `invalid_config`, ...) or `worker_failed`, the
 * message followed by one line per problem it listed, and the request field it concerns.
 */
export function workerFailure(exit: WorkerExit): { code: string; message: string; param: string | null } {
  const details = exit.error?.details.map((d) => `${d.path}: ${d.message}`) ?? [];
  const code = exit.error?.code ?? 'worker_failed';
  const param = code === 'invalid_images' ? 'training_file' : code === 'invalid_config' ? 'method' : null;
  return { code, message: [describeWorkerFailure(exit), ...details].join('\n'), param };
}
