import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sampler, type SamplingOptions } from '../../src/engines/index.js';

const options = (over: Partial<SamplingOptions> = {}): SamplingOptions => ({
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: 1,
  frequencyPenalty: 0,
  presencePenalty: 0,
  logitBias: new Map(),
  ...over,
});
const logits = () => Float32Array.from([0, Math.log(3), -1, -2]);

function frequencies(over: Partial<SamplingOptions>, draws = 4000): number[] {
  const sampler = new Sampler(options(over));
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < draws; i++) counts[sampler.sample(logits(), null, 0).token]! += 1;
  return counts.map((c) => c / draws);
}

describe('Sampler', () => {
  it('draws in proportion to softmax, reproducibly per seed', () => {
    const f = frequencies({});
    const z = 1 + 3 + Math.exp(-1) + Math.exp(-2);
    [1 / z, 3 / z, Math.exp(-1) / z, Math.exp(-2) / z].forEach((p, i) =>
      assert.ok(Math.abs((f[i] as number) - p) < 0.03, `token ${i}: ${f[i]} vs ${p}`),
    );
    assert.deepEqual(frequencies({ seed: 5 }, 50), frequencies({ seed: 5 }, 50));
  });

  it('applies top-k, top-p, min-p, greedy, the mask and logit bias', () => {
    assert.deepEqual(frequencies({ topK: 1 }, 100), [0, 1, 0, 0]);
    assert.deepEqual(frequencies({ topP: 0.5 }, 100), [0, 1, 0, 0]);
    const minP = frequencies({ minP: 0.3 }, 400);
    assert.ok(minP[2] === 0 && minP[3] === 0 && (minP[0] as number) > 0);
    assert.equal(new Sampler(options({ temperature: 0 })).sample(logits(), null, 0).token, 1);
    assert.equal(
      new Sampler(options({ temperature: 0, logitBias: new Map([[1, -100]]) })).sample(logits(), null, 0).token,
      0,
    );
    const mask = Uint32Array.of(0b1000);
    assert.equal(new Sampler(options()).sample(logits(), mask, 0).token, 3);
  });

  it('reports natural-log probabilities and sorted alternatives', () => {
    const r = new Sampler(options({ temperature: 0 })).sample(logits(), null, 2);
    const z = Math.log(1 + 3 + Math.exp(-1) + Math.exp(-2));
    assert.ok(Math.abs(r.logprob - (Math.log(3) - z)) < 1e-5);
    assert.deepEqual(
      r.top.map((t) => t.token),
      [1, 0],
    );
  });

  it('skips log-probabilities when none are asked for (negative count), drawing the same tokens', () => {
    const without = new Sampler(options({ seed: 9 }));
    const withLogprobs = new Sampler(options({ seed: 9 }));
    for (let i = 0; i < 20; i++) {
      const r = without.sample(logits(), null, -1);
      assert.equal(r.token, withLogprobs.sample(logits(), null, 0).token);
      assert.ok(Number.isNaN(r.logprob) && r.top.length === 0);
    }
  });

  it('penalises tokens already generated', () => {
    const sampler = new Sampler(options({ temperature: 0, presencePenalty: 2 }));
    sampler.accepted(1);
    assert.equal(sampler.sample(logits(), null, 0).token, 0);
  });
});
