/**
 * The event loop stays free: while hostile requests that each cost work proportional to their size run at once —
 * 10 MB prompts to the ONNX and the GGUF demo models, a zip bomb and an honest large zip, expensive regex patterns in
 * parallel, a schema of many patterns, too many messages and tools, a 1 MB tool definition — `/health` is polled
 * every 20 ms and must answer with p99 latency under 100 ms (each sample counted from when it was due, so a blocked
 * loop that delays sending is caught too). Each attack must still get its OpenAI-shaped 4xx, and the server must answer normally afterwards.
 *
 * The server runs in a child process (`event-loop-server.ts`), alone on its event loop: the latency measured is its
 * own, not that of this process, which encodes the attack bodies and polls. Bodies are still encoded before the clock
 * starts and written with node:http in one piece, so the poller's timers here are not held up by the attacker; the
 * server is warmed with ordinary requests first, as a running server is, so one-time module loading and JIT are not
 * counted.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, get, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { errorOf, multipart } from './harness.js';

// The demo models `event-loop-server.ts` serves.
const GGUF = 'atelier-demo-gguf';
const ONNX = 'atelier-demo-onnx';
const POLL_MS = 20;
const agent = new Agent({ keepAlive: true });

interface Answer {
  status: number;
  body: string;
}

/**
 * Polls `/health` on a fixed 20 ms schedule; each latency runs from when the poll was due to its answer. Polls for
 * at least `minMs`, so that p99 is taken over enough samples for one slow answer not to be the whole tail.
 */
function pollHealth(url: string, minMs = 2000): { stop: () => Promise<number[]> } {
  const latencies: Promise<number>[] = [];
  const start = performance.now();
  let running = true;
  const tick = (k: number): void => {
    if (!running) return;
    const due = start + k * POLL_MS;
    latencies.push(
      new Promise((resolve, reject) => {
        // node:http rather than fetch: the poller shares its loop with the attacker, and undici costs several times more.
        get(`${url}/health`, { agent }, (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve(performance.now() - due) : reject(new Error(`/health ${res.statusCode}`)),
          );
        }).on('error', reject);
      }),
    );
    setTimeout(() => tick(k + 1), Math.max(0, start + (k + 1) * POLL_MS - performance.now()));
  };
  tick(0);
  return {
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + minMs - performance.now())));
      running = false;
      return Promise.all(latencies);
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe('the event loop stays free under input-proportional attacks', () => {
  let home: string;
  let server: ChildProcess;
  let url: string;
  let close: () => Promise<void>;

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'atelier-event-loop-'));
    server = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'event-loop-server.ts'), home], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    close = async () => {
      server.stdin!.end();
      await exited;
    };
    url = await new Promise<string>((resolve, reject) => {
      let text = '';
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`event-loop server exited with ${code}`)));
      server.stdout!.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /listening (\d+)\n/.exec(text);
        if (match) resolve(`http://127.0.0.1:${match[1]}`);
      });
    });
  });
  after(async () => {
    await close();
    rmSync(home, { recursive: true, force: true });
  });

  const post = (path: string, body: string | Buffer, type = 'application/json'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      const headers = { 'content-type': type, 'content-length': String(bytes.length) };
      const req = request(`${url}${path}`, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(bytes);
    });
  const chat = (model: string, extra: Record<string, unknown>, content = 'Hi'): string =>
    JSON.stringify({ model, messages: [{ role: 'user', content }], max_completion_tokens: 4, ...extra });
  const upload = async (name: string, bytes: Uint8Array): Promise<string> => {
    const form = multipart([
      { field: 'purpose', value: 'fine-tune' },
      { file: name, bytes: Buffer.from(bytes) },
    ]);
    const answer = await post('/v1/files', form.body, form.type);
    assert.equal(answer.status, 200, answer.body);
    return (JSON.parse(answer.body) as { id: string }).id;
  };
  /** Ordinary traffic: a chat on each model, a pattern-constrained one, and a job whose zip holds too few photos. */
  const warmUp = async (): Promise<void> => {
    for (const model of [GGUF, ONNX]) assert.equal((await post('/v1/chat/completions', chat(model, {}))).status, 200);
    const schema = { type: 'object', properties: { d: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}$' } } };
    const constrained = await post(
      '/v1/chat/completions',
      chat(GGUF, { response_format: { type: 'json_schema', json_schema: { name: 's', schema } } }),
    );
    assert.equal(constrained.status, 200, constrained.body);
    assert.equal((await trainOn('one.zip', zipSync({ 'a.png': new Uint8Array(1000) }))).status, 400);
  };
  const trainOn = async (name: string, zip: Uint8Array): Promise<Answer> =>
    post(
      '/v1/fine_tuning/jobs',
      JSON.stringify({
        model: 'base-sd',
        training_file: await upload(name, zip),
        method: { type: 'dreambooth', dreambooth: {} },
      }),
    );

  it('answers /health with p99 < 100 ms while every attack runs, and each attack gets its 4xx', async () => {
    // Payloads are built before the clock starts: the test's own work shares this event loop.
    const huge = 'lorem ipsum dolor sit amet '.repeat(400_000);
    const bodies = { onnx: Buffer.from(chat(ONNX, {}, huge)), gguf: Buffer.from(chat(GGUF, {}, huge)) };
    const nearBound = chat(ONNX, {}, 'ab '.repeat(5000));
    // 80 MiB that claims 100 bytes (cut at the 64 MiB entry limit), and 2 × 30 MiB that say what they are.
    const bomb = repeatedZip([['a.png', 0, 80]]);
    declareSize(bomb, 100);
    const honest = repeatedZip([
      ['a.png', 1, 30],
      ['b.png', 2, 30],
    ]);
    const pattern = (c: string): Buffer =>
      Buffer.from(
        chat(GGUF, {
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 's',
              schema: { type: 'object', properties: { v: { type: 'string', pattern: `^.*${c}.{30}$` } } },
            },
          },
        }),
      );
    const manyPatterns = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [
        `p${i}`,
        { type: 'string', pattern: `^.*${String.fromCodePoint(0x4e00 + i)}.{10}$` },
      ]),
    );
    const bigSchema = Buffer.from(
      chat(GGUF, {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 's', schema: { type: 'object', properties: manyPatterns } },
        },
      }),
    );
    const tools = Array.from({ length: 129 }, (_, i) => ({
      type: 'function',
      function: { name: `t${i}`, parameters: { type: 'object' } },
    }));
    const manyTools = chat(GGUF, { tools });
    const hugeParameters = {
      type: 'object',
      properties: Object.fromEntries(
        Array.from({ length: 20_000 }, (_, i) => [`p${i}`, { type: 'string', description: 'x'.repeat(40) }]),
      ),
    };
    const hugeTool = Buffer.from(
      chat(GGUF, { tools: [{ type: 'function', function: { name: 'f', parameters: hugeParameters } }] }),
    );
    const manyMessages = Buffer.from(
      JSON.stringify({ model: GGUF, messages: Array.from({ length: 3000 }, () => ({ role: 'user', content: 'x' })) }),
    );
    await warmUp();

    const poller = pollHealth(url);
    const [onnx, gguf, near, bombed, honestly, patterns, big, toolsAnswer, messagesAnswer, hugeToolAnswer] =
      await Promise.all([
        post('/v1/chat/completions', bodies.onnx),
        post('/v1/chat/completions', bodies.gguf),
        post('/v1/chat/completions', nearBound),
        trainOn('bomb.zip', bomb),
        trainOn('honest.zip', honest),
        Promise.all(['b', 'c', 'd', 'e'].map((c) => post('/v1/chat/completions', pattern(c)))),
        post('/v1/chat/completions', bigSchema),
        post('/v1/chat/completions', manyTools),
        post('/v1/chat/completions', manyMessages),
        post('/v1/chat/completions', hugeTool),
      ]);
    const latencies = await poller.stop();

    for (const answer of [onnx, gguf, near]) {
      assert.equal(answer.status, 400, answer.body.slice(0, 300));
      const error = errorOf(answer.body);
      assert.deepEqual(
        [error.type, error.code, error.param],
        ['invalid_request_error', 'context_length_exceeded', 'messages'],
      );
      assert.match(error.message, /maximum context length is 1024 tokens/);
    }
    assert.match(errorOf(onnx.body).message, /bytes long/);
    assert.match(errorOf(near.body).message, /you requested \d+ tokens \(\d+ in the messages/);
    assert.equal(bombed.status, 400, bombed.body);
    assert.match(errorOf(bombed.body).message, /inflates to more than 67108864 bytes/);
    assert.equal(errorOf(bombed.body).param, 'training_file');
    // Inflated in full (2 × 30 MiB), then refused for what the entries hold (not PNGs, and too few).
    assert.equal(honestly.status, 400, honestly.body);
    assert.equal(errorOf(honestly.body).param, 'training_file');
    for (const answer of patterns) {
      assert.equal(answer.status, 400, answer.body);
      const error = errorOf(answer.body);
      assert.equal(error.param, 'response_format.json_schema.schema.properties.v');
      assert.match(error.message, /pattern at \/properties\/v: .*work budget/);
    }
    assert.equal(big.status, 400, big.body);
    assert.match(errorOf(big.body).message, /work budget its request shares/);
    for (const [answer, param] of [
      [toolsAnswer, 'tools'],
      [messagesAnswer, 'messages'],
    ] as const) {
      assert.equal(answer.status, 400, answer.body);
      assert.deepEqual([errorOf(answer.body).code, errorOf(answer.body).param], ['array_above_max_length', param]);
    }
    assert.equal(hugeToolAnswer.status, 400, hugeToolAnswer.body);
    assert.deepEqual(
      [errorOf(hugeToolAnswer.body).code, errorOf(hugeToolAnswer.body).param],
      ['invalid_value', 'tools'],
    );
    const p99 = percentile(latencies, 99);
    assert.ok(latencies.length >= 50, `only ${latencies.length} polls`);
    assert.ok(
      p99 < 100,
      `/health p99 ${p99.toFixed(0)} ms over ${latencies.length} polls (max ${Math.max(...latencies).toFixed(0)} ms)`,
    );
  });

  it('still generates on both models afterwards', async () => {
    for (const model of [GGUF, ONNX]) {
      const answer = await post('/v1/chat/completions', chat(model, {}));
      assert.equal(answer.status, 200, answer.body);
      const body = JSON.parse(answer.body) as { usage: { prompt_tokens: number }; choices: unknown[] };
      assert.equal(body.choices.length, 1);
      assert.ok(body.usage.prompt_tokens > 0);
    }
  });
});

/**
 * A zip whose entries each hold `mib` MiB of the byte `fill`, deflated from one reused 1 MiB chunk (no large buffer
 * is left for the garbage collector to meet while the clock runs).
 */
function repeatedZip(entries: [name: string, fill: number, mib: number][]): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((error, data) => {
    if (error) throw error;
    parts.push(data);
  });
  for (const [name, fill, mib] of entries) {
    const entry = new ZipDeflate(name, { level: 1 });
    zip.add(entry);
    const chunk = new Uint8Array(1 << 20).fill(fill);
    for (let i = 0; i < mib; i++) entry.push(chunk, i === mib - 1);
  }
  zip.end();
  return Buffer.concat(parts);
}

/** Rewrites the uncompressed size of a one-entry zip, in its local header and central directory, to `size`. */
function declareSize(zip: Uint8Array, size: number): void {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  view.setUint32(22, size, true);
  for (let at = 0; at + 4 <= zip.length; at++)
    if (view.getUint32(at, true) === 0x02014b50) view.setUint32(at + 24, size, true);
}
