/**
 * Benchmark-size options of the demo GGUF generator: a wider/deeper shape, a vocabulary padded with synthetic tokens
 * and Q8_0 weight matrices — loaded and run by llama.cpp itself. Kept small here (64 wide, 2,000 tokens).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getLlama, LlamaLogLevel, readGgufFileInfo, type Llama, type LlamaModel } from 'node-llama-cpp';
import { halfBits, quantizeQ8_0 } from '../../../src/models/demo/gguf-quant.js';
import { buildLlamaGguf, generateLlamaGguf, type LlamaGgufOptions } from '../../../src/models/demo/llama-gguf.js';
import { buildDemoTokenizer } from '../../../src/models/demo/tokenizer.js';
import { paddingTokens } from '../../../src/models/demo/vocab-padding.js';

const options: LlamaGgufOptions = { shape: { blocks: 3, feedForward: 160 }, vocabSize: 2000, weights: 'q8_0' };

it('writes IEEE half floats, rounding to nearest even', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [1e-8, 0x0000],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [Infinity, 0x7c00],
    [NaN, 0x7e00],
  ];
  for (const [value, bits] of cases) assert.equal(halfBits(value), bits, `halfBits(${value})`);
});

it('quantizes Q8_0 blocks to within half a step of each value', () => {
  const data = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * (i < 32 ? 1 : 0.01));
  const bytes = Buffer.from(quantizeQ8_0(data));
  assert.equal(bytes.length, 2 * 34);
  for (let b = 0; b < 2; b++) {
    const d = Math.max(...data.subarray(b * 32, b * 32 + 32).map(Math.abs)) / 127;
    for (let i = 0; i < 32; i++) {
      const q = bytes.readInt8(b * 34 + 2 + i);
      assert.ok(Math.abs(q * d - (data[b * 32 + i] as number)) <= d / 2 + 1e-6);
    }
  }
  assert.throws(() => quantizeQ8_0(new Float32Array(40)), /multiple of 32/);
});

it('pads the vocabulary with distinct synthetic tokens, the same for a seed', () => {
  const base = buildDemoTokenizer().tokens;
  const padding = paddingTokens(base, 500, 1);
  assert.equal(new Set([...base, ...padding]).size, base.length + 500);
  assert.deepEqual(paddingTokens(base, 500, 1), padding);
  assert.notDeepEqual(paddingTokens(base, 500, 2), padding);
});

describe('benchmark-size demo GGUF', () => {
  let dir: string;
  let path: string;
  let llama: Llama;
  let model: LlamaModel;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'atelier-gguf-bench-'));
    path = await generateLlamaGguf(dir, 3, options);
    llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: path });
  });
  after(async () => {
    await model?.dispose();
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('declares the shape, the padded vocabulary and Q8_0 matrices (norms stay F32)', async () => {
    const info = await readGgufFileInfo(path, { readTensorInfo: true });
    const l = (info.metadata as unknown as { llama: { block_count: number; vocab_size: number } }).llama;
    assert.deepEqual([l.block_count, l.vocab_size], [3, 2000]);
    for (const t of info.tensorInfo ?? []) assert.equal(t.ggmlType, t.dimensions.length > 1 ? 8 : 0, t.name);
    assert.equal(model.tokens.eosString, '<|im_end|>');
    assert.ok(buildLlamaGguf(3, options).equals(buildLlamaGguf(3, options)));
  });

  it('tokenizes text as the unpadded demo model does, and generates', async () => {
    const tiny = await llama.loadModel({ modelPath: await generateLlamaGguf(join(dir, 'tiny'), 3) });
    try {
      const text = '<|im_start|>user\n{"name": "Ada", "age": 36}<|im_end|>\n';
      assert.deepEqual(model.tokenize(text, true), tiny.tokenize(text, true));
    } finally {
      await tiny.dispose();
    }
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      const sequence = context.getSequence();
      let n = 0;
      for await (const token of sequence.evaluate(model.tokenize('<|im_start|>user\nHi', true), {
        temperature: 1,
        seed: 1,
      })) {
        assert.ok(token >= 0 && token < 2000);
        if (++n === 8) break;
      }
      assert.equal(n, 8);
    } finally {
      await context.dispose();
    }
  });
});
