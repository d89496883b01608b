// Runs the Python worker's pytest suite inside the pinned virtualenv (created on first use).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensurePythonEnv, pythonRoot, workerEnv } from '../src/worker/index.js';

const python = await ensurePythonEnv();
const result = spawnSync(python, ['-m', 'pytest', '-q', join(pythonRoot, 'tests'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: workerEnv(),
});
// pytest exits 5 when it collected nothing: that is a failure here, never a green run.
process.exit(result.status ?? 1);
