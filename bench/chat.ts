// Chat generation speed: `npm run bench:chat [-- --json] [--threads 2] [--tokens 256] [--gguf f.gguf] [--onnx dir]`.
//
// GGUF (node-llama-cpp): atelier's engine vs a bare `LlamaContextSequence.evaluate` loop on the same model and
// threads; JSON-constrained (mask every step + jump-forward) vs unconstrained; 4 concurrent streams vs 1.
// ONNX (transformers.js): time per token of atelier's step loop vs bare `model.generate` (greedy, same tokens).
// Defaults to the generated demo models; pass real ones with --gguf / --onnx. Medians of --runs interleaved rounds (ratios are medians of per-round ratios).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { getLlama, LlamaLogLevel, TokenBias, type Token } from 'node-llama-cpp';
import { GgufEngine, OnnxEngine, type EngineModel, type MaskHook, type SamplingOptions } from '../src/engines/index.js';
import { demoModels } from '../src/models/demo/index.js';
import { Matcher, Vocabulary, compileJsonSchema } from '../src/structure/index.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '256' },
    runs: { type: 'string', default: '7' },
    gguf: { type: 'string' },
    onnx: { type: 'string' },
  },
});
const threads = Number(flags.threads);
const tokens = Number(flags.tokens);
const runs = Number(flags.runs);
const prompt = '<|im_start|>user\nList some words as JSON.<|im_end|>\n<|im_start|>assistant\n';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
async function rate(label: string, fn: () => Promise<number>): Promise<number> {
  process.stderr.write(`${label}…\n`);
  const rates: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const n = await fn();
    rates.push(n / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

const sampling = (model: EngineModel, seed: number): SamplingOptions => ({
  temperature: 1, topP: 1, topK: 0, minP: 0, seed, frequencyPenalty: 0, presencePenalty: 0,
  // Both sides generate exactly `tokens` tokens: end-of-generation is banned here and ignored by the bare loop.
  logitBias: new Map(model.vocabulary().eog.map((id) => [id, -100])),
});

interface Decoder {
  mask: MaskHook;
  accept: (t: number) => void;
  forced: () => number[];
}

async function drain(model: EngineModel, seed: number, decoder?: Decoder): Promise<number> {
  let n = 0;
  const gen = model.generate({
    prompt: { text: prompt, images: [] }, sampling: sampling(model, seed), maxTokens: tokens,
    ...(decoder && { mask: decoder.mask, forced: decoder.forced }),
  });
  for await (const t of gen) {
    if (!t.forced) decoder?.accept(t.token);
    n++;
  }
  return n;
}

/**
 * The chat layer's decoder over an unbounded array of `{name, age, tags}` objects (so constrained runs last
 * `tokens` tokens too): masks every step, jump-forward over the forced keys and punctuation.
 */
const vocabularies = new Map<EngineModel, Vocabulary>();

function jsonDecoder(model: EngineModel, jump: boolean): Decoder {
  const v = model.vocabulary();
  let vocab = vocabularies.get(model);
  if (!vocab) {
    vocab = Vocabulary.fromTokenBytes(v.bytes.map((b, i) => (v.special[i] ? null : b)), { eosTokenIds: v.eog });
    vocabularies.set(model, vocab);
  }
  const item = {
    type: 'object', additionalProperties: false, required: ['name', 'age', 'tags'],
    properties: { name: { type: 'string', maxLength: 16 }, age: { type: 'integer', minimum: 0, maximum: 150 }, tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 } },
  };
  // minItems keeps the array open for the whole run (the grammar, not the EOS ban, decides when it may end).
  const matcher = new Matcher(compileJsonSchema({ type: 'array', items: item, minItems: 64 }), vocab);
  return {
    mask: (words) => (matcher.fillMask(words), true),
    accept: (t) => void matcher.accept(t),
    forced: () => {
      if (!jump) return [];
      const f = matcher.forcedTokens();
      f.forEach((t) => matcher.accept(t));
      return f;
    },
  };
}

async function benchGguf(path: string): Promise<Record<string, number>> {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: threads, logLevel: LlamaLogLevel.error, progressLogs: false });
  const bareModel = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const bareContext = await bareModel.createContext({ sequences: 1, contextSize: 2048, threads: { ideal: threads, min: threads }, flashAttention: false });
  const sequence = bareContext.getSequence();
  const promptTokens = bareModel.tokenize(prompt, true);
  // The same end-of-generation ban atelier applies (written into the bias map, as TokenBias.set skips EOG tokens).
  const banEog = TokenBias.for(bareModel);
  for (const token of bareModel.iterateAllTokens()) {
    if (bareModel.isEogToken(token)) (banEog as unknown as { _biases: Map<number, number> })._biases.set(token, -Infinity);
  }
  const bareRun = async (): Promise<number> => {
    // Like atelier's prefix cache: keep the evaluated prompt, re-evaluate only its last token for fresh logits.
    const keep = Math.min(sequence.nextTokenIndex, promptTokens.length - 1);
    await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    let n = 0;
    const options = { temperature: 1, topK: 0, topP: 1, seed: 1, yieldEogToken: true, tokenBias: banEog };
    for await (const _ of sequence.evaluate(promptTokens.slice(keep) as Token[], options)) if (++n >= tokens) break;
    return n;
  };
  const engine = await GgufEngine.create({ threads });
  const model = await engine.load(path, { contextSize: 2048, parallel: 4 });
  const runsOf: Record<string, () => Promise<number>> = {
    bare: bareRun,
    ours: () => drain(model, 1),
    masked: () => drain(model, 1, jsonDecoder(model, false)),
    constrained: () => drain(model, 1, jsonDecoder(model, true)),
    four: async () => (await Promise.all([1, 2, 3, 4].map((s) => drain(model, s)))).reduce((a, b) => a + b, 0),
  };
  // Interleaved (bare, ours, constrained, four) rounds, so load from other processes hits all variants alike.
  const rates: Record<string, number[]> = { bare: [], ours: [], masked: [], constrained: [], four: [] };
  await runsOf.bare!();
  await runsOf.ours!();
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`gguf round ${i + 1}/${runs}\n`);
    for (const [name, fn] of Object.entries(runsOf)) {
      const start = performance.now();
      const n = await fn();
      rates[name]!.push(n / ((performance.now() - start) / 1000));
    }
  }
  await engine.dispose();
  await bareContext.dispose();
  await bareModel.dispose();
  await llama.dispose();
  const ratio = (a: string, b: string) => median(rates[a]!.map((x, i) => x / rates[b]![i]!));
  return {
    bare: median(rates.bare!), ours: median(rates.ours!), masked: median(rates.masked!), constrained: median(rates.constrained!), four: median(rates.four!),
    oursVsBare: ratio('ours', 'bare'), maskedVsUnconstrained: ratio('masked', 'ours'), constrainedVsUnconstrained: ratio('constrained', 'ours'),
    fourStreamsVsOne: ratio('four', 'ours'),
  };
}

async function benchOnnx(path: string): Promise<Record<string, number>> {
  env.allowRemoteModels = false;
  env.localModelPath = join(path, '..');
  const id = path.split('/').pop() as string;
  const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
  const bareModel = await AutoModelForCausalLM.from_pretrained(id, { local_files_only: true, dtype: 'fp32', device: 'cpu', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  const inputs = tokenizer(prompt, { add_special_tokens: false });
  const n = Math.min(tokens, 64);
  const bare = await rate('onnx bare', async () => {
    await bareModel.generate({ ...inputs, max_new_tokens: n, min_new_tokens: n, do_sample: false });
    return n;
  });
  await bareModel.dispose();
  const engine = new OnnxEngine({ threads });
  const model = await engine.load(path, { contextSize: 2048 });
  const ours = await rate('onnx atelier', async () => {
    let k = 0;
    const gen = model.generate({ prompt: { text: prompt, images: [] }, sampling: { ...sampling(model, 1), temperature: 0 }, maxTokens: n });
    for await (const _ of gen) k++;
    return k;
  });
  await engine.dispose();
  return { bareMsPerToken: 1000 / bare, oursMsPerToken: 1000 / ours };
}

const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-chat-'));
try {
  const ggufPath = flags.gguf ?? (await demoModels.find((m) => m.name === 'atelier-demo-gguf')!.generate(join(dir, 'gguf'), { seed: 1 }));
  const onnxPath = flags.onnx ?? (await demoModels.find((m) => m.name === 'atelier-demo-onnx')!.generate(join(dir, 'onnx'), { seed: 1 }));
  const g = await benchGguf(ggufPath);
  const o = await benchOnnx(onnxPath);
  const summary = {
    threads, tokens, runs,
    gguf: g,
    onnx: { ...o, oursVsBare: o.bareMsPerToken! / o.oursMsPerToken! },
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const f = (x: number) => x.toFixed(x >= 100 ? 0 : 2);
    const rows: [string, string, string][] = [
      ['GGUF bare node-llama-cpp', `${f(g.bare!)} tok/s`, ''],
      ['GGUF atelier, unconstrained', `${f(g.ours!)} tok/s`, `${f(g.oursVsBare!)}x bare (target >= 0.95)`],
      ['GGUF atelier, JSON mask only', `${f(g.masked!)} tok/s`, `${f(g.maskedVsUnconstrained!)}x unconstrained (target >= 0.95)`],
      ['GGUF atelier, JSON mask + jump-forward', `${f(g.constrained!)} tok/s`, `${f(g.constrainedVsUnconstrained!)}x unconstrained`],
      ['GGUF atelier, 4 streams total', `${f(g.four!)} tok/s`, `${f(g.fourStreamsVsOne!)}x one stream (target >= 1.6)`],
      ['ONNX bare transformers.js generate', `${f(o.bareMsPerToken!)} ms/tok`, ''],
      ['ONNX atelier step loop', `${f(o.oursMsPerToken!)} ms/tok`, `${f(summary.onnx.oursVsBare)}x bare speed`],
    ];
    process.stdout.write(`chat bench: ${tokens} tokens, ${threads} threads, median of ${runs}\n`);
    for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(40)} ${b.padStart(14)}  ${c}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
