/**
 * What the token budget costs the decoder (docs/structure.md, "Valid JSON at any token budget"), on MaskBench with
 * the Llama 3 vocabulary:
 *  - far: each valid instance fed token by token as in bench:structure, once without a budget and once with a
 *    budget far away (1e6), in alternating order — the difference is the per-step overhead while the budget is far;
 *    then both again with every cache warm (a second request with the same schema);
 *  - near: random tokens under the mask with a budget from the shortest instance up (as the MaskBench budget test
 *    does), timing every mask — the cost when the budget binds.
 *
 *   npm run bench:structure-budget -- [--data DIR] [--limit N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileJsonSchema, Matcher, type Grammar } from '../src/structure/index.js';
import { loadTokenizer, type BenchTokenizer } from './structure-tokenizers.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(repo, '../shared/data/maskbench') },
    limit: { type: 'string', default: '100' },
  },
});

/** Microseconds per fillMask+accept over the instance's tokens, with or without a far budget. */
function feed(grammar: Grammar, tok: BenchTokenizer, tokens: number[], budget: number | null, times: number[]): void {
  const m = new Matcher(grammar, tok.vocabulary);
  if (budget !== null) m.setTokenBudget(budget);
  const mask = tok.vocabulary.allocateMask();
  for (const id of [...tokens, tok.eos]) {
    const s = performance.now();
    m.fillMask(mask);
    const ok = ((mask[id >>> 5]! >>> (id & 31)) & 1) === 1 && m.accept(id);
    times.push((performance.now() - s) * 1000);
    if (!ok) return;
  }
}

/** Random tokens under a budget; microseconds per mask. */
function decode(grammar: Grammar, tok: BenchTokenizer, budget: number, seed: number, times: number[]): void {
  let a = seed >>> 0;
  const rand = (): number => (a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 4294967296;
  const m = new Matcher(grammar, tok.vocabulary);
  m.setTokenBudget(budget);
  const mask = tok.vocabulary.allocateMask();
  for (let step = 0; step < budget; step++) {
    const s = performance.now();
    m.fillMask(mask);
    times.push((performance.now() - s) * 1000);
    const allowed: number[] = [];
    for (let w = 0; w < mask.length; w++)
      for (let bits = mask[w]!; bits !== 0; bits &= bits - 1) allowed.push((w * 32 + Math.clz32(bits & -bits)) ^ 31);
    const token = allowed.includes(tok.eos) && rand() < 0.5 ? tok.eos : allowed[Math.floor(rand() * allowed.length)]!;
    if (token === tok.eos || !m.accept(token)) return;
  }
}

function summary(name: string, times: number[]): string {
  const sorted = [...times].sort((x, y) => x - y);
  const avg = times.reduce((x, y) => x + y, 0) / Math.max(1, times.length);
  const p = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return `${name.padEnd(28)} steps ${String(times.length).padStart(6)}  avg ${avg.toFixed(1).padStart(8)} µs  p50 ${p(0.5).toFixed(1).padStart(8)}  p99 ${p(0.99).toFixed(1).padStart(9)}`;
}

function main(): void {
  const files = readdirSync(args.data)
    .filter((f) => f.endsWith('.json'))
    .sort();
  const limit = Number(args.limit);
  const picked = Array.from(
    { length: Math.min(limit, files.length) },
    (_, i) => files[Math.floor((i * files.length) / limit)]!,
  );
  const tok = loadTokenizer('llama3');
  const none: number[] = [];
  const far: number[] = [];
  const near: number[] = [];
  const noneWarm: number[] = [];
  const farWarm: number[] = [];
  let minimumMs = 0;
  picked.forEach((file, n) => {
    const c = JSON.parse(readFileSync(join(args.data, file), 'utf8')) as {
      schema: unknown;
      tests: { valid: boolean; data: unknown }[];
    };
    let grammar: Grammar;
    try {
      grammar = compileJsonSchema(c.schema);
    } catch {
      return;
    }
    const t = performance.now();
    const minimum = new Matcher(grammar, tok.vocabulary).shortestCompletion();
    minimumMs += performance.now() - t;
    for (const test of c.tests.filter((x) => x.valid)) {
      const tokens = tok.encode(JSON.stringify(test.data));
      // Alternate which run goes first, so warm caches favour neither.
      const runs: [number | null, number[]][] =
        n % 2 === 0
          ? [
              [null, none],
              [1e6, far],
            ]
          : [
              [1e6, far],
              [null, none],
            ];
      for (const [budget, times] of runs) feed(grammar, tok, tokens, budget, times);
    }
    // Again with every cache warm (a second request with the same schema).
    for (const test of c.tests.filter((x) => x.valid)) {
      const tokens = tok.encode(JSON.stringify(test.data));
      feed(grammar, tok, tokens, null, noneWarm);
      feed(grammar, tok, tokens, 1e6, farWarm);
    }
    if (Number.isFinite(minimum) && minimum <= 400)
      for (const extra of [0, 3, 30]) decode(grammar, tok, minimum + extra, n * 7 + extra, near);
  });
  console.log(summary('no budget', none));
  console.log(summary('budget far (1e6)', far));
  console.log(summary('no budget, warm', noneWarm));
  console.log(summary('budget far, warm', farWarm));
  console.log(summary('budget near (min..min+30)', near));
  console.log(`shortest completion of the start, all schemas: ${minimumMs.toFixed(0)} ms`);
}

main();
