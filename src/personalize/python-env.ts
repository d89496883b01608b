import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Root of the repository/package (holds `python/`). */
export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Folder of the Python worker package (put on PYTHONPATH). */
export const pythonRoot = join(packageRoot, 'python');
const lockFile = join(pythonRoot, 'requirements.lock');

/** Where the worker's virtualenv lives: outside the work tree, keyed by the lock file's hash so reruns reuse it. */
export function pythonEnvDir(): string {
  const hash = createHash('sha256').update(readFileSync(lockFile)).digest('hex').slice(0, 12);
  const cache = process.env.ATELIER_CACHE ?? join(homedir(), '.cache', 'atelier');
  return join(cache, `venv-${hash}`);
}

/** Path of the virtualenv's python interpreter. */
export function pythonExecutable(): string {
  return join(pythonEnvDir(), 'bin', 'python');
}

function run(cmd: string, args: string[]): void {
  const result = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`python environment: \`${cmd} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal})`);
  }
}

/**
 * Makes sure the pinned virtualenv exists, creating it when the lock changed. It is built in a sibling folder and
 * renamed into place only once complete, so an interrupted install never leaves a half-made env that looks ready.
 * Returns the interpreter path.
 */
export function ensurePythonEnv(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string {
  const dir = pythonEnvDir();
  if (existsSync(join(dir, '.complete'))) return join(dir, 'bin', 'python');
  const base = process.env.ATELIER_PYTHON ?? 'python3';
  const staging = `${dir}.partial-${process.pid}`;
  log(`atelier: installing the diffusion worker's Python environment into ${dir}`);
  log('atelier: (torch, diffusers, transformers, lightning, peft; first time only, several minutes)');
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(staging, { recursive: true, force: true });
  run(base, ['-m', 'venv', staging]);
  const pip = join(staging, 'bin', 'pip');
  run(pip, ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '-r', lockFile]);
  // Scripts in bin/ keep the staging path in their shebang after the rename; atelier only ever runs `python -m`.
  writeFileSync(join(staging, '.complete'), new Date().toISOString());
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  log('atelier: Python environment ready');
  return join(dir, 'bin', 'python');
}

/** Environment for a worker process: the package on PYTHONPATH, unbuffered output, threads pinned when asked. */
export function workerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PYTHONPATH: [pythonRoot, process.env.PYTHONPATH].filter(Boolean).join(':'),
    PYTHONUNBUFFERED: '1',
    ...extra,
  };
}
