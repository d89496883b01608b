import { mkdir } from 'node:fs/promises';
import { ensurePythonEnv, runPython, workerEnv } from '../../worker/index.js';

/**
 * The demo Stable Diffusion folder is written by the Python worker (`atelier_diffusion.fixtures.tiny`), because only
 * diffusers itself can vouch that the folder is what diffusers loads. This module only runs it.
 */

/** Options for {@link generateTinyDiffusers}. */
export interface TinyDiffusersOptions {
  seed: number;
  /** Receives the worker's stderr lines and environment set-up messages. */
  log?: (line: string) => void;
}

/**
 * Runs `python -m atelier_diffusion.fixtures.tiny --out targetDir --seed N` in the worker's virtualenv (creating the env
 * first if needed, which takes minutes once) and returns `targetDir`, now a diffusers pipeline folder.
 */
export async function generateTinyDiffusers(targetDir: string, options: TinyDiffusersOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const python = await ensurePythonEnv(log);
  await mkdir(targetDir, { recursive: true });
  const args = ['-m', 'atelier_diffusion.fixtures.tiny', '--out', targetDir, '--seed', String(options.seed)];
  // Two threads: generation is a few small tensors, and the machine is shared.
  await runPython(python, args, { env: workerEnv({ OMP_NUM_THREADS: '2' }), onLine: log });
  return targetDir;
}
