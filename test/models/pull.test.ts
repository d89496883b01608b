import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HubHttpError,
  HubOfflineError,
  IntegrityError,
  ModelRegistry,
  pull,
  type PullReporter,
} from '../../src/models/index.js';
import { openStore } from '../../src/store/index.js';
import { startHubServer, type HubServer } from './hub-server.js';

const sha = (n: number): string => String(n).repeat(40).slice(0, 40);
const weights = randomBytes(300_000);
const gguf = (tag: string): Buffer =>
  Buffer.concat([Buffer.from('GGUF\x03\0\0\0'), Buffer.from(tag), randomBytes(4000)]);
const onnxRepo = {
  sha: sha(1),
  files: {
    'config.json': Buffer.from('{"model_type":"llama"}'),
    'tokenizer.json': Buffer.from('{"model":{}}'),
    'onnx/model.onnx': weights,
    'README.md': Buffer.from('# tiny'),
  },
};

class RecordingReporter implements PullReporter {
  lines: string[] = [];
  fileStart(path: string, total: number, from: number): void {
    this.lines.push(`start ${path} ${from}/${total}`);
  }
  fileProgress(): void {}
  fileDone(path: string): void {
    this.lines.push(`done ${path}`);
  }
  note(message: string): void {
    this.lines.push(`note ${message}`);
  }
}

async function setup(t: {
  after: (fn: () => unknown) => void;
}): Promise<{ hub: HubServer; registry: ModelRegistry; home: string }> {
  const home = mkdtempSync(join(tmpdir(), 'atelier-pull-'));
  const hub = await startHubServer({
    'org/tiny-onnx': structuredClone(onnxRepo),
    'org/tiny-gguf': {
      sha: sha(2),
      files: { 'm-Q4_K_M.gguf': gguf('q4'), 'm-Q8_0.gguf': gguf('q8'), 'notes.txt': Buffer.from('x') },
    },
    'org/gated': { sha: sha(3), token: 'hf_secret', files: { 'model.gguf': gguf('g') } },
    'org/not-a-model': { sha: sha(4), files: { 'data.csv': Buffer.from('a,b\n1,2\n') } },
  });
  const store = openStore(home);
  t.after(async () => {
    store.close();
    await hub.close();
    rmSync(home, { recursive: true, force: true });
  });
  return { hub, registry: new ModelRegistry(store), home };
}

test('pulls a transformers.js ONNX repo at its pinned commit and installs it', async (t) => {
  const { hub, registry } = await setup(t);
  const model = await pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint } });
  assert.equal(model.name, 'org/tiny-onnx');
  assert.equal(model.format, 'onnx');
  assert.equal(model.revision, sha(1));
  assert.equal(model.source, 'hf:org/tiny-onnx');
  assert.deepEqual(readFileSync(join(model.path, 'onnx', 'model.onnx')), weights);
  assert.equal(model.size, weights.length + 22 + 12 + 6);
  // Every file came from the resolved commit, never from the moving branch name.
  assert.ok(
    hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.url.includes(`/resolve/${sha(1)}/`)),
  );
  assert.deepEqual(readdirSync(registry.downloadsDir), []);
  const again = new RecordingReporter();
  await pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint }, reporter: again });
  assert.match(again.lines.join('\n'), /already installed at 111111111111/);
});

test('--include picks one GGUF out of several and registers that file', async (t) => {
  const { hub, registry } = await setup(t);
  const model = await pull(registry, {
    spec: 'org/tiny-gguf@main',
    include: ['*Q4_K_M.gguf'],
    hub: { endpoint: hub.endpoint },
  });
  assert.equal(model.format, 'gguf');
  assert.match(model.path, /m-Q4_K_M\.gguf$/);
  await assert.rejects(
    pull(registry, { spec: 'org/tiny-gguf', name: 'both', hub: { endpoint: hub.endpoint } }),
    /holds 2 GGUF files/,
  );
  assert.equal(registry.get('both'), undefined);
  await assert.rejects(
    pull(registry, { spec: 'org/tiny-gguf', include: ['*.bin'], hub: { endpoint: hub.endpoint } }),
    /matches no file of org\/tiny-gguf/,
  );
});

test('a connection dropped mid-file is resumed with Range and finishes with the right hash', async (t) => {
  const { hub, registry } = await setup(t);
  hub.faults.dropAfter.set('onnx/model.onnx', 100_000);
  const reporter = new RecordingReporter();
  const model = await pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint }, reporter });
  const bytes = readFileSync(join(model.path, 'onnx', 'model.onnx'));
  assert.equal(createHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(weights).digest('hex'));
  const ranged = hub.requests.filter((r) => r.url.startsWith('/cdn/') && r.range);
  assert.equal(ranged.length, 1);
  assert.equal(ranged[0]!.range, 'bytes=100000-');
  assert.match(reporter.lines.join('\n'), /transfer interrupted at 100000 bytes/);
  assert.ok(reporter.lines.includes('start onnx/model.onnx 100000/300000'));
});

test('a partial file left by a failed pull is resumed by the next pull', async (t) => {
  const { hub, registry } = await setup(t);
  hub.faults.dropAfter.set('onnx/model.onnx', 123_456);
  await assert.rejects(pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint }, maxAttempts: 1 }));
  assert.equal(registry.get('org/tiny-onnx'), undefined);
  const model = await pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint } });
  assert.deepEqual(readFileSync(join(model.path, 'onnx', 'model.onnx')), weights);
  assert.deepEqual(
    hub.requests.filter((r) => r.url.startsWith('/cdn/') && r.range).map((r) => r.range),
    ['bytes=123456-'],
  );
});

test('corrupted files are rejected (LFS sha256 and git blob sha1) and nothing is installed', async (t) => {
  const { hub, registry, home } = await setup(t);
  for (const path of ['onnx/model.onnx', 'config.json']) {
    // Start clean each time: a file verified by the previous round would otherwise be reused.
    rmSync(registry.downloadsDir, { recursive: true, force: true });
    hub.faults.corrupt.clear();
    hub.faults.corrupt.add(path);
    const error = await pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint } }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof IntegrityError, (error as Error).stack);
    assert.match(error.message, new RegExp(`${path}: (sha256|git-sha1) [0-9a-f]+ does not match .*corrupted`));
    assert.equal(registry.get('org/tiny-onnx'), undefined);
    assert.deepEqual(readdirSync(join(home, 'models')), []);
  }
  const partials = readdirSync(join(registry.downloadsDir, `org--tiny-onnx@${sha(1)}`), { recursive: true }).map(
    String,
  );
  assert.ok(!partials.some((p) => p.endsWith('.partial')), partials.join(','));
});

test('a gated repo asks for HF_TOKEN, and works with it', async (t) => {
  const { hub, registry } = await setup(t);
  const error = await pull(registry, { spec: 'org/gated', hub: { endpoint: hub.endpoint } }).catch((e: unknown) => e);
  assert.ok(error instanceof HubHttpError);
  assert.match(error.message, /HTTP 401 .*set HF_TOKEN/);
  const model = await pull(registry, { spec: 'org/gated', hub: { endpoint: hub.endpoint, token: 'hf_secret' } });
  assert.equal(model.format, 'gguf');
  assert.ok(hub.requests.some((r) => r.authorization === 'Bearer hf_secret'));
});

test('unknown repos and unservable formats fail clearly and install nothing', async (t) => {
  const { hub, registry } = await setup(t);
  await assert.rejects(
    pull(registry, { spec: 'org/missing', hub: { endpoint: hub.endpoint } }),
    /org\/missing@main: HTTP 404 — check the repo name/,
  );
  await assert.rejects(
    pull(registry, { spec: 'org/not-a-model', hub: { endpoint: hub.endpoint } }),
    /no model atelier can serve/,
  );
  assert.deepEqual(registry.list(), []);
  await assert.rejects(
    pull(registry, { spec: 'not a repo', hub: { endpoint: hub.endpoint } }),
    /expected <org>\/<name>/,
  );
});

test("a second pull of the same commit is refused while the first runs; a dead holder's lock is taken over", async (t) => {
  const { hub, registry } = await setup(t);
  mkdirSync(registry.downloadsDir, { recursive: true });
  const lock = join(registry.downloadsDir, `org--tiny-onnx@${sha(1)}.lock`);
  writeFileSync(lock, String(process.pid));
  await assert.rejects(
    pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint } }),
    new RegExp(`process ${process.pid} is already pulling org/tiny-onnx@111111111111`),
  );
  writeFileSync(lock, String(spawnSync(process.execPath, ['-e', '']).pid));
  assert.equal((await pull(registry, { spec: 'org/tiny-onnx', hub: { endpoint: hub.endpoint } })).format, 'onnx');
  assert.equal(existsSync(lock), false, 'the lock is released');
});

test('an unreachable hub gives an offline error that says what to do', async (t) => {
  const { registry } = await setup(t);
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const error = await pull(registry, { spec: 'org/x', hub: { endpoint: `http://127.0.0.1:${port}` } }).catch(
    (e: unknown) => e,
  );
  assert.ok(error instanceof HubOfflineError, String(error));
  assert.match(error.message, /cannot reach the model hub at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  assert.match(error.message, /HF_ENDPOINT/);
  assert.match(error.message, /atelier models add <dir>/);
  assert.equal(existsSync(join(registry.downloadsDir, 'org--x')), false);
});
