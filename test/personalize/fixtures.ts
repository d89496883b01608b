import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { ensurePythonEnv, workerEnv } from '../../src/worker/index.js';
import { subjectPhoto } from './subject-photos.js';

// Installed once on import (a no-op when ready): the fixtures below run Python synchronously.
const python = await ensurePythonEnv();

/** A temp folder removed when the test (or suite) ends. */
export function tempDir(t: { after: (fn: () => void) => void }, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `atelier-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the tiny random-weight SD 1.x fixture (a diffusers folder, ~1 MB) into `dir` and returns its path. */
export function makeTinySd(dir: string, seed = 0): string {
  const out = join(dir, 'tiny-sd');
  const result = spawnSync(python, ['-m', 'atelier_diffusion.fixtures.tiny', '--out', out, '--seed', String(seed)], {
    env: workerEnv(),
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`tiny fixture failed: ${result.stderr}`);
  return out;
}

/** A zip holding `count` distinct subject photos (PNG), as a user would upload them. */
export function subjectZip(count: number): Buffer {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) files[`photos/dog-${i}.png`] = subjectPhoto(i);
  files['__MACOSX/photos/._dog-0.png'] = new Uint8Array([0, 1, 2]);
  return Buffer.from(zipSync(files));
}

/** Hyperparameters that make a tiny run quick: 32 px, two class images made with two sampler steps. */
export const tinyRun = {
  hyperparameters: { class_name: 'dog', resolution: 32, num_class_images: 2, checkpoint_every: 2, mode: 'lora' },
  config: { prior: { sample_steps: 2, sample_batch_size: 2 }, tracking: { tensorboard: false } },
} as const;
