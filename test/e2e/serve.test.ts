import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';

const main = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
const key = 'sk-e2e-0123456789';

interface Running {
  child: ChildProcessWithoutNullStreams;
  logs: { msg: string; level: number; [k: string]: unknown }[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function atelier(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  const logs: Running['logs'] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as Running['logs'][number]);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, logs, stderr: () => stderr, exited };
}

async function waitForLog(running: Running, pattern: RegExp): Promise<Running['logs'][number]> {
  for (;;) {
    const found = running.logs.find((l) => pattern.test(l.msg));
    if (found) return found;
    const code = await Promise.race([running.exited, new Promise((r) => setTimeout(r, 50, 'wait'))]);
    if (code !== 'wait')
      throw new Error(`atelier exited (${String(code)}) before logging ${pattern}: ${running.stderr()}`);
  }
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('atelier serve on an empty home generates the demo models and serves them to the openai client', async (t) => {
  const home = tempDir(t);
  // A chat-only host (no Python environment, ATELIER_USE_PYTHON=false): serve installs the TypeScript-made demos.
  // The first run with Python (background install, then atelier-demo-sd) is test/cli/serve-first-run.test.ts.
  const env = { ATELIER_CACHE: join(home, 'cache'), ATELIER_USE_PYTHON: 'false' };
  const running = atelier(['--home', home, 'serve', '--port', '0', '--api-key', key], env);
  t.after(() => running.child.kill('SIGKILL'));
  const listening = await waitForLog(running, /listening on/);
  assert.match(running.logs[0]!.msg, /no model configured and none installed .*: generating the demo models/);
  const baseURL = `${listening.address as string}/v1`;
  assert.match(baseURL, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);

  const client = new OpenAI({ baseURL, apiKey: key, maxRetries: 0 });
  const ids = (await client.models.list()).data.map((m) => m.id);
  assert.ok(ids.includes('atelier-demo-gguf') && ids.includes('atelier-demo-onnx'), ids.join(','));
  assert.ok(!ids.includes('atelier-demo-sd'), 'the Python demo is skipped without Python');
  assert.ok(running.logs.some((l) => /skipping atelier-demo-sd: needs the Python environment/.test(l.msg)));
  assert.equal((await client.models.retrieve('atelier-demo-gguf')).owned_by, 'atelier');

  const unknown = await client.models.retrieve('no-such-model').catch((e: unknown) => e);
  assert.ok(unknown instanceof OpenAI.NotFoundError);
  assert.equal(unknown.code, 'model_not_found');
  const wrongKey = await new OpenAI({ baseURL, apiKey: 'sk-wrong-000000', maxRetries: 0 }).models
    .list()
    .catch((e: unknown) => e);
  assert.ok(wrongKey instanceof OpenAI.AuthenticationError);
  assert.ok(
    running.logs.some((l) => l.msg === 'request completed'),
    'requests are logged',
  );

  running.child.kill('SIGTERM');
  assert.equal(await running.exited, 0);
  assert.ok(running.logs.some((l) => /SIGTERM: shutting down/.test(l.msg)));
});

test('a malformed config stops serve with a message naming the key', async (t) => {
  const home = tempDir(t);
  writeFileSync(join(home, 'config.yaml'), 'port: 8080\napi_keys: [sk-abcdefgh]\n');
  const running = atelier(['--home', home, 'serve'], {});
  assert.equal(await running.exited, 1);
  assert.match(
    running.stderr(),
    new RegExp(
      `atelier: config file ${join(home, 'config.yaml')}: unknown key 'api_keys' \\(known keys: host, port, home, apiKeys`,
    ),
  );
});
