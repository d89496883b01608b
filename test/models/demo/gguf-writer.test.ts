import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import { gguf, GgufType, writeGguf } from '../../../src/models/demo/gguf-writer.js';

describe('GGUF writer', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-ggufw-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes every value type so that an independent reader (node-llama-cpp) reads it back', async () => {
    const bytes = writeGguf(
      [
        ['general.architecture', gguf.str('llama')],
        ['general.alignment', gguf.u32(64)],
        ['t.u8', { type: GgufType.UINT8, value: 200 }],
        ['t.i8', { type: GgufType.INT8, value: -100 }],
        ['t.u16', { type: GgufType.UINT16, value: 60000 }],
        ['t.i16', { type: GgufType.INT16, value: -30000 }],
        ['t.i32', gguf.i32(-123456)],
        ['t.f32', gguf.f32(0.5)],
        ['t.bool', gguf.bool(true)],
        ['t.u64', { type: GgufType.UINT64, value: 2n ** 40n }],
        ['t.i64', { type: GgufType.INT64, value: -(2n ** 40n) }],
        ['t.f64', { type: GgufType.FLOAT64, value: 0.1 }],
        ['t.str', gguf.str('héllo ✓')],
        ['t.strings', gguf.strings(['a', '', 'ü'])],
        ['t.ints', gguf.i32s([1, -2, 3])],
      ],
      [
        { name: 'a', dims: [3], data: new Float32Array([1, 2, 3]) },
        { name: 'b', dims: [2, 2], data: new Float32Array([4, 5, 6, 7]) },
      ],
    );
    const path = join(dir, 'types.gguf');
    await writeFile(path, bytes);
    const info = await readGgufFileInfo(path, { readTensorInfo: true, ignoreKeys: [] });
    const t = (info.metadata as unknown as { t: Record<string, unknown> }).t;
    assert.deepEqual(
      [t.u8, t.i8, t.u16, t.i16, t.i32, t.f32, t.bool, t.str, t.strings, t.ints],
      [200, -100, 60000, -30000, -123456, 0.5, true, 'héllo ✓', ['a', '', 'ü'], [1, -2, 3]],
    );
    assert.equal(BigInt(t.u64 as number | bigint), 2n ** 40n);
    assert.equal(BigInt(t.i64 as number | bigint), -(2n ** 40n));
    assert.equal(t.f64, 0.1);
    assert.deepEqual(
      info.tensorInfo?.map((x) => [x.name, x.dimensions.map(Number), Number(x.offset)]),
      [
        ['a', [3], 0],
        ['b', [2, 2], 64],
      ],
    );
    // The data section starts aligned, and each tensor's bytes sit at its offset.
    const dataStart = bytes.length - 128;
    assert.equal(dataStart % 64, 0);
    assert.equal(bytes.readFloatLE(dataStart + 8), 3);
    assert.equal(bytes.readFloatLE(dataStart + 64 + 12), 7);
  });

  it('rejects a tensor whose data does not match its dimensions', () => {
    assert.throws(() => writeGguf([], [{ name: 'x', dims: [2, 2], data: new Float32Array(3) }]), /dims 2,2/);
  });
});
