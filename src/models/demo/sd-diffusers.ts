import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { ensurePythonEnv, workerEnv } from '../../personalize/index.js';

/**
 * The demo Stable Diffusion folder is written by the Python worker (`atelier_diffusion.tiny`), because only
 * diffusers itself can vouch that the folder is what diffusers loads. This module only runs it.
 */

/** Options for {@link generateTinyDiffusers}. */
export interface TinyDiffusersOptions {
  seed: number;
  /** Receives the worker's stderr lines and environment set-up messages. */
  log?: (line: string) => void;
}

/**
 * Runs `python -m atelier_diffusion.tiny --out targetDir --seed N` in the worker's virtualenv (creating the env
 * first if needed, which takes minutes once) and returns `targetDir`, now a diffusers pipeline folder.
 */
export async function generateTinyDiffusers(targetDir: string, options: TinyDiffusersOptions): Promise<string> {
  const log = options.log ?? (() => {});
  const python = ensurePythonEnv(log);
  await mkdir(targetDir, { recursive: true });
  const args = ['-m', 'atelier_diffusion.tiny', '--out', targetDir, '--seed', String(options.seed)];
  const tail: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    // Two threads: generation is a few small tensors, and the machine is shared.
    const child = spawn(python, args, { env: workerEnv({ OMP_NUM_THREADS: '2' }), stdio: ['ignore', 'ignore', 'pipe'] });
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        log(line);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    });
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    throw new Error(`python -m atelier_diffusion.tiny exited with ${code}: ${tail.join('\n').trim() || 'no output'}`);
  }
  return targetDir;
}
