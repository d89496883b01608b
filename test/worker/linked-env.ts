import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { ensurePythonEnv } from '../../src/worker/index.js';

/**
 * A requirements file for a real but small Python environment: one local wheel (no network) whose only content is
 * a `.pth` file putting the installed default env's site-packages on the new env's path. Installing it runs
 * everything `PythonEnv` does for real — `python -m venv`, `pip install -r`, the staging folder and the
 * `.complete` marker — in seconds, and the env it makes can run the worker (torch and diffusers come through the
 * link instead of a 2.5-minute download). Writes into `dir`; returns the requirements file's path.
 */
export async function linkedRequirements(dir: string): Promise<string> {
  const python = await ensurePythonEnv();
  const purelib = spawnSync(python, ['-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], {
    encoding: 'utf8',
  });
  if (purelib.status !== 0) throw new Error(`could not find the default env's site-packages: ${purelib.stderr}`);
  const info = 'atelier_link-0.0.0.dist-info';
  const files: Record<string, string> = {
    'atelier_link.pth': `${purelib.stdout.trim()}\n`,
    [`${info}/METADATA`]: 'Metadata-Version: 2.1\nName: atelier-link\nVersion: 0.0.0\n',
    [`${info}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: atelier-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  files[`${info}/RECORD`] = [...Object.keys(files), `${info}/RECORD`].map((name) => `${name},,`).join('\n') + '\n';
  const wheel = join(dir, 'atelier_link-0.0.0-py3-none-any.whl');
  writeFileSync(wheel, zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)]))));
  const requirements = join(dir, 'requirements.txt');
  writeFileSync(requirements, `# a linked env for tests\n${wheel}\n`);
  return requirements;
}
