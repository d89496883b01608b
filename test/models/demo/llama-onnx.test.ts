import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AutoModelForCausalLM,
  AutoTokenizer,
  env,
  Tensor,
  type PreTrainedModel,
  type PreTrainedTokenizer,
} from '@huggingface/transformers';
import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { generateLlamaGguf } from '../../../src/models/demo/llama-gguf.js';
import { generateLlamaOnnx } from '../../../src/models/demo/llama-onnx.js';
import { demoLlamaShape, llamaWeights } from '../../../src/models/demo/llama-weights.js';
import { buildDemoTokenizer } from '../../../src/models/demo/tokenizer.js';
import { referenceLogits } from './llama-reference.js';

env.allowRemoteModels = false;
const seed = 11;

async function folderFiles(dir: string): Promise<Map<string, Buffer>> {
  const names = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const entries = await Promise.all(
    names.map(
      async (e) => [join(e.parentPath, e.name).slice(dir.length), await readFile(join(e.parentPath, e.name))] as const,
    ),
  );
  return new Map(entries);
}

function greedy(model: PreTrainedModel, inputs: Record<string, unknown>, useCache: boolean): Promise<bigint[][]> {
  return model
    .generate({ ...inputs, max_new_tokens: 10, do_sample: false, use_cache: useCache })
    .then((out) => (out as Tensor).tolist() as bigint[][]);
}

describe('demo llama ONNX folder', () => {
  let root: string;
  let dir: string;
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'atelier-onnx-'));
    dir = await generateLlamaOnnx(join(root, 'a'), seed);
    tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    model = await AutoModelForCausalLM.from_pretrained(dir, { local_files_only: true });
  });
  after(async () => {
    await model?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('is byte-identical for a seed and differs across seeds', async () => {
    const again = await folderFiles(await generateLlamaOnnx(join(root, 'b'), seed));
    const first = await folderFiles(dir);
    assert.deepEqual([...first.keys()].sort(), [
      '/config.json',
      '/generation_config.json',
      '/onnx/model.onnx',
      '/tokenizer.json',
      '/tokenizer_config.json',
    ]);
    for (const [name, bytes] of first) assert.ok(bytes.equals(again.get(name) ?? Buffer.alloc(0)), name);
    const other = await folderFiles(await generateLlamaOnnx(join(root, 'c'), seed + 1));
    assert.ok(!other.get('/onnx/model.onnx')?.equals(first.get('/onnx/model.onnx') ?? Buffer.alloc(0)));
    assert.ok((first.get('/onnx/model.onnx')?.length ?? 0) < 1024 * 1024);
  });

  it('exposes the decoder I/O contract transformers.js drives', () => {
    const session = (model as unknown as { sessions: Record<string, { inputNames: string[]; outputNames: string[] }> })
      .sessions.model;
    assert.deepEqual(session?.inputNames, [
      'input_ids',
      'attention_mask',
      'position_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ]);
    assert.deepEqual(session?.outputNames, [
      'present.0.key',
      'present.0.value',
      'present.1.key',
      'present.1.value',
      'logits',
    ]);
  });

  it('computes the same logits as a plain reference implementation', async () => {
    const ids = tokenizer.encode('{"name": "Ada", "age": 36}');
    const shape = demoLlamaShape(buildDemoTokenizer().tokens.length);
    const expected = referenceLogits(shape, llamaWeights(shape, seed), ids);
    const inputIds = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const attentionMask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
    const { logits } = (await model({ input_ids: inputIds, attention_mask: attentionMask })) as { logits: Tensor };
    assert.deepEqual(logits.dims, [1, ids.length, shape.vocab]);
    const got = logits.data as Float32Array;
    let maxDiff = 0;
    expected.forEach((row, s) =>
      row.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - (got[s * shape.vocab + j] ?? NaN))))),
    );
    assert.ok(maxDiff < 1e-3, `max |Δlogit| = ${maxDiff}`);
  });

  it('generates the same tokens with and without the KV cache', async () => {
    const inputs = tokenizer('Return JSON: {"city": "Paris", "temp');
    const cached = await greedy(model, inputs, true);
    assert.equal(cached[0]?.length, ((inputs.input_ids as Tensor).dims[1] ?? 0) + 10);
    assert.deepEqual(cached, await greedy(model, inputs, false));
  });

  it('honours attention_mask: a left-padded batch row equals the row alone', async () => {
    tokenizer.padding_side = 'left';
    const prompts = ['Hello', 'The quick brown fox jumps over the lazy dog'];
    const batch = await greedy(model, tokenizer(prompts, { padding: true }), true);
    const alone = await greedy(model, tokenizer(prompts[0] ?? ''), true);
    assert.deepEqual(batch[0]?.slice(-10), alone[0]?.slice(-10));
  });

  it('is the same network as the demo GGUF of the same seed (greedy continuations agree)', async () => {
    const path = await generateLlamaGguf(root, seed);
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const gguf = await llama.loadModel({ modelPath: path });
    const context = await gguf.createContext({ contextSize: 256, threads: 1 });
    try {
      const prompt = '{"name": "Ada"';
      const fromGguf: Token[] = [];
      for await (const token of context.getSequence().evaluate(gguf.tokenize(prompt), { temperature: 0 })) {
        fromGguf.push(token);
        if (fromGguf.length === 10) break;
      }
      const fromOnnx = (await greedy(model, tokenizer(prompt), true))[0]?.slice(-10).map(Number);
      assert.deepEqual(fromGguf, fromOnnx);
    } finally {
      await context.dispose();
      await gguf.dispose();
      await llama.dispose();
    }
  });
});
