import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildProgram, type CliDeps } from '../../src/cli/index.js';
import { parseA1111Parameters, readPngText } from '../../src/images/index.js';
import { makeTinySd, pngPixels } from './fixtures.js';

/** Runs one `atelier …` command line in-process against `home`; returns what it printed on stdout. */
async function atelier(home: string, ...args: string[]): Promise<string> {
  let out = '';
  const deps: CliDeps = {
    version: '0.0.0',
    demoModels: [],
    python: { isReady: () => true, ensure: async () => undefined },
    routes: () => [],
    out: (text) => {
      out += text;
    },
    err: () => undefined,
  };
  const program = buildProgram(deps);
  const quiet = (command: typeof program): void => {
    command.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    command.commands.forEach(quiet);
  };
  quiet(program);
  await program.parseAsync(['node', 'atelier', '--home', home, ...args]);
  return out;
}

test('atelier generate writes one PNG per seed; atelier export → models add → identical images', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-cli-images-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const home = join(dir, 'home');
  await atelier(home, 'models', 'add', makeTinySd(dir), '--name', 'tiny-sd');

  const prompt = 'a photo of sks dog on the moon';
  const printed = await atelier(
    home,
    'generate',
    'tiny-sd',
    prompt,
    '-n',
    '2',
    '--seed',
    '1',
    '--steps',
    '2',
    '--sampler',
    'ddim',
    '--out',
    join(dir, 'a'),
  );
  assert.deepEqual(printed.trim().split('\n'), [join(dir, 'a', '1.png'), join(dir, 'a', '2.png')]);
  const second = readFileSync(join(dir, 'a', '2.png'));
  const params = parseA1111Parameters(readPngText(second).parameters ?? '');
  assert.equal(params.prompt, prompt);
  assert.equal(params.Seed, '2');
  assert.equal(params.Sampler, 'DDIM');

  const file = join(dir, 'tiny.safetensors');
  assert.equal((await atelier(home, 'export', 'tiny-sd', '--format', 'safetensors', '--out', file)).trim(), file);
  await atelier(home, 'models', 'add', file, '--name', 'tiny-single');
  await atelier(
    home,
    'generate',
    'tiny-single',
    prompt,
    '--seed',
    '2',
    '--steps',
    '2',
    '--sampler',
    'ddim',
    '--out',
    join(dir, 'b'),
  );
  assert.deepEqual(pngPixels(readFileSync(join(dir, 'b', '2.png'))), pngPixels(second));

  await assert.rejects(atelier(home, 'export', 'tiny-sd', '--format', 'ckpt'), /--format must be one of/);
  await assert.rejects(atelier(home, 'generate', 'tiny-sd', prompt, '--size', '33x32'), /'size' sides must be/);
});
