/**
 * /v1/chat/completions through the official openai client: response shapes, streaming, usage, limits, errors and
 * back-pressure, on the generated demo GGUF.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { MODEL, startChatHarness, type ChatHarness } from './chat-harness.js';

const user = (content: string) => [{ role: 'user' as const, content }];
/** logit_bias that bans end-of-generation, so a random-weight model keeps talking. */
const endless = (h: ChatHarness) => Object.fromEntries(h.model.vocabulary.eog.map((id) => [String(id), -100]));

describe('chat completions API (GGUF)', () => {
  let h: ChatHarness;
  before(async () => {
    h = await startChatHarness({ parallel: 2, queue: 1 });
  });
  after(() => h.close());

  it('answers with an OpenAI-shaped completion and honours max_completion_tokens', async () => {
    const r = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('Hello'),
      max_completion_tokens: 6,
      seed: 1,
    });
    assert.equal(r.object, 'chat.completion');
    assert.match(r.id, /^chatcmpl-/);
    assert.equal(r.choices.length, 1);
    const c = r.choices[0]!;
    assert.equal(c.message.role, 'assistant');
    assert.equal(typeof c.message.content, 'string');
    assert.ok(r.usage && r.usage.completion_tokens <= 6 && r.usage.prompt_tokens > 0);
    if (c.finish_reason === 'length') assert.equal(r.usage.completion_tokens, 6);
    const legacy = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('Hello'),
      max_tokens: 3,
      seed: 1,
    });
    assert.ok((legacy.usage?.completion_tokens ?? 99) <= 3);
  });

  it('returns n choices, reproducible per seed', async () => {
    const req = { model: MODEL, messages: user('Count'), max_completion_tokens: 8, seed: 42, n: 3 };
    const a = await h.client.chat.completions.create(req);
    const b = await h.client.chat.completions.create(req);
    assert.deepEqual(
      a.choices.map((c) => c.index),
      [0, 1, 2],
    );
    assert.deepEqual(
      a.choices.map((c) => c.message.content),
      b.choices.map((c) => c.message.content),
    );
    assert.equal(a.usage?.completion_tokens, a.choices.length === 3 ? b.usage?.completion_tokens : -1);
  });

  it('streams the same answer as the non-streamed call, in OpenAI chunk order, with usage', async () => {
    const req = { model: MODEL, messages: user('Tell me'), max_completion_tokens: 16, seed: 5 };
    const whole = await h.client.chat.completions.create(req);
    const stream = await h.client.chat.completions.create({
      ...req,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(text, whole.choices[0]?.message.content);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    assert.equal(finish?.choices[0]?.finish_reason, whole.choices[0]?.finish_reason);
    const last = chunks[chunks.length - 1]!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage?.completion_tokens, whole.usage?.completion_tokens);
    assert.ok(new Set(chunks.map((c) => c.id)).size === 1);
  });

  it('streams n choices interleaved, each opened by its role delta and closed by its finish_reason', async () => {
    const req = { model: MODEL, messages: user('Two answers'), max_completion_tokens: 10, seed: 8, n: 2 };
    const whole = await h.client.chat.completions.create(req);
    const text = ['', ''];
    const firsts: (string | undefined)[] = [];
    const finishes: (string | null)[] = [null, null];
    for await (const chunk of await h.client.chat.completions.create({ ...req, stream: true })) {
      for (const c of chunk.choices) {
        if (firsts[c.index] === undefined) firsts[c.index] = c.delta.role ?? 'missing';
        text[c.index] += c.delta.content ?? '';
        if (c.finish_reason) finishes[c.index] = c.finish_reason;
      }
    }
    assert.deepEqual(firsts, ['assistant', 'assistant']);
    assert.deepEqual(
      text,
      whole.choices.map((c) => c.message.content),
    );
    assert.deepEqual(
      finishes,
      whole.choices.map((c) => c.finish_reason),
    );
  });

  it('reports cached prompt tokens on a repeated prefix', async () => {
    const messages = [{ role: 'system' as const, content: 'You are a careful assistant. '.repeat(8) }, ...user('Hi')];
    await h.client.chat.completions.create({ model: MODEL, messages, max_completion_tokens: 2, seed: 1 });
    const again = await h.client.chat.completions.create({ model: MODEL, messages, max_completion_tokens: 2, seed: 1 });
    const cached = again.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    assert.ok(cached > 40, `cached_tokens ${cached}`);
  });

  it('cuts at stop sequences and returns log-probabilities', async () => {
    const base = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('Go'),
      max_completion_tokens: 20,
      seed: 9,
    });
    const content = base.choices[0]?.message.content ?? '';
    const stopAt = content.slice(4, 6);
    if (stopAt.length === 2) {
      const cut = await h.client.chat.completions.create({
        model: MODEL,
        messages: user('Go'),
        max_completion_tokens: 20,
        seed: 9,
        stop: [stopAt],
      });
      assert.equal(cut.choices[0]?.message.content, content.slice(0, content.indexOf(stopAt)));
      assert.equal(cut.choices[0]?.finish_reason, 'stop');
    }
    const lp = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('Go'),
      max_completion_tokens: 4,
      seed: 9,
      logprobs: true,
      top_logprobs: 2,
    });
    const entries = lp.choices[0]?.logprobs?.content ?? [];
    assert.equal(entries.length, lp.usage?.completion_tokens);
    for (const e of entries) assert.ok(e.logprob <= 0 && e.top_logprobs.length === 2);
  });

  it('maps bad input to OpenAI-shaped 4xx errors and keeps serving', async () => {
    const raw = await fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": ',
    });
    assert.equal(raw.status, 400);
    const body = (await raw.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, 'invalid_request_error');

    await assert.rejects(
      h.client.chat.completions.create({ model: 'nope', messages: user('x') }),
      (e: unknown) => e instanceof OpenAI.NotFoundError && e.param === 'model',
    );
    await assert.rejects(
      h.client.chat.completions.create({ model: MODEL, messages: user('x'), temperature: 3 }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'temperature',
    );
    await assert.rejects(
      h.client.chat.completions.create({ model: MODEL, messages: user('x'), bogus: 1 } as never),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'bogus',
    );
    // A text-only model refuses an image part before looking at it (image formats are the vision tests' business).
    const image = (url: string) => [
      { role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url } }] },
    ];
    for (const url of [
      'data:text/plain;base64,aGVsbG8=',
      'data:image/png;base64,bm90IGEgcG5n',
      'http://127.0.0.1:9/x.png',
    ]) {
      await assert.rejects(
        h.client.chat.completions.create({ model: MODEL, messages: image(url) }),
        (e: unknown) =>
          e instanceof OpenAI.BadRequestError &&
          e.param === 'messages[0].content[0]' &&
          /does not accept image/.test(e.message),
      );
    }
    await assert.rejects(
      h.client.chat.completions.create({ model: MODEL, messages: user('word '.repeat(3000)) }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded',
    );
    await assert.rejects(
      h.client.chat.completions.create({ model: MODEL, messages: user('x'), max_completion_tokens: 100_000 }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.code === 'context_length_exceeded',
    );
    const ok = await h.client.chat.completions.create({
      model: MODEL,
      messages: user('still there?'),
      max_completion_tokens: 2,
    });
    assert.equal(ok.choices.length, 1);
  });

  it('stops generating when a streaming client disconnects', async () => {
    const abort = new AbortController();
    const stream = await h.client.chat.completions.create(
      { model: MODEL, messages: user('Ramble'), max_completion_tokens: 900, stream: true, logit_bias: endless(h) },
      { signal: abort.signal },
    );
    let seen = 0;
    // openai-node ends the iteration quietly when its signal aborts.
    for await (const _ of stream) if (++seen === 3) abort.abort();
    for (let i = 0; i < 200 && h.pool.inFlight(MODEL) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(h.pool.inFlight(MODEL), 0);
    assert.ok(seen < 900);
  });

  it('queues concurrent requests beyond the sequences, and refuses overload with 429 and Retry-After', async () => {
    const req = {
      model: MODEL,
      messages: user('Ramble on'),
      max_completion_tokens: 40,
      seed: 2,
      logit_bias: endless(h),
    };
    const results = await Promise.all([1, 2, 3].map(() => h.client.chat.completions.create(req)));
    for (const r of results) assert.equal(r.usage?.completion_tokens, 40);
    assert.equal(results[0]?.choices[0]?.message.content, results[2]?.choices[0]?.message.content);
    // Hold every admission slot (2 running + 1 queued) the way three in-flight requests would.
    const held = [1, 2, 3].map(() => h.pool.admit(h.record));
    const err = await h.client.chat.completions
      .create({ model: MODEL, messages: user('x'), max_completion_tokens: 1 })
      .catch((e: unknown) => e);
    held.forEach((release) => release());
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.headers?.get('retry-after'), '1');
    const ok = await h.client.chat.completions.create({ model: MODEL, messages: user('x'), max_completion_tokens: 1 });
    assert.equal(ok.choices.length, 1);
  });
});
