import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProgram, type CliDeps } from '../../src/cli/index.js';
import type { DemoModelSpec } from '../../src/models/index.js';
import { startHubServer } from '../models/hub-server.js';

const demo: DemoModelSpec = {
  name: 'demo-tiny',
  format: 'gguf',
  needsPython: false,
  description: 'four bytes of magic',
  generate: async (dir, { seed }) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tiny.gguf'), Buffer.from(`GGUF\x03\0\0\0${seed}`));
    return join(dir, 'tiny.gguf');
  },
};
const pythonDemo: DemoModelSpec = { ...demo, name: 'demo-python', needsPython: true };

/** Runs one `atelier …` command line in-process against `home`, returning what it printed. */
async function run(home: string, ...args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const deps: CliDeps = {
    version: '1.2.3',
    demoModels: [demo, pythonDemo],
    python: {
      isReady: () => false,
      ensure: () => {
        throw new Error('not in tests');
      },
    },
    routes: () => [],
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  };
  const program = buildProgram(deps);
  // Commander copies these settings only to commands created later, so apply them to every verb.
  const quiet = (command: typeof program): void => {
    command.exitOverride().configureOutput({
      writeOut: (s) => {
        out += s;
      },
      writeErr: (s) => {
        err += s;
      },
    });
    command.commands.forEach(quiet);
  };
  quiet(program);
  await program.parseAsync(['node', 'atelier', '--home', home, ...args]);
  return { out, err };
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('demo-models, models, models add and rm work on a home', async (t) => {
  const home = tempDir(t);
  assert.match((await run(home, 'models')).out, /^no models installed: run `atelier demo-models`/);
  const demos = await run(home, 'demo-models', '--seed', '3');
  assert.match(demos.out, /demo-tiny: installed \(gguf\)/);
  assert.match(demos.out, /demo-python: skipped — needs the Python environment/);
  assert.match((await run(home, 'demo-models')).out, /demo-tiny: already installed/);

  const file = join(home, 'mine.gguf');
  writeFileSync(file, Buffer.from('GGUF\x03\0\0\0mine-mine'));
  assert.equal((await run(home, 'models', 'add', file, '--name', 'me/mine')).out, 'installed me/mine (gguf, 17 B)\n');
  await assert.rejects(run(home, 'models', 'add', file, '--name', 'me/mine'), /already installed/);

  const table = (await run(home, 'models')).out.split('\n');
  assert.match(table[0]!, /^NAME\s+FORMAT\s+SIZE\s+SOURCE$/);
  assert.match(table[1]!, /^demo-tiny\s+gguf\s+9 B\s+demo$/);
  assert.match(table[2]!, new RegExp(`^me/mine\\s+gguf\\s+17 B\\s+local:${file}$`));
  const json = JSON.parse((await run(home, 'models', 'list', '--json')).out) as { name: string; metadata: object }[];
  assert.deepEqual(json[0]!.metadata, { seed: 3, description: 'four bytes of magic' });

  await assert.rejects(run(home, 'rm', 'me/mine', 'typo'), /The model 'typo' does not exist/);
  assert.equal(JSON.parse((await run(home, 'models', 'list', '--json')).out).length, 2, 'nothing removed on a typo');
  assert.equal((await run(home, 'rm', 'me/mine')).out, 'removed me/mine (17 B freed)\n');
  assert.ok(existsSync(file));
});

test('pull installs from HF_ENDPOINT and reports the model', async (t) => {
  const home = tempDir(t);
  const hub = await startHubServer({
    'org/tiny': { sha: 'a'.repeat(40), files: { 'model.gguf': Buffer.from('GGUF\x03\0\0\0weights') } },
  });
  const saved = process.env.HF_ENDPOINT;
  process.env.HF_ENDPOINT = hub.endpoint;
  t.after(async () => {
    if (saved === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = saved;
    await hub.close();
  });
  const result = await run(home, 'pull', 'org/tiny@main');
  assert.equal(result.out, `installed org/tiny (gguf, 15 B) from hf:org/tiny@${'a'.repeat(12)}\n`);
  await assert.rejects(run(home, 'pull', 'org/missing'), /org\/missing@main: HTTP 404/);
});

test('bad flags are rejected before anything runs', async (t) => {
  const home = tempDir(t);
  await assert.rejects(run(home, 'serve', '--port', 'eighty'), /--port must be a non-negative integer/);
  await assert.rejects(run(home, 'demo-models', '--seed', '-1'), /--seed must be a non-negative integer/);
  await assert.rejects(run(home, 'serve', '--port', '70000'), /command-line flags: 'port' must be <= 65535/);
});
