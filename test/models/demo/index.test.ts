import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoModels } from '../../../src/models/demo/index.js';
import { detectFormat } from '../../../src/models/index.js';

async function files(dir: string): Promise<Map<string, Buffer>> {
  const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  return new Map(
    await Promise.all(
      entries.map(async (e) => {
        const path = join(e.parentPath, e.name);
        return [relative(dir, path), await readFile(path)] as const;
      }),
    ),
  );
}

describe('demoModels', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'atelier-demos-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('lists the stable names, only the diffusers one needing Python', () => {
    assert.deepEqual(
      demoModels.map((m) => [m.name, m.format, m.needsPython]),
      [
        ['atelier-demo-gguf', 'gguf', false],
        ['atelier-demo-onnx', 'onnx', false],
        ['atelier-demo-vlm', 'onnx', false],
        ['atelier-demo-smolvlm', 'onnx', false],
        ['atelier-demo-qwen2vl', 'onnx', false],
        ['atelier-demo-sd', 'diffusers', true],
      ],
    );
    for (const m of demoModels) assert.ok(m.description.length > 20);
  });

  for (const spec of demoModels) {
    it(`${spec.name}: generates a folder the registry detects as ${spec.format}, the same bytes for the same seed`, async () => {
      const first = join(root, `${spec.name}-1`);
      const entry = await spec.generate(first, { seed: 3 });
      assert.ok(!relative(first, entry).startsWith('..'), 'entry lies inside the target folder');
      assert.equal(detectFormat(entry).format, spec.format);
      const second = join(root, `${spec.name}-2`);
      await spec.generate(second, { seed: 3 });
      const a = await files(first);
      const b = await files(second);
      assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
      for (const [name, bytes] of a) {
        assert.ok(bytes.equals(b.get(name) ?? Buffer.alloc(0)), `${spec.name}: ${name} differs between runs`);
        assert.ok(bytes.length < 1024 * 1024, `${name} is over 1 MB`);
      }
    });
  }
});
