/**
 * The contract every Engine adapter must meet, run against each one (`runEngineContract(makeEngine)`): vocabulary,
 * reproducible sampling, the per-step mask (EOS included), logit bias, log-probabilities, budgets, cancellation,
 * prefix reuse, concurrency and dispose.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EngineModel, GeneratedToken, GenerateRequest, SamplingOptions } from '../../src/engines/index.js';

/** What a contract run needs: a loaded model, a prompt in its own template, and a cleanup. */
export interface ContractSubject {
  model: EngineModel;
  prompt: string;
  dispose(): Promise<void>;
}

const sampling = (over: Partial<SamplingOptions> = {}): SamplingOptions => ({
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: 7,
  frequencyPenalty: 0,
  presencePenalty: 0,
  logitBias: new Map(),
  ...over,
});

async function collect(
  model: EngineModel,
  request: Partial<GenerateRequest> & { prompt: GenerateRequest['prompt'] },
): Promise<GeneratedToken[]> {
  const out: GeneratedToken[] = [];
  for await (const t of model.generate({ sampling: sampling(), maxTokens: 12, ...request })) out.push(t);
  return out;
}

function allowOnly(ids: number[]): (words: Uint32Array) => boolean {
  return (words) => {
    for (const id of ids) words[id >>> 5] = (words[id >>> 5] ?? 0) | (1 << (id & 31));
    return true;
  };
}

/** Registers the contract suite for one adapter. */
export function runEngineContract(name: string, makeSubject: () => Promise<ContractSubject>): void {
  describe(`engine contract: ${name}`, () => {
    let subject: ContractSubject;
    let model: EngineModel;
    let prompt: { text: string; images: [] };
    before(async () => {
      subject = await makeSubject();
      model = subject.model;
      prompt = { text: subject.prompt, images: [] };
    });
    after(() => subject.dispose());

    it('gives each generation the requested context (512 tokens in these subjects), not a multiple of it', () => {
      assert.ok(
        model.info.contextSize >= 512 && model.info.contextSize < 1024,
        `contextSize ${model.info.contextSize}`,
      );
      assert.ok(model.info.trainContextSize >= model.info.contextSize);
    });

    it('exports a byte vocabulary whose EOG tokens are special', () => {
      const v = model.vocabulary();
      assert.equal(v.bytes.length, model.info.vocabSize);
      assert.ok(v.eog.length > 0);
      for (const id of v.eog) assert.equal(v.special[id], true);
      const text = 'hello world {"a": 1}';
      const bytes = Buffer.concat(model.tokenize(text, false).map((id) => v.bytes[id] as Uint8Array));
      assert.equal(bytes.toString('utf8'), text);
    });

    it('reproduces a sample for the same seed and differs across seeds', async () => {
      const a = (await collect(model, { prompt })).map((t) => t.token);
      const b = (await collect(model, { prompt })).map((t) => t.token);
      const c = (await collect(model, { prompt, sampling: sampling({ seed: 8 }) })).map((t) => t.token);
      assert.deepEqual(a, b);
      assert.notDeepEqual(a, c);
    });

    it('keeps every sampled token inside the mask', async () => {
      const allowed = [5, 40, 41, 300];
      const out = await collect(model, { prompt, mask: allowOnly(allowed), maxTokens: 20 });
      assert.equal(out.length, 20);
      for (const t of out) assert.ok(allowed.includes(t.token), `token ${t.token} outside the mask`);
    });

    it('masks end-of-generation tokens too, and ends when only they are allowed', async () => {
      const { eog } = model.vocabulary();
      const banned = await collect(model, {
        prompt,
        maxTokens: 30,
        sampling: sampling({ logitBias: new Map(eog.map((id) => [id, 100])) }),
        mask: allowOnly([5, 6]),
      });
      assert.equal(banned.length, 30);
      assert.ok(banned.every((t) => !t.eog));
      const ended = await collect(model, { prompt, mask: allowOnly(eog) });
      assert.equal(ended.length, 1);
      assert.equal(ended[0]?.eog, true);
    });

    it('feeds forced tokens without sampling (jump-forward) and keeps counting them', async () => {
      let calls = 0;
      const out = await collect(model, {
        prompt,
        maxTokens: 6,
        mask: allowOnly([5]),
        forced: () => (calls++ === 0 ? [40, 41] : []),
      });
      assert.deepEqual(
        out.map((t) => [t.token, t.forced ?? false]),
        [
          [5, false],
          [40, true],
          [41, true],
          [5, false],
          [5, false],
          [5, false],
        ],
      );
      const greedy = async (forced: number[]) =>
        (
          await collect(model, {
            prompt,
            maxTokens: 4,
            sampling: sampling({ temperature: 0 }),
            forced: (() => {
              let once = true;
              return () => (once ? ((once = false), forced) : []);
            })(),
          })
        ).map((t) => t.token);
      // Feeding the forced tokens in one batch gives the same next token as feeding them one by one would.
      const batched = await greedy([40, 41]);
      const first = batched[0] as number;
      const stepwise = await collect(model, {
        prompt: { text: subject.prompt, images: [] },
        maxTokens: 4,
        sampling: sampling({ temperature: 0 }),
        mask: (() => {
          const plan = [first, 40, 41];
          let i = 0;
          return (words: Uint32Array) => (i < plan.length ? allowOnly([plan[i++] as number])(words) : false);
        })(),
      });
      assert.deepEqual(
        batched,
        stepwise.map((t) => t.token),
      );
    });

    it('applies logit bias and greedy decoding', async () => {
      const greedy = await collect(model, { prompt, sampling: sampling({ temperature: 0 }), maxTokens: 1 });
      const first = greedy[0]?.token as number;
      const again = await collect(model, { prompt, sampling: sampling({ temperature: 0, seed: 99 }), maxTokens: 1 });
      assert.equal(again[0]?.token, first);
      const banned = await collect(model, {
        prompt,
        sampling: sampling({ temperature: 0, logitBias: new Map([[first, -100]]) }),
        maxTokens: 1,
      });
      assert.notEqual(banned[0]?.token, first);
    });

    it('returns log-probabilities with sorted alternatives', async () => {
      const out = await collect(model, { prompt, topLogprobs: 3, maxTokens: 4 });
      for (const t of out) {
        assert.ok(t.logprob !== undefined && t.logprob <= 0);
        assert.equal(t.top?.length, 3);
        const lps = (t.top ?? []).map((a) => a.logprob);
        assert.deepEqual(
          lps,
          [...lps].sort((x, y) => y - x),
        );
      }
    });

    it('stops at the budget and on abort', async () => {
      assert.equal((await collect(model, { prompt, maxTokens: 3, mask: allowOnly([5]) })).length, 3);
      const abort = new AbortController();
      const out: GeneratedToken[] = [];
      for await (const t of model.generate({
        prompt,
        sampling: sampling(),
        maxTokens: 50,
        mask: allowOnly([5]),
        signal: abort.signal,
      })) {
        out.push(t);
        if (out.length === 2) abort.abort();
      }
      assert.equal(out.length, 2);
    });

    it('reuses the KV prefix of an earlier request where the engine has a prefix cache', async () => {
      await collect(model, { prompt, maxTokens: 2 });
      const gen = model.generate({ prompt, sampling: sampling(), maxTokens: 2 });
      for await (const _ of gen) void _;
      const expected = model.info.prefixCache ? (await gen.promptTokens) - 1 : 0;
      assert.equal(await gen.cachedTokens, expected);
    });

    it('serves concurrent generations with the same results as sequential ones', async () => {
      const solo = (await collect(model, { prompt, sampling: sampling({ seed: 3 }) })).map((t) => t.token);
      const [x, y] = await Promise.all([
        collect(model, { prompt, sampling: sampling({ seed: 3 }) }),
        collect(model, { prompt: { text: `${subject.prompt} again`, images: [] }, sampling: sampling({ seed: 4 }) }),
      ]);
      assert.deepEqual(
        x.map((t) => t.token),
        solo,
      );
      assert.ok(y.length > 0);
    });
  });
}
