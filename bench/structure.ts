/**
 * MaskBench-style benchmark of the constrained decoder against @mlc-ai/web-xgrammar, same schemas, same
 * vocabulary, same run: compile (TTFM = compile + first mask) and per-token mask+accept time (TBM) while feeding
 * each test instance's tokens, plus correctness (valid rejected, invalid accepted, cross-checked with ajv).
 *
 *   npm run bench:structure -- [--data DIR] [--tokenizer llama3|o200k] [--limit N] [--property-order any|schema]
 *                              [--no-xgrammar] [--xgrammar-timeout S] [--json]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CompileError, compileJsonSchema, Matcher } from '../src/structure/index.js';
import { ajvFor } from './structure-ajv.js';
import { EngineStats, printTable } from './structure-stats.js';
import { loadTokenizer, type BenchTokenizer } from './structure-tokenizers.js';
import { XGrammarRunner } from './structure-xgrammar-runner.js';

interface Case {
  description?: string;
  schema: unknown;
  tests: { description?: string; valid: boolean; data: unknown }[];
}

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(repo, '../shared/data/maskbench') },
    tokenizer: { type: 'string', default: 'llama3' },
    limit: { type: 'string' },
    'property-order': { type: 'string', default: 'any' },
    'no-xgrammar': { type: 'boolean', default: false },
    'xgrammar-timeout': { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  },
});

/** A deterministic spread of `limit` files over the sorted list, so every split is represented. */
function pick(files: string[], limit: number | undefined): string[] {
  if (limit === undefined || limit >= files.length) return files;
  return Array.from({ length: limit }, (_, i) => files[Math.floor((i * files.length) / limit)]!);
}

/** Runs our matcher over one case; returns per-test verdicts (true = accepted through EOS). */
function runOurs(
  c: Case,
  file: string,
  tests: number[][],
  tok: BenchTokenizer,
  stats: EngineStats,
  order: 'any' | 'schema',
): boolean[] | 'compile-error' | 'internal-error' {
  const vocab = tok.vocabulary;
  const mask = vocab.allocateMask();
  const t0 = performance.now();
  let grammar;
  try {
    grammar = compileJsonSchema(c.schema, { propertyOrder: order });
    new Matcher(grammar, vocab).fillMask(mask);
  } catch (e) {
    if (e instanceof CompileError) return 'compile-error';
    stats.note(`internal: ${(e as Error).message.slice(0, 160)}`);
    return 'internal-error';
  }
  stats.firstMask(performance.now() - t0, file);
  return tests.map((tokens) => {
    const m = new Matcher(grammar, vocab);
    for (const id of [...tokens, tok.eos]) {
      const s = performance.now();
      m.fillMask(mask);
      const ok = ((mask[id >>> 5]! >>> (id & 31)) & 1) === 1 && m.accept(id);
      stats.step(performance.now() - s);
      if (!ok) return false;
    }
    return m.isStopped() && !m.error;
  });
}

function tally(stats: EngineStats, c: Case, file: string, verdicts: boolean[], ajvVerdicts: (boolean | null)[]): void {
  let pass = true;
  let validRejected = false;
  verdicts.forEach((accepted, i) => {
    const t = c.tests[i]!;
    if (accepted !== t.valid) pass = false;
    if (t.valid && !accepted) {
      stats.validRejected++;
      validRejected = true;
      stats.note(`valid rejected ${file} #${i}`);
    }
    if (!t.valid && accepted) {
      stats.invalidAccepted++;
      stats.note(`INVALID ACCEPTED ${file} #${i}`);
    }
    if (accepted && ajvVerdicts[i] === false) stats.ajvInvalidAccepted++;
  });
  if (validRejected) stats.schemasWithValidRejected++;
  if (pass) stats.passing++;
}

async function main(): Promise<void> {
  const order = args['property-order'];
  if (order !== 'any' && order !== 'schema') throw new Error('--property-order must be any or schema');
  const limit = args.limit === undefined ? undefined : Number(args.limit);
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0))
    throw new Error('--limit must be a positive integer');
  const files = pick(
    readdirSync(args.data)
      .filter((f) => f.endsWith('.json'))
      .sort(),
    limit,
  );
  if (files.length === 0) throw new Error(`no .json files in ${args.data}`);
  const tok = loadTokenizer(args.tokenizer);
  const ours = new EngineStats('atelier');
  const xgs = new EngineStats('web-xgrammar');
  const xg = args['no-xgrammar'] ? null : await XGrammarRunner.start(tok, Number(args['xgrammar-timeout']) * 1000);
  for (const [n, file] of files.entries()) {
    const c = JSON.parse(readFileSync(join(args.data, file), 'utf8')) as Case;
    const tests = c.tests.map((t) => tok.encode(JSON.stringify(t.data)));
    const ajvVerdicts = ajvFor(
      c.schema,
      c.tests.map((t) => t.data),
    );
    ours.schemas++;
    const mine = runOurs(c, file, tests, tok, ours, order);
    if (mine === 'compile-error') ours.compileErrors++;
    else if (mine === 'internal-error') ours.internalErrors++;
    else tally(ours, c, file, mine, ajvVerdicts);
    if (xg) {
      xgs.schemas++;
      const r = await xg.run(JSON.stringify(c.schema), tests);
      if (r.kind === 'timeout') xgs.timeouts++;
      else if (r.kind === 'error') xgs.compileErrors++;
      else {
        r.tbm.forEach((v) => xgs.step(v));
        xgs.firstMask(r.ttfm, file);
        tally(xgs, c, file, r.verdicts, ajvVerdicts);
      }
    }
    if (!args.json && (n + 1) % 100 === 0) process.stderr.write(`${n + 1}/${files.length}\n`);
  }
  await xg?.stop();
  const rows = [ours.summary(), ...(xg ? [xgs.summary()] : [])];
  console.log(`data ${args.data} · ${files.length} schemas · tokenizer ${tok.name} · property order ${order}`);
  printTable(rows);
  for (const s of [ours, xgs]) if (s.examples.length) console.log(`${s.name} examples:\n  ${s.examples.join('\n  ')}`);
  if (args.json)
    console.log(
      JSON.stringify({
        data: args.data,
        schemas: files.length,
        tokenizer: tok.name,
        property_order: order,
        results: rows,
      }),
    );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
