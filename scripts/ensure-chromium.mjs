#!/usr/bin/env node
// Finds the Chromium (or Chrome) that the web studio's browser tests drive through playwright-core, which downloads
// no browser of its own. Order: $ATELIER_CHROMIUM; the binaries of this machine's packages; and when there is none
// and this runs as root where apt-get exists, Debian's `chromium` package is installed (about 25 s, ~100 MB).
// Prints the executable's path on stdout (everything else goes to stderr); exits 1 saying what to do otherwise.
// Used by scripts/run-ts-tests.mjs before test/web; run it alone with `node scripts/ensure-chromium.mjs`.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';

// Debian's real binary first (/usr/bin/chromium is a launcher script in front of it), then the usual names.
const knownPaths = [
  '/usr/lib/chromium/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];
const commandNames = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the binary starts: rules out Ubuntu's snap stubs and broken installs before a test depends on it. */
function runs(path) {
  const result = spawnSync(path, ['--headless', '--no-sandbox', '--version'], { encoding: 'utf8', timeout: 30_000 });
  return result.status === 0 && /chrom/i.test(result.stdout);
}

function candidates() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...knownPaths, ...commandNames.flatMap((name) => dirs.map((dir) => join(dir, name)))];
}

function find() {
  return candidates().find((path) => executable(path) && runs(path));
}

function apt(args) {
  console.error(`ensure-chromium: apt-get ${args.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  return spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env }).status === 0;
}

/** Installs Debian's chromium when this process may (root) and can (apt-get); refreshes the lists once on failure. */
function install() {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!root || !hasApt) return false;
  const args = ['install', '-y', '--no-install-recommends', 'chromium'];
  return apt(args) || (apt(['update']) && apt(args));
}

function fail(message) {
  console.error(`ensure-chromium: ${message}`);
  process.exit(1);
}

const override = process.env.ATELIER_CHROMIUM;
if (override) {
  if (!executable(override) || !runs(override))
    fail(`ATELIER_CHROMIUM=${override} is not a Chromium/Chrome that starts`);
  console.log(override);
} else {
  let found = find();
  if (!found) {
    console.error("ensure-chromium: no Chromium or Chrome found; installing Debian's chromium package");
    found = install() ? find() : undefined;
  }
  if (!found) {
    fail(
      'no Chromium or Chrome found. Install one (Debian: `apt-get install chromium`; elsewhere Chrome or ' +
        'Chromium from your package manager) or set ATELIER_CHROMIUM to its executable.',
    );
  }
  console.log(found);
}
