#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's own test runner (through tsx), or only the files/folders given.
// Node 20's `--test` does not expand globs, so the file list is built here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((root) => collect(root, []));
if (files.length === 0) {
  console.error('no test files found under', roots.join(' ') || 'test');
  process.exit(1);
}
// The web studio's tests drive a real Chromium: find (or install) it once, before any test starts.
const env = { ...process.env };
if (files.some((file) => /(^|[\\/])test[\\/]web[\\/]/.test(file))) {
  const found = spawnSync(process.execPath, [join('scripts', 'ensure-chromium.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (found.status !== 0) process.exit(found.status ?? 1);
  env.ATELIER_CHROMIUM = found.stdout.trim();
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
