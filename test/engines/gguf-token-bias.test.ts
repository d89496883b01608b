/**
 * The GGUF mask listing (`StepBias`): each step lists the smaller side of the mask — lifted allowed tokens or
 * forbidden ones at −∞ — and either way no forbidden token is ever sampled, request biases and penalties included.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from 'node-llama-cpp';
import { GgufEngine, type EngineModel, type GeneratedToken, type SamplingOptions } from '../../src/engines/index.js';
import { StepBias } from '../../src/engines/gguf/token-bias.js';
import { demoModels } from '../../src/models/demo/index.js';

const prompt = { text: '<|im_start|>user\nWrite a JSON object.<|im_end|>\n<|im_start|>assistant\n', images: [] };
const sampling = (over: Partial<SamplingOptions> = {}): SamplingOptions => ({
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: 3,
  frequencyPenalty: 0,
  presencePenalty: 0,
  logitBias: new Map(),
  ...over,
});

/** A mask hook allowing exactly `ids`. */
function allowOnly(ids: Iterable<number>): (words: Uint32Array) => boolean {
  return (words) => {
    for (const id of ids) words[id >>> 5] = (words[id >>> 5] ?? 0) | (1 << (id & 31));
    return true;
  };
}

function entriesOf(bias: StepBias): [number, number][] {
  const listed = (bias.next() as unknown as { _biases: Iterable<[number, number]> })._biases;
  // Copied one by one, as node-llama-cpp reads them: the pair object is reused across entries.
  const out: [number, number][] = [];
  for (const [t, b] of listed) out.push([t, b]);
  return out;
}

describe('gguf mask listing', () => {
  let dir: string;
  let path: string;
  let llama: Llama;
  let raw: LlamaModel;
  let engine: GgufEngine;
  let model: EngineModel;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-gguf-bias-'));
    path = await demoModels.find((m) => m.name === 'atelier-demo-gguf')!.generate(dir, { seed: 1 });
    llama = await getLlama({
      gpu: false,
      build: 'never',
      maxThreads: 1,
      logLevel: LlamaLogLevel.error,
      progressLogs: false,
    });
    raw = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    engine = await GgufEngine.create({ threads: 1 });
    model = await engine.load(path, { contextSize: 512, parallel: 1 });
  });
  after(async () => {
    await engine.dispose();
    await raw.dispose();
    await llama.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const collect = async (over: Partial<Parameters<EngineModel['generate']>[0]>): Promise<GeneratedToken[]> => {
    const out: GeneratedToken[] = [];
    for await (const t of model.generate({ prompt, sampling: sampling(), maxTokens: 40, ...over })) out.push(t);
    return out;
  };

  it('lists only the allowed tokens when they are fewer, only the forbidden ones otherwise', () => {
    const vocab = model.info.vocabSize;
    const options = { temperature: 1, penalties: false };
    const few = entriesOf(new StepBias(raw, vocab, new Map(), allowOnly([5, 40, 300]), options));
    assert.deepEqual(
      few.map(([t]) => t),
      [5, 40, 300],
    );
    assert.ok(few.every(([, b]) => b > 1000));
    const all = Array.from({ length: vocab }, (_, i) => i).filter((i) => i !== 7 && i !== 9);
    const many = entriesOf(new StepBias(raw, vocab, new Map([[5, 2]]), allowOnly(all), options));
    assert.deepEqual(many, [
      [5, 2],
      [7, -Infinity],
      [9, -Infinity],
    ]);
  });

  it('lists forbidden tokens at −∞ when penalties or a high temperature could outgrow the lift', () => {
    const vocab = model.info.vocabSize;
    for (const options of [
      { temperature: 1, penalties: true },
      { temperature: 3, penalties: false },
    ]) {
      const entries = entriesOf(new StepBias(raw, vocab, new Map(), allowOnly([5, 6]), options));
      assert.equal(entries.length, vocab - 2);
      assert.ok(entries.every(([t, b]) => t !== 5 && t !== 6 && b === -Infinity));
    }
  });

  it('never samples a forbidden token when most of the vocabulary is allowed', async () => {
    const free = await collect({});
    const forbidden = new Set(free.map((t) => t.token));
    const allowed = Array.from({ length: model.info.vocabSize }, (_, i) => i).filter((i) => !forbidden.has(i));
    const out = await collect({ mask: allowOnly(allowed) });
    assert.equal(out.length, 40);
    for (const t of out) assert.ok(!forbidden.has(t.token), `token ${t.token} is forbidden`);
  });

  it('keeps lifted steps inside the mask against request biases: banned allowed tokens lose, forbidden ones never win', async () => {
    const bias = new Map([
      [5, -100],
      [7, 100],
      [8, 100],
    ]);
    const greedy = await collect({ sampling: sampling({ temperature: 0, logitBias: bias }), mask: allowOnly([5, 6]) });
    assert.ok(greedy.every((t) => t.token === 6));
    const hot = await collect({ sampling: sampling({ temperature: 2, logitBias: bias }), mask: allowOnly([5, 6, 40]) });
    assert.ok(hot.every((t) => t.token === 6 || t.token === 40));
    const only = await collect({ sampling: sampling({ logitBias: bias }), mask: allowOnly([5]), maxTokens: 5 });
    assert.deepEqual(
      only.map((t) => t.token),
      [5, 5, 5, 5, 5],
    );
  });

  it('keeps penalised steps inside the mask', async () => {
    const out = await collect({
      sampling: sampling({ frequencyPenalty: 2, presencePenalty: 2 }),
      mask: allowOnly([5, 6, 40]),
    });
    assert.equal(out.length, 40);
    assert.ok(out.every((t) => [5, 6, 40].includes(t.token)));
  });

  it('fails instead of emitting a token when the mask allows nothing', async () => {
    await assert.rejects(collect({ mask: () => true, maxTokens: 2 }), /mask forbids/);
  });
});
