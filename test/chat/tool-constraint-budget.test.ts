/**
 * The tool-call decoder under a token budget: random walks in each syntax family, with budgets from the shortest
 * call up, must end within the budget with every call's arguments complete and valid (close and finish markers
 * included), and never begin a call that cannot be finished.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { OutputParser } from '../../src/chat/output-parser.js';
import { ToolCallConstraint, callMarkers } from '../../src/chat/tool-constraint.js';
import { detectToolSyntax } from '../../src/chat/tool-syntax.js';
import { seededRandom } from '../../src/engines/index.js';
import { Matcher, Vocabulary, compileJsonSchema } from '../../src/structure/index.js';

const SPECIALS = ['<|python_tag|>', '[TOOL_CALLS]'];
const EOS = 130;
// ids 0..127: ASCII bytes; 128, 129: special markers; 130: EOS; 131: '<tool_call>'; 132, 133: longer text tokens.
const texts = [
  ...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)),
  ...SPECIALS,
  '',
  '<tool_call>',
  'hello world',
  '","',
];
const vocab = Vocabulary.fromTokenBytes(
  texts.map((t, id) => (id === 128 || id === 129 || id === EOS ? null : new TextEncoder().encode(t))),
  { eosTokenIds: [EOS] },
);

function tokenize(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    const marker = [128, 129, 131].find((id) => text.startsWith(texts[id] as string, i));
    if (marker !== undefined) {
      out.push(marker);
      i += (texts[marker] as string).length;
    } else out.push(text.charCodeAt(i++));
  }
  return out;
}

// An unbounded string and array: only the budget makes a walk stop.
const params = {
  type: 'object',
  properties: { q: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['q', 'tags'],
  additionalProperties: false,
};
const validate = new Ajv.default().compile(params);

/** One walk under `budget`; returns the calls the output parser saw and the tokens used. */
function walk(
  template: string,
  seed: number,
  budget: number,
  free: boolean,
): { calls: { name: string; arguments: string }[]; used: number; shaped: boolean } {
  const syntax = detectToolSyntax(template);
  const call = {
    type: 'object',
    properties: { name: { const: 'find' }, [syntax.argumentsKey]: params },
    required: ['name', syntax.argumentsKey],
    additionalProperties: false,
  };
  const constraint = new ToolCallConstraint(
    compileJsonSchema(call),
    vocab,
    callMarkers(syntax, tokenize, true),
    free,
    null,
    budget,
  );
  const parser = new OutputParser({ syntax, tools: true, thinking: false });
  const random = seededRandom(seed);
  const calls: { name: string; arguments: string }[] = [];
  const words = vocab.allocateMask();
  let used = 0;
  while (used < budget) {
    words.fill(0);
    const constrained = constraint.fillMask(words);
    const allowed = [...Array(vocab.size).keys()].filter(
      (id) => !constrained || ((words[id >>> 5] ?? 0) >>> (id & 31)) & 1,
    );
    assert.ok(allowed.length > 0, 'mask allows nothing');
    const token =
      allowed.includes(EOS) && random() < 0.3 ? EOS : (allowed[Math.floor(random() * allowed.length)] as number);
    constraint.accept(token);
    if (token === EOS) break;
    const forced = seed % 2 === 1 ? constraint.forced() : [];
    used += 1 + forced.length;
    for (const e of parser.push([token, ...forced].map((t) => texts[t] as string).join(''))) {
      if (e.type === 'tool_call') calls[e.index] = { name: e.name, arguments: '' };
      else if (e.type === 'tool_arguments') (calls[e.index] as { arguments: string }).arguments += e.text;
    }
  }
  for (const e of parser.end())
    if (e.type === 'tool_arguments') (calls[e.index] as { arguments: string }).arguments += e.text;
  return { calls, used, shaped: constraint.budgetShaped() };
}

describe('tool calls under a token budget', () => {
  const gemma = '<start_of_turn>user\n{{ tools }}<end_of_turn>\n<start_of_turn>model\n```tool_call\n';
  for (const [family, template] of [
    ['hermes', '<tool_call>'],
    ['mistral', '[TOOL_CALLS]'],
    ['llama3', '<|python_tag|>'],
    ['gemma', gemma],
  ] as const) {
    it(`${family}: every call ends complete and valid within budgets from the shortest call up`, () => {
      const syntax = detectToolSyntax(template);
      const markers = callMarkers(syntax, tokenize, true);
      const call = {
        type: 'object',
        properties: { name: { const: 'find' }, [syntax.argumentsKey]: params },
        required: ['name', syntax.argumentsKey],
        additionalProperties: false,
      };
      const shortest =
        markers.open.length +
        new Matcher(compileJsonSchema(call), vocab).shortestCompletion() +
        markers.close.length +
        markers.finish.length;
      let shaped = 0;
      for (let seed = 1; seed <= 12; seed++) {
        const budget = shortest + [0, 1, 5, 20, 60, 150][seed % 6]!;
        const { calls, used, shaped: s } = walk(template, seed, budget, false);
        assert.ok(used <= budget, `${used} tokens over a budget of ${budget}`);
        assert.ok(calls.length >= 1, `seed ${seed}: no call`);
        for (const c of calls)
          assert.ok(validate(JSON.parse(c.arguments)), `seed ${seed}, budget ${budget}: ${c.arguments}`);
        if (s) shaped++;
      }
      assert.ok(shaped > 0, 'the budget never shaped a call');
    });
  }

  it('under tool_choice auto, a call is not begun where no whole call fits', () => {
    const syntax = detectToolSyntax('<tool_call>');
    const call = {
      type: 'object',
      properties: { name: { const: 'find' }, [syntax.argumentsKey]: params },
      required: ['name', syntax.argumentsKey],
      additionalProperties: false,
    };
    const constraint = new ToolCallConstraint(
      compileJsonSchema(call),
      vocab,
      callMarkers(syntax, tokenize, false),
      true,
      null,
      5,
    );
    const words = vocab.allocateMask();
    assert.equal(constraint.fillMask(words), true);
    assert.equal(((words[131 >>> 5] ?? 0) >>> (131 & 31)) & 1, 0, 'the call marker is withheld');
    assert.equal(((words[65 >>> 5] ?? 0) >>> (65 & 31)) & 1, 1, 'free text is not');
  });
});
