/**
 * Hostile schemas through the real HTTP server and the official openai client: resource limits and invalid keyword
 * values are 400s naming the schema location (OpenAI's error shape), never 500s or a silently ignored keyword; a
 * hostile property name is enforced like any other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { MODEL, startChatHarness, type ChatHarness } from './chat-harness.js';

const user = [{ role: 'user' as const, content: 'x' }];

describe('schema limits over HTTP (GGUF)', () => {
  let h: ChatHarness;
  before(async () => {
    h = await startChatHarness({ parallel: 1, contextSize: 512 });
  });
  after(() => h.close());

  async function rejected(schema: unknown): Promise<InstanceType<typeof OpenAI.BadRequestError>> {
    const err = await h.client.chat.completions
      .create({
        model: MODEL,
        messages: user,
        max_completion_tokens: 4,
        response_format: { type: 'json_schema', json_schema: { name: 's', schema: schema as Record<string, unknown> } },
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, `expected a 400, got ${String(err)}`);
    assert.match(String(err.param), /^response_format\.json_schema\.schema/);
    return err;
  }

  it("a schema nested 10,000 deep is a 400 in OpenAI's error shape", async () => {
    // Built as text: JSON.stringify (in the client too) would overflow the stack on it.
    const schema = '{"type":"object","properties":{"a":'.repeat(10_000) + '{"type":"string"}' + '}}'.repeat(10_000);
    const body = `{"model":${JSON.stringify(MODEL)},"messages":[{"role":"user","content":"x"}],"max_completion_tokens":4,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${schema}}}}`;
    const res = await fetch(`${h.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    assert.equal(res.status, 400, text.slice(0, 300));
    const { error } = JSON.parse(text) as { error: { message: string; type: string; param: string | null } };
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /deeper than/);
    assert.match(String(error.param), /^response_format\.json_schema\.schema/);
  });

  it('an enum of 100k strings and a const of 200,001 characters are 400s naming the keyword', async () => {
    const e = await rejected({
      type: 'object',
      properties: { x: { enum: Array.from({ length: 100_000 }, (_, i) => `s${i}`) } },
    });
    assert.equal(e.param, 'response_format.json_schema.schema.properties.x');
    assert.match(e.message, /enum/);
    const c = await rejected({ const: 'x'.repeat(200_001) });
    assert.match(c.message, /const/);
  });

  it('invalid keyword values are 400s naming the keyword', async () => {
    for (const [schema, keyword] of [
      [{ type: 'string', minLength: -1 }, 'minLength'],
      [{ type: 'string', minLength: 1.5 }, 'minLength'],
      [{ type: 'object', required: 'a' }, 'required'],
      [{ type: 'strng' }, 'type'],
    ] as const) {
      const err = await rejected(schema);
      assert.match(err.message, new RegExp(`${keyword} at #`));
    }
  });

  it('required ["valueOf"] is enforced: every answer carries the member', async () => {
    const schema = {
      type: 'object',
      properties: { valueOf: { type: 'integer', minimum: 0, maximum: 9 } },
      required: ['valueOf'],
      additionalProperties: false,
    };
    for (let seed = 0; seed < 4; seed++) {
      const r = await h.client.chat.completions.create({
        model: MODEL,
        messages: user,
        seed,
        max_completion_tokens: 30,
        response_format: { type: 'json_schema', json_schema: { name: 'v', schema, strict: true } },
      });
      const value = JSON.parse(r.choices[0]?.message.content ?? '') as Record<string, unknown>;
      assert.ok(Object.hasOwn(value, 'valueOf'), r.choices[0]?.message.content ?? '');
      assert.equal(typeof value.valueOf, 'number');
    }
  });
});
