import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { PythonEnv } from '../../src/worker/index.js';
import { linkedRequirements } from '../worker/linked-env.js';

const main = join(import.meta.dirname, '..', '..', 'src', 'main.ts');

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

/** `atelier serve` as a user starts it, on a fresh home; its JSON log lines are collected as they come. */
function serve(home: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--home', home, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
  const logs: LogLine[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (buffer + chunk.toString()).split('\n');
    buffer = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
  });
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const waitFor = async (pattern: RegExp): Promise<LogLine> => {
    for (;;) {
      const found = logs.find((l) => pattern.test(l.msg));
      if (found) return found;
      const code = await Promise.race([exited, new Promise((r) => setTimeout(r, 100, 'wait'))]);
      if (code !== 'wait') throw new Error(`atelier exited (${String(code)}) before logging ${pattern}: ${stderr}`);
    }
  };
  return { child, logs, waitFor, exited };
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-first-run-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a first `atelier serve` serves chat at once, installs Python in the background, then serves atelier-demo-sd', async (t) => {
  const dir = tempDir(t);
  const home = join(dir, 'home');
  const cache = join(dir, 'cache');
  // A fresh cache: no Python env. Its requirements are one local wheel linking the installed env (see linked-env.ts).
  const requirements = await linkedRequirements(dir);
  const running = serve(home, [], { ATELIER_CACHE: cache, ATELIER_PYTHON_REQUIREMENTS: requirements });
  t.after(async () => {
    running.child.kill('SIGTERM');
    await running.exited;
  });
  const listening = await running.waitFor(/listening on/);
  const client = new OpenAI({ baseURL: `${listening.address as string}/v1`, apiKey: 'none', maxRetries: 0 });
  const before = (await client.models.list()).data.map((m) => m.id);
  assert.ok(before.includes('atelier-demo-gguf'), before.join(', '));
  assert.ok(!before.includes('atelier-demo-sd'), 'the Python demo comes later');
  const chat = await client.chat.completions.create({
    model: 'atelier-demo-gguf',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 4,
  });
  assert.equal(chat.choices.length, 1);

  await running.waitFor(/^installed atelier-demo-sd$/);
  const messages = running.logs.map((l) => l.msg);
  const env = new PythonEnv({ cacheDir: cache, requirements });
  assert.ok(
    messages.includes(`python env: installing the diffusion worker's environment into ${env.dir}`),
    messages.join('\n'),
  );
  assert.ok(messages.includes('python env: [1/1] atelier_link-0.0.0-py3-none-any.whl'));
  assert.ok(messages.indexOf('python env: ready') < messages.indexOf('generating atelier-demo-sd (diffusers)'));
  assert.ok(env.isReady());
  const after = (await client.models.list()).data.map((m) => m.id);
  assert.ok(after.includes('atelier-demo-sd'), after.join(', '));
  // The new env runs the resident image worker too.
  const image = await client.images.generate({
    model: 'atelier-demo-sd',
    prompt: 'a red square',
    n: 1,
    response_format: 'b64_json',
  });
  assert.ok(Buffer.from(image.data![0]!.b64_json!, 'base64').subarray(1, 4).toString() === 'PNG');
});

test('`atelier serve --no-python` is chat only: no install, no atelier-demo-sd', async (t) => {
  const dir = tempDir(t);
  const cache = join(dir, 'cache');
  const running = serve(join(dir, 'home'), ['--no-python'], { ATELIER_CACHE: cache });
  t.after(async () => {
    running.child.kill('SIGTERM');
    await running.exited;
  });
  const listening = await running.waitFor(/listening on/);
  await running.waitFor(/^skipping atelier-demo-sd: needs the Python environment; this host is chat-only/);
  const client = new OpenAI({ baseURL: `${listening.address as string}/v1`, apiKey: 'none', maxRetries: 0 });
  const ids = (await client.models.list()).data.map((m) => m.id);
  assert.ok(ids.includes('atelier-demo-gguf') && !ids.includes('atelier-demo-sd'), ids.join(', '));
  assert.ok(!running.logs.some((l) => l.msg.startsWith('python env:')));
  assert.ok(!existsSync(cache), 'nothing was installed');
});
