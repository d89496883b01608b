import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { InvalidRequestError } from '../../src/protocol/index.js';
import { openSse, type RoutePlugin } from '../../src/server/index.js';
import { errorOf, multipart, raw, startHostile } from './harness.js';

// A stream that fails after its first chunk, the way a generation or a worker can once the status line is sent.
const failingStream =
  (error: () => Error): RoutePlugin =>
  (app, deps) => {
    app.post('/v1/chat/completions', async (_request, reply) => {
      const sse = openSse(reply, deps.scrubber);
      await sse.send({
        id: 'c1',
        object: 'chat.completion.chunk',
        created: 0,
        model: 'm',
        choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }],
      });
      await sse.fail(error());
    });
  };

async function upload(url: string, filename: string, bytes: Buffer): Promise<{ id: string }> {
  const form = multipart([
    { field: 'purpose', value: 'fine-tune' },
    { file: filename, bytes },
  ]);
  const response = await fetch(`${url}/v1/files`, {
    method: 'POST',
    headers: { 'content-type': form.type },
    body: form.body,
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { id: string };
}

test('file names outside Latin-1 or with control characters download with RFC 6266 headers, not a hung 500', async (t) => {
  const { url } = await startHostile(t);
  const bytes = Buffer.from('\x89PNG not really');
  for (const [name, header] of [
    ['日本.png', `attachment; filename="??.png"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png`],
    ['tab\there\x01.png', 'attachment; filename=tab_here_.png'],
    ['50% off; b.png', 'attachment; filename="50% off; b.png"'],
  ] as const) {
    const { id } = await upload(url, name, bytes);
    const response = await fetch(`${url}/v1/files/${id}/content`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(response.status, 200, name);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
    assert.equal(response.headers.get('content-disposition'), header);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  }
  assert.equal(((await (await fetch(`${url}/health`)).json()) as { status: string }).status, 'ok');
});

test('headers over the limit get a 431 in OpenAI shape and the connection closes', async (t) => {
  const { port } = await startHostile(t);
  const socket = connect(port, '127.0.0.1');
  socket.write(`GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  const answer = await new Promise<string>((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error('the connection stayed open')));
  });
  assert.match(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  assert.match(answer, /\r\nConnection: close\r\n/);
  const error = errorOf(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  assert.deepEqual([error.type, error.code], ['invalid_request_error', 'request_header_fields_too_large']);
});

test('a malformed request line gets a 400 in OpenAI shape', async (t) => {
  const { port } = await startHostile(t);
  const socket = connect(port, '127.0.0.1');
  socket.write('NOT HTTP AT ALL\r\n\r\n');
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
  });
  assert.match(answer, /^HTTP\/1\.1 400 /);
  assert.equal(errorOf(answer.slice(answer.indexOf('\r\n\r\n') + 4)).code, 'bad_request');
});

test('unknown routes are 404 and known routes with another method 405, both in OpenAI shape', async (t) => {
  const { port } = await startHostile(t);
  const missing = await raw(port, 'GET', '/v1/nothing/here?x=1');
  assert.equal(missing.status, 404);
  assert.equal(errorOf(missing.body).message, 'Invalid URL (GET /v1/nothing/here)');
  const wrong = await raw(port, 'PUT', '/v1/files');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'GET, HEAD, POST');
  assert.deepEqual(errorOf(wrong.body).code, 'method_not_allowed');
  const withParam = await raw(port, 'PATCH', '/v1/files/file-abc/content');
  assert.equal(withParam.status, 405);
  assert.equal(withParam.headers.allow, 'GET, HEAD');
});

test('an oversized upload is a 413 in OpenAI shape', async (t) => {
  const { url } = await startHostile(t);
  const form = multipart([
    { field: 'purpose', value: 'fine-tune' },
    { file: 'big.bin', bytes: Buffer.alloc(100 * 1024) },
  ]);
  const response = await fetch(`${url}/v1/files`, {
    method: 'POST',
    headers: { 'content-type': form.type },
    body: form.body,
  });
  assert.equal(response.status, 413);
  assert.equal(errorOf(await response.text()).code, 'payload_too_large');
});

test('an error raised mid-stream is an OpenAI error event, then the stream ends', async (t) => {
  const { url, home } = await startHostile(t, {}, [
    failingStream(() => new InvalidRequestError(`cannot read ${home}/tmp/x/p0.png`, { param: 'messages' })),
  ]);
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const events = text.split('\n\n').filter(Boolean);
  assert.equal(events.length, 2, text);
  assert.ok(events[1]!.startsWith('event: error\ndata: '), text);
  assert.deepEqual(errorOf(events[1]!.slice('event: error\ndata: '.length)), {
    message: 'cannot read p0.png',
    type: 'invalid_request_error',
    param: 'messages',
    code: null,
  });
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  const seen: string[] = [];
  const failure = await (async () => {
    for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
  })().catch((e: unknown) => e);
  assert.deepEqual(seen, ['a']);
  assert.ok(failure instanceof OpenAI.APIError);
  assert.equal(failure.message, 'cannot read p0.png');
});

test('a crash mid-stream is a generic server_error event: the cause stays in the log', async (t) => {
  const { url } = await startHostile(t, {}, [failingStream(() => new Error('secret at /usr/lib/x.so'))]);
  const text = await (
    await fetch(`${url}/v1/chat/completions`, { method: 'POST', signal: AbortSignal.timeout(10_000) })
  ).text();
  const last = text.split('\n\n').filter(Boolean).at(-1)!;
  assert.deepEqual(errorOf(last.slice('event: error\ndata: '.length)), {
    message: 'The server had an error while processing your request.',
    type: 'server_error',
    param: null,
    code: null,
  });
});

test("job errors and events name the user's file, never a server folder", async (t) => {
  const { url, home, store } = await startHostile(t);
  const job = store.jobs.create({
    id: 'ftjob-hostile',
    kind: 'fine_tuning',
    model: 'sd',
    hyperparameters: {},
    params: {},
  });
  const photo = `${home}/tmp/ftjob-hostile/subject/p0.png`;
  store.jobs.update(job.id, {
    status: 'failed',
    finishedAt: 1,
    error: {
      code: 'invalid_images',
      message: `subject photos rejected\n${photo}: not an image (PIL: cannot identify '${photo}')`,
      param: 'training_file',
    },
  });
  store.events.append({
    jobId: job.id,
    level: 'error',
    message: `Traceback: File "/usr/lib/python3/dist-packages/PIL/Image.py", line 3, reading ${photo}`,
    data: { path: photo },
  });
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const fetched = await client.fineTuning.jobs.retrieve(job.id);
  assert.equal(fetched.error?.message, "subject photos rejected\np0.png: not an image (PIL: cannot identify 'p0.png')");
  const events = await client.fineTuning.jobs.listEvents(job.id);
  assert.equal(events.data[0]?.message, 'Traceback: File "Image.py", line 3, reading p0.png');
  assert.deepEqual(events.data[0]?.data, { path: 'p0.png' });
  const everything = JSON.stringify([fetched, events.data]);
  assert.ok(!everything.includes(home) && !everything.includes('/usr/lib'), everything);
});
