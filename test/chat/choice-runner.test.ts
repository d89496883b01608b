/** The sampling loop's edge cases on the demo GGUF: stop sequences across tokens, and a decoder that runs dry. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OutputParser, detectToolSyntax, type ChoiceEvent, type Constraint } from '../../src/chat/index.js';
import { runChoice } from '../../src/chat/choice-runner.js';
import { GgufEngine, type EngineModel } from '../../src/engines/index.js';
import { demoModels } from '../../src/models/demo/index.js';

const sampling = {
  temperature: 1,
  topP: 1,
  topK: 0,
  minP: 0,
  seed: 3,
  frequencyPenalty: 0,
  presencePenalty: 0,
  logitBias: new Map<number, number>(),
};

describe('runChoice', () => {
  let dir: string;
  let engine: GgufEngine;
  let model: EngineModel;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'atelier-choice-'));
    engine = await GgufEngine.create({ threads: 1 });
    const path = await demoModels.find((m) => m.name === 'atelier-demo-gguf')!.generate(dir, { seed: 1 });
    model = await engine.load(path, { contextSize: 512, parallel: 1 });
  });
  after(async () => {
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(constraint: Constraint | null, stop: string[] = [], maxTokens = 30): Promise<ChoiceEvent[]> {
    const events: ChoiceEvent[] = [];
    for await (const e of runChoice({
      model,
      vocabulary: model.vocabulary(),
      prompt: { text: '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n', images: [] },
      sampling,
      maxTokens,
      constraint,
      stop,
      topLogprobs: -1,
      parser: new OutputParser({ syntax: detectToolSyntax(null), tools: false, thinking: false }),
    }))
      events.push(e);
    return events;
  }

  it('ends a choice as "length" when the decoder has no token left to allow', async () => {
    const letter = model.tokenize('a', false)[0] as number;
    let steps = 0;
    const constraint: Constraint = {
      fillMask: (words) => {
        if (steps < 3) words[letter >>> 5] = 1 << (letter & 31);
        return true;
      },
      accept: () => void steps++,
    };
    const events = await run(constraint);
    assert.deepEqual(
      events
        .filter((e) => e.type === 'content')
        .map((e) => (e as { text: string }).text)
        .join(''),
      'aaa',
    );
    assert.deepEqual(events.at(-1), { type: 'finish', reason: 'length', completionTokens: 4 });
  });

  it('cuts at a stop sequence even when it spans tokens', async () => {
    const free = (await run(null, [], 30))
      .filter((e) => e.type === 'content')
      .map((e) => (e as { text: string }).text)
      .join('');
    const stop = free.slice(3, 7);
    const events = await run(null, [stop], 30);
    const text = events
      .filter((e) => e.type === 'content')
      .map((e) => (e as { text: string }).text)
      .join('');
    assert.equal(text, free.slice(0, free.indexOf(stop)));
    assert.equal((events.at(-1) as { reason: string }).reason, 'stop');
  });
});
