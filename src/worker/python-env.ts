import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonLineDecoder } from './json-lines.js';

/** Root of the repository/package (holds `python/`). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Folder of the Python worker package (put on PYTHONPATH). */
export const pythonRoot = join(packageRoot, 'python');

/** Where a Python environment lives and what goes into it. Every field has a default, so tests can point elsewhere. */
export interface PythonEnvOptions {
  /** Folder holding the `venv-<hash>` folders; default `$ATELIER_CACHE`, else `~/.cache/atelier`. */
  cacheDir?: string;
  /** The pinned requirements (`pip install -r`); default `$ATELIER_PYTHON_REQUIREMENTS`, else the lock file. */
  requirements?: string;
  /** Interpreter that creates the venv; default `$ATELIER_PYTHON`, else `python3`. */
  basePython?: string;
}

/** Receives one human line of install progress. */
export type PythonEnvLog = (line: string) => void;

/** Installs in progress in this process, by venv folder: concurrent `ensure` calls share one. */
const installs = new Map<string, Promise<string>>();

const stderrLog: PythonEnvLog = (line) => void process.stderr.write(`${line}\n`);

/**
 * The diffusion worker's virtualenv: `venv-<hash of the requirements>` in the cache folder, so a changed lock makes a
 * new env and reruns reuse the old one. Created in a sibling staging folder and renamed into place with a
 * `.complete` marker only once pip succeeded, so an interrupted install never looks ready.
 */
export class PythonEnv {
  /** The venv folder. */
  readonly dir: string;
  /** Its interpreter (what the worker runs). */
  readonly python: string;
  private readonly requirements: string;
  private readonly basePython: string;

  constructor(options: PythonEnvOptions = {}) {
    this.requirements =
      options.requirements ?? process.env.ATELIER_PYTHON_REQUIREMENTS ?? join(pythonRoot, 'requirements.lock');
    this.basePython = options.basePython ?? process.env.ATELIER_PYTHON ?? 'python3';
    const hash = createHash('sha256').update(readFileSync(this.requirements)).digest('hex').slice(0, 12);
    const cache = options.cacheDir ?? process.env.ATELIER_CACHE ?? join(homedir(), '.cache', 'atelier');
    this.dir = join(cache, `venv-${hash}`);
    this.python = join(this.dir, 'bin', 'python');
  }

  /** Whether the env is fully installed (cheap: one stat; never installs). */
  isReady(): boolean {
    return existsSync(join(this.dir, '.complete'));
  }

  /**
   * Installs the env unless it is ready, logging progress (one line per requirement fetched); resolves with the
   * interpreter path. Concurrent calls share one install. Never blocks the event loop: a server keeps serving chat.
   * Aborting `signal` kills the install step running (a server shutting down); nothing half-made is left.
   */
  ensure(log: PythonEnvLog = stderrLog, signal?: AbortSignal): Promise<string> {
    if (this.isReady()) return Promise.resolve(this.python);
    let install = installs.get(this.dir);
    if (!install) {
      install = this.install(log, signal).finally(() => installs.delete(this.dir));
      installs.set(this.dir, install);
    }
    return install;
  }

  private async install(log: PythonEnvLog, signal: AbortSignal | undefined): Promise<string> {
    const staging = `${this.dir}.partial-${process.pid}`;
    const wanted = readFileSync(this.requirements, 'utf8')
      .split('\n')
      .filter((l) => /^\s*[^#\s-]/.test(l)).length;
    log(`python env: installing the diffusion worker's environment into ${this.dir}`);
    log(`python env: ${wanted} pinned packages (torch, diffusers, transformers, ...); first time only, minutes`);
    await mkdir(dirname(this.dir), { recursive: true });
    await rm(staging, { recursive: true, force: true });
    // pip is silent for minutes while it unpacks torch and the CUDA libraries: a heartbeat shows it is alive.
    const started = Date.now();
    const beat = (): void => log(`python env: still installing (${Math.round((Date.now() - started) / 1000)} s)`);
    const heartbeat = setInterval(beat, 30_000);
    heartbeat.unref();
    try {
      await runPython(this.basePython, ['-m', 'venv', staging], { signal });
      let fetched = 0;
      const pipArgs = ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '--no-deps'];
      const onLine = (line: string): void => {
        // pip names each requirement once: `Collecting name==v` from an index, `Processing ./file.whl` from disk.
        const collecting = /^(?:Collecting|Processing) (\S+)/.exec(line);
        if (collecting) log(`python env: [${++fetched}/${wanted}] ${basename(collecting[1]!)}`);
        else if (/^(Installing collected|Successfully installed)/.test(line)) log(`python env: ${line.slice(0, 100)}`);
      };
      await runPython(join(staging, 'bin', 'python'), [...pipArgs, '-r', this.requirements], { onLine, signal });
      // Scripts in bin/ keep the staging path in their shebang after the rename; atelier only ever runs `python -m`.
      await writeFile(join(staging, '.complete'), new Date().toISOString());
      // Another process may have finished the same env meanwhile (and be running it): keep theirs.
      if (this.isReady()) await rm(staging, { recursive: true, force: true });
      else {
        await rm(this.dir, { recursive: true, force: true });
        await rename(staging, this.dir);
      }
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
    log('python env: ready');
    return this.python;
  }
}

/** Options of {@link runPython}. */
export interface RunPythonOptions {
  /** The process environment; default this process's (`workerEnv()` for atelier_diffusion modules). */
  env?: NodeJS.ProcessEnv;
  /** Each line of its stdout and stderr, as it comes. */
  onLine?: (line: string) => void;
  /** Aborting kills the process (SIGTERM); the promise then rejects. */
  signal?: AbortSignal;
}

/**
 * Runs a short-lived Python command (an install step, a fixture generator) to completion with stdout and stderr
 * piped, never inherited (a server's log is JSON); rejects naming the command and its last lines when it fails.
 * Piped output also means a command whose parent died gets EPIPE at its next line and stops instead of running on.
 */
export function runPython(python: string, args: string[], options: RunPythonOptions = {}): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const env = options.env ?? process.env;
    const child = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    const tail: string[] = [];
    const take =
      (decoder: JsonLineDecoder) =>
      (chunk: Buffer): void => {
        for (const line of decoder.push(chunk)) {
          const text = line.kind === 'text' ? line.text : JSON.stringify(line.value);
          tail.push(text);
          if (tail.length > 20) tail.shift();
          options.onLine?.(text);
        }
      };
    child.stdout.on('data', take(new JsonLineDecoder()));
    child.stderr.on('data', take(new JsonLineDecoder()));
    child.on('error', (error) => reject(new Error(`could not run ${python}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolveRun();
      const why = `\`${python} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`})`;
      reject(new Error(`${why}${tail.length > 0 ? `:\n${tail.join('\n').trim()}` : ''}`));
    });
  });
}

/** Environment for a worker process: the package on PYTHONPATH, unbuffered output, plus `extra` (thread pins). */
export function workerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: [pythonRoot, process.env.PYTHONPATH].filter(Boolean).join(':'),
    PYTHONUNBUFFERED: '1',
    ...extra,
  };
}

/** The default env (cache folder and lock from the environment), installed if needed; resolves with its python. */
export function ensurePythonEnv(log: PythonEnvLog = stderrLog): Promise<string> {
  return new PythonEnv().ensure(log);
}
