// Chat generation speed: `npm run bench:chat [-- --json] [--threads 2] [--tokens 256] [--size tiny|bench]
// [--gguf f.gguf] [--onnx dir]`.
//
// GGUF (node-llama-cpp): atelier's engine vs a bare `LlamaContextSequence.evaluate` loop on the same model and
// threads; JSON-constrained (mask every step + jump-forward) vs unconstrained; 4 concurrent streams vs 1.
// ONNX (transformers.js): time per token of atelier's step loop vs bare `model.generate` (greedy, same tokens).
// Defaults to the generated demo models; pass real ones with --gguf / --onnx. `--size bench` swaps the tiny demo GGUF
// (~0.2 ms a token, which magnifies per-step JavaScript ~50×) for a generated random-weight llama the size of a small
// real model (512 wide, 8 blocks, 32K vocabulary, Q8_0: a few ms a token), cached under bench/out/chat/.
// Medians of --runs interleaved rounds (ratios are medians of per-round ratios); for ONNX also the median gap between
// consecutive tokens, the step loop alone, which a loaded machine disturbs far less than whole calls.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { getLlama, LlamaLogLevel, TokenBias, type Token } from 'node-llama-cpp';
import { GgufEngine, OnnxEngine, type EngineModel, type MaskHook, type SamplingOptions } from '../src/engines/index.js';
import { demoModels, generateLlamaGguf, type LlamaGgufOptions } from '../src/models/demo/index.js';
import { Matcher, Vocabulary, compileJsonSchema } from '../src/structure/index.js';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    threads: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '256' },
    runs: { type: 'string', default: '7' },
    size: { type: 'string', default: 'tiny' },
    gguf: { type: 'string' },
    onnx: { type: 'string' },
  },
});
if (flags.size !== 'tiny' && flags.size !== 'bench') throw new Error(`--size must be tiny or bench, not ${flags.size}`);
const threads = Number(flags.threads);
const tokens = Number(flags.tokens);
const runs = Number(flags.runs);
const prompt = '<|im_start|>user\nList some words as JSON.<|im_end|>\n<|im_start|>assistant\n';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const sampling = (model: EngineModel, seed: number): SamplingOptions => ({
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  seed,
  frequencyPenalty: 0,
  presencePenalty: 0,
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
    prompt: { text: prompt, images: [] },
    sampling: sampling(model, seed),
    maxTokens: tokens,
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
    vocab = Vocabulary.fromTokenBytes(
      v.bytes.map((b, i) => (v.special[i] ? null : b)),
      { eosTokenIds: v.eog },
    );
    vocabularies.set(model, vocab);
  }
  const item = {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'age', 'tags'],
    properties: {
      name: { type: 'string', maxLength: 16 },
      age: { type: 'integer', minimum: 0, maximum: 150 },
      tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
    },
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

interface BareGguf {
  /** One bare stream of `tokens` tokens on the first sequence. */
  one: () => Promise<number>;
  /** Four bare streams at once, one per sequence, batched by node-llama-cpp as it does by itself. */
  four: () => Promise<number>;
  dispose: () => Promise<void>;
}

/** Bare node-llama-cpp on `path`: a 4-sequence context like atelier's, `evaluate` loops, no atelier code. */
async function bareGguf(path: string): Promise<BareGguf> {
  const llama = await getLlama({
    gpu: false,
    build: 'never',
    maxThreads: threads,
    logLevel: LlamaLogLevel.error,
    progressLogs: false,
  });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const context = await model.createContext({
    sequences: 4,
    contextSize: 2048,
    threads: { ideal: threads, min: threads },
    flashAttention: false,
  });
  const sequences = [0, 1, 2, 3].map(() => context.getSequence());
  const promptTokens = model.tokenize(prompt, true);
  // The same end-of-generation ban atelier applies (written into the bias map, as TokenBias.set skips EOG tokens).
  const banEog = TokenBias.for(model);
  for (const token of model.iterateAllTokens()) {
    if (model.isEogToken(token)) (banEog as unknown as { _biases: Map<number, number> })._biases.set(token, -Infinity);
  }
  const run = async (i: number): Promise<number> => {
    const sequence = sequences[i]!;
    // Like atelier's prefix cache: keep the evaluated prompt, re-evaluate only its last token for fresh logits.
    const keep = Math.min(sequence.nextTokenIndex, promptTokens.length - 1);
    await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    let n = 0;
    const options = { temperature: 1, topK: 0, topP: 1, seed: i + 1, yieldEogToken: true, tokenBias: banEog };
    for await (const _ of sequence.evaluate(promptTokens.slice(keep) as Token[], options)) if (++n >= tokens) break;
    return n;
  };
  return {
    one: () => run(0),
    four: async () => (await Promise.all([0, 1, 2, 3].map(run))).reduce((a, b) => a + b, 0),
    dispose: async () => {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

interface RoundStats {
  /** Tokens per wall-clock second, one entry per round. */
  rates: number[];
  /** Process CPU milliseconds (all threads) per token, one entry per round. */
  cpu: number[];
}

/**
 * Interleaved rounds (every variant once per round), so load from other processes hits all variants alike. CPU time
 * per token is recorded too: on a shared machine it shows per-token overhead far more steadily than wall time.
 */
async function interleaved(
  label: string,
  variants: Record<string, () => Promise<number>>,
): Promise<Record<string, RoundStats>> {
  const stats: Record<string, RoundStats> = {};
  for (const name of Object.keys(variants)) stats[name] = { rates: [], cpu: [] };
  for (const fn of Object.values(variants)) await fn();
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`${label} round ${i + 1}/${runs}\n`);
    for (const [name, fn] of Object.entries(variants)) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      const n = await fn();
      const used = process.cpuUsage(cpu);
      stats[name]!.rates.push(n / ((performance.now() - start) / 1000));
      stats[name]!.cpu.push((used.user + used.system) / 1000 / n);
    }
  }
  return stats;
}

async function benchGguf(path: string): Promise<Record<string, number>> {
  const bare = await bareGguf(path);
  const engine = await GgufEngine.create({ threads });
  const model = await engine.load(path, { contextSize: 2048, parallel: 4 });
  const stats = await interleaved('gguf', {
    bare: bare.one,
    ours: () => drain(model, 1),
    masked: () => drain(model, 1, jsonDecoder(model, false)),
    constrained: () => drain(model, 1, jsonDecoder(model, true)),
    four: async () => (await Promise.all([1, 2, 3, 4].map((s) => drain(model, s)))).reduce((a, b) => a + b, 0),
    bareFour: bare.four,
  });
  await engine.dispose();
  await bare.dispose();
  const wall = (a: string) => median(stats[a]!.rates);
  const cpu = (a: string) => median(stats[a]!.cpu);
  const ratio = (a: string, b: string) => median(stats[a]!.rates.map((x, i) => x / stats[b]!.rates[i]!));
  const cpuRatio = (a: string, b: string) => median(stats[a]!.cpu.map((x, i) => stats[b]!.cpu[i]! / x));
  return {
    bare: wall('bare'),
    ours: wall('ours'),
    masked: wall('masked'),
    constrained: wall('constrained'),
    four: wall('four'),
    bareFour: wall('bareFour'),
    oursVsBare: ratio('ours', 'bare'),
    maskedVsUnconstrained: ratio('masked', 'ours'),
    constrainedVsUnconstrained: ratio('constrained', 'ours'),
    fourStreamsVsOne: ratio('four', 'ours'),
    bareFourStreamsVsOne: ratio('bareFour', 'bare'),
    bareCpuMs: cpu('bare'),
    oursCpuMs: cpu('ours'),
    maskedCpuMs: cpu('masked'),
    constrainedCpuMs: cpu('constrained'),
    oursVsBareCpu: cpuRatio('ours', 'bare'),
    maskedVsUnconstrainedCpu: cpuRatio('masked', 'ours'),
    constrainedVsUnconstrainedCpu: cpuRatio('constrained', 'ours'),
  };
}

async function benchOnnx(path: string): Promise<Record<string, number>> {
  env.allowRemoteModels = false;
  env.localModelPath = join(path, '..');
  const id = path.split('/').pop() as string;
  const tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: true });
  const bareModel = await AutoModelForCausalLM.from_pretrained(id, {
    local_files_only: true,
    dtype: 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const inputs = tokenizer(prompt, { add_special_tokens: false });
  const n = Math.min(tokens, 64);
  const engine = new OnnxEngine({ threads });
  const model = await engine.load(path, { contextSize: 2048 });
  // Gaps between consecutive generated tokens (the step loop alone, prompt pass excluded). Their median shrugs off
  // the steps another process preempted, which swing whole-call times on a loaded machine.
  const steps = { bare: [] as number[], ours: [] as number[] };
  const gaps = (into: number[]) => {
    let last: number | null = null;
    return () => {
      const now = performance.now();
      if (last !== null) into.push(now - last);
      last = now;
    };
  };
  // Interleaved like the GGUF rounds: run one after the other, load from other processes favoured whichever ran last.
  const stats = await interleaved('onnx', {
    bare: async () => {
      const tick = gaps(steps.bare);
      // generate() hands the streamer the prompt first, then each new token.
      let puts = 0;
      const streamer = { put: () => (puts++ > 0 ? tick() : undefined), end: () => undefined };
      await bareModel.generate({
        ...inputs,
        max_new_tokens: n,
        min_new_tokens: n,
        do_sample: false,
        streamer,
      } as never);
      return n;
    },
    ours: async () => {
      const tick = gaps(steps.ours);
      let k = 0;
      const gen = model.generate({
        prompt: { text: prompt, images: [] },
        sampling: { ...sampling(model, 1), temperature: 0 },
        maxTokens: n,
      });
      for await (const _ of gen) {
        tick();
        k++;
      }
      return k;
    },
  });
  await engine.dispose();
  await bareModel.dispose();
  const bare = stats.bare!;
  const ours = stats.ours!;
  return {
    bareMsPerToken: 1000 / median(bare.rates),
    oursMsPerToken: 1000 / median(ours.rates),
    oursVsBare: median(ours.rates.map((x, i) => x / bare.rates[i]!)),
    oursVsBareCpu: median(ours.cpu.map((x, i) => bare.cpu[i]! / x)),
    bareCpuMs: median(bare.cpu),
    oursCpuMs: median(ours.cpu),
    bareStepMs: median(steps.bare),
    oursStepMs: median(steps.ours),
    oursVsBareStep: median(steps.bare) / median(steps.ours),
  };
}

/** The benchmark-size GGUF: a small real model's per-token cost and vocabulary, random weights. */
const benchGgufShape: LlamaGgufOptions = {
  name: 'atelier-bench-llama',
  shape: { embedding: 512, blocks: 8, heads: 8, kvHeads: 4, feedForward: 1536 },
  vocabSize: 32000,
  weights: 'q8_0',
};

/** Generates the benchmark-size GGUF once (~60 MB, a few seconds) and reuses it from bench/out/chat/. */
async function benchSizeGguf(): Promise<string> {
  const folder = join(import.meta.dirname, 'out', 'chat', 'llama-512x8-v32000-q8_0-seed1');
  const path = join(folder, 'atelier-demo-llama.gguf');
  if (existsSync(path)) return path;
  // Written next to the cache and renamed into it, so an interrupted run never leaves a truncated model behind.
  const partial = `${folder}.partial-${process.pid}`;
  const written = await generateLlamaGguf(partial, 1, benchGgufShape);
  mkdirSync(folder, { recursive: true });
  renameSync(written, path);
  rmSync(partial, { recursive: true, force: true });
  return path;
}

const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-chat-'));
try {
  const ggufPath =
    flags.gguf ??
    (flags.size === 'bench'
      ? await benchSizeGguf()
      : await demoModels.find((m) => m.name === 'atelier-demo-gguf')!.generate(join(dir, 'gguf'), { seed: 1 }));
  const onnxPath =
    flags.onnx ??
    (await demoModels.find((m) => m.name === 'atelier-demo-onnx')!.generate(join(dir, 'onnx'), { seed: 1 }));
  const g = await benchGguf(ggufPath);
  const o = await benchOnnx(onnxPath);
  const summary = {
    threads,
    tokens,
    runs,
    size: flags.gguf ? 'custom' : flags.size,
    gguf: g,
    onnx: o,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const f = (x: number) => x.toFixed(x >= 100 ? 0 : 2);
    const cpu = (ms: number, r?: number) => `${ms.toFixed(3)} cpu-ms/tok${r === undefined ? '' : ` = ${f(r)}x`}`;
    const rows: [string, string, string][] = [
      ['GGUF bare node-llama-cpp', `${f(g.bare!)} tok/s`, cpu(g.bareCpuMs!)],
      [
        'GGUF atelier, unconstrained',
        `${f(g.ours!)} tok/s`,
        `${f(g.oursVsBare!)}x bare (target >= 0.95); ${cpu(g.oursCpuMs!, g.oursVsBareCpu)}`,
      ],
      [
        'GGUF atelier, JSON mask only',
        `${f(g.masked!)} tok/s`,
        `${f(g.maskedVsUnconstrained!)}x unconstrained (target >= 0.95); ${cpu(g.maskedCpuMs!, g.maskedVsUnconstrainedCpu)}`,
      ],
      [
        'GGUF atelier, JSON mask + jump-forward',
        `${f(g.constrained!)} tok/s`,
        `${f(g.constrainedVsUnconstrained!)}x unconstrained; ${cpu(g.constrainedCpuMs!, g.constrainedVsUnconstrainedCpu)}`,
      ],
      ['GGUF atelier, 4 streams total', `${f(g.four!)} tok/s`, `${f(g.fourStreamsVsOne!)}x one stream (target >= 1.6)`],
      ['GGUF bare, 4 streams total', `${f(g.bareFour!)} tok/s`, `${f(g.bareFourStreamsVsOne!)}x one bare stream`],
      ['ONNX bare transformers.js generate', `${f(o.bareMsPerToken!)} ms/tok`, cpu(o.bareCpuMs!)],
      [
        'ONNX atelier step loop',
        `${f(o.oursMsPerToken!)} ms/tok`,
        `${f(o.oursVsBare!)}x bare speed (target >= 0.95); ${cpu(o.oursCpuMs!, o.oursVsBareCpu)}`,
      ],
      [
        'ONNX median step, bare vs atelier',
        `${o.bareStepMs!.toFixed(3)} ms`,
        `atelier ${o.oursStepMs!.toFixed(3)} ms = ${f(o.oursVsBareStep!)}x bare speed`,
      ],
    ];
    process.stdout.write(`chat bench: ${summary.size} GGUF, ${tokens} tokens, ${threads} threads, median of ${runs}\n`);
    for (const [a, b, c] of rows) process.stdout.write(`${a.padEnd(40)} ${b.padStart(14)}  ${c}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
