import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes, gitBlobSha1File, newId, sha256, sha256File, writeFileAtomic } from '../../src/util/index.js';

test('git blob ids match git itself, sha256 matches the in-memory digest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-util-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'f.txt');
  writeFileSync(file, 'hello world\n');
  const fromGit = execFileSync('git', ['hash-object', file], { encoding: 'utf8' }).trim();
  assert.equal(await gitBlobSha1File(file, 12), fromGit);
  assert.equal(await sha256File(file), sha256('hello world\n'));
  assert.equal(sha256(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('writeFileAtomic replaces the file whole and leaves no temp files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'atelier-util-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileAtomic(join(dir, 'a.json'), '{"v":1}');
  writeFileAtomic(join(dir, 'a.json'), Buffer.from('{"v":2}'));
  assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), '{"v":2}');
  assert.deepEqual(readdirSync(dir), ['a.json']);
});

test('ids and byte formatting', () => {
  assert.match(newId('ftjob'), /^ftjob-[A-Za-z0-9]{24}$/);
  assert.notEqual(newId('x'), newId('x'));
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
});
