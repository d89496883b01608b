/** `atelier run` and `atelier chat` through the real bin (src/main.ts), on the demo GGUF in a temp home. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv from 'ajv';
import OpenAI from 'openai';
import { invoiceSchema, scannedLetterPdf } from '../../scripts/make-invoice-pdf.js';
import { demoModels } from '../../src/models/demo/index.js';
import { ModelRegistry } from '../../src/models/index.js';
import { openStore } from '../../src/store/index.js';

const MODEL = 'atelier-demo-gguf';

function atelier(home: string, args: string[], input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', '--home', home, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, ATELIER_THREADS: '1', ATELIER_CONTEXT_SIZE: '1024' },
    timeout: 90_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('atelier run / chat', () => {
  let home: string;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'atelier-chat-cli-'));
    const path = await demoModels.find((m) => m.name === MODEL)!.generate(join(home, 'src'), { seed: 1 });
    const store = openStore(home);
    new ModelRegistry(store).addLocal(path, { name: MODEL });
    store.close();
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  it('run --schema --json prints a completion whose content matches the schema', () => {
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, n: { type: 'integer', minimum: 0, maximum: 9 } },
      required: ['ok', 'n'],
      additionalProperties: false,
    };
    const file = join(home, 'answer.json');
    writeFileSync(file, JSON.stringify(schema));
    const r = atelier(home, [
      'run',
      MODEL,
      'Is it ok?',
      '--schema',
      file,
      '--json',
      '--seed',
      '4',
      '--max-tokens',
      '60',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const completion = JSON.parse(r.stdout) as { object: string; choices: { message: { content: string } }[] };
    assert.equal(completion.object, 'chat.completion');
    const validate = new Ajv.default().compile(schema);
    assert.ok(validate(JSON.parse(completion.choices[0]!.message.content)));
  });

  it('run --file invoice.pdf --schema invoice.json (no prompt) answers with the schema; a scanned page is refused by name', async () => {
    const pdf = join(home, 'invoice.pdf');
    const made = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/make-invoice-pdf.ts', pdf], {
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);
    const r = atelier(home, [
      'run',
      MODEL,
      '--file',
      pdf,
      '--schema',
      join(home, 'invoice.json'),
      '--json',
      '--seed',
      '3',
      '--max-tokens',
      '200',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const completion = JSON.parse(r.stdout) as { choices: { message: { content: string } }[] };
    const validate = new Ajv.default().compile(invoiceSchema);
    assert.ok(validate(JSON.parse(completion.choices[0]!.message.content)), completion.choices[0]!.message.content);
    const letter = join(home, 'letter.pdf');
    writeFileSync(letter, await scannedLetterPdf());
    const scan = atelier(home, ['run', MODEL, 'Summarise.', '--file', letter]);
    assert.notEqual(scan.status, 0);
    assert.match(scan.stderr, /letter\.pdf: page 2 has no text layer/);
    assert.match(atelier(home, ['run', MODEL]).stderr, /missing required argument 'prompt'/);
  });

  it('run streams text, and rejects bad input with a message', () => {
    const r = atelier(home, ['run', MODEL, 'Hello', '--seed', '1', '--max-tokens', '8']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.length > 0);
    const bad = atelier(home, ['run', MODEL, 'Hello', '--temperature', '9']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /temperature/);
  });

  it('chat keeps a conversation over stdin until /exit', () => {
    const r = atelier(home, ['chat', MODEL, '--max-tokens', '6'], 'Hello\nAnd again\n/image /nonexistent.png\n/exit\n');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /cannot read image/);
    assert.ok((r.stdout.match(/> /g) ?? []).length >= 3);
  });

  it('atelier serve answers chat completions with enforced JSON (composition root wiring)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--home', home, 'serve', '--port', '0'], {
      env: { ...process.env, ATELIER_THREADS: '1', ATELIER_CONTEXT_SIZE: '1024', ATELIER_LOG_LEVEL: 'info' },
      stdio: 'pipe',
    });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let buffer = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          const match = /"address":"(http:[^"]+)"/.exec(buffer);
          if (match?.[1]) resolve(match[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${String(code)}: ${buffer}`)));
      });
      const client = new OpenAI({ baseURL: `${address}/v1`, apiKey: 'unused', maxRetries: 0 });
      const schema = {
        type: 'object',
        properties: { yes: { type: 'boolean' } },
        required: ['yes'],
        additionalProperties: false,
      };
      const r = await client.chat.completions.create({
        model: MODEL,
        seed: 1,
        max_completion_tokens: 30,
        messages: [{ role: 'user', content: 'Yes?' }],
        response_format: { type: 'json_schema', json_schema: { name: 'yes', schema, strict: true } },
      });
      assert.equal(typeof (JSON.parse(r.choices[0]?.message.content ?? '') as { yes: unknown }).yes, 'boolean');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
