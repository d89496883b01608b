/**
 * Random walks through the tool-call decoder of each syntax family over a small synthetic vocabulary: whatever
 * allowed token is picked, the text must parse into valid calls (the property the chat layer relies on).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import { OutputParser } from '../../src/chat/output-parser.js';
import { ToolCallConstraint, callMarkers } from '../../src/chat/tool-constraint.js';
import { detectToolSyntax } from '../../src/chat/tool-syntax.js';
import { seededRandom } from '../../src/engines/index.js';
import { Vocabulary, compileJsonSchema } from '../../src/structure/index.js';

const SPECIALS = ['<|python_tag|>', '[TOOL_CALLS]'];
const EOS = 130;
// ids 0..127: ASCII bytes; 128, 129: special markers; 130: EOS; 131: '<tool_call>' as a text token.
const texts = [...Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)), ...SPECIALS, '', '<tool_call>'];
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
    } else {
      out.push(text.charCodeAt(i++));
    }
  }
  return out;
}

const params = {
  type: 'object',
  properties: { q: { type: 'string', maxLength: 4 }, n: { type: 'integer', minimum: 0, maximum: 9 } },
  required: ['q', 'n'],
  additionalProperties: false,
};
const validate = new Ajv.default().compile(params);

function walk(template: string, seed: number, parallel: boolean): { name: string; arguments: string }[] {
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
    callMarkers(syntax, tokenize, parallel),
    false,
  );
  const parser = new OutputParser({ syntax, tools: true, thinking: false });
  const random = seededRandom(seed);
  const calls: { name: string; arguments: string }[] = [];
  const words = vocab.allocateMask();
  for (let step = 0; step < 400; step++) {
    words.fill(0);
    assert.equal(constraint.fillMask(words), true);
    const allowed = [...Array(vocab.size).keys()].filter((id) => ((words[id >>> 5] ?? 0) >>> (id & 31)) & 1);
    assert.ok(allowed.length > 0, 'mask allows nothing');
    // Prefer ending when allowed half of the time, so walks finish.
    const token =
      allowed.includes(EOS) && random() < 0.5 ? EOS : (allowed[Math.floor(random() * allowed.length)] as number);
    constraint.accept(token);
    if (token === EOS) break;
    // Odd seeds also jump forward over whatever the decoder forces, as the engines do.
    const forced = seed % 2 === 1 ? constraint.forced() : [];
    for (const e of parser.push([token, ...forced].map((t) => texts[t] as string).join(''))) {
      if (e.type === 'tool_call') calls[e.index] = { name: e.name, arguments: '' };
      else if (e.type === 'tool_arguments') (calls[e.index] as { arguments: string }).arguments += e.text;
      else if (e.type === 'content') assert.equal(e.text.trim(), '', `content leaked: ${JSON.stringify(e.text)}`);
    }
  }
  return calls;
}

const weatherTools = [
  {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    },
  },
  { name: 'get_time', parameters: { type: 'object', properties: {}, additionalProperties: false } },
];

/** The decoder chat builds for `tools` (one `{name, arguments}` branch per tool) in the template's syntax. */
function toolDecoder(template: string, options: { free: boolean; parallel: boolean; only?: string }) {
  const syntax = detectToolSyntax(template);
  const chosen = weatherTools.filter((t) => options.only === undefined || t.name === options.only);
  const schemas = chosen.map((t) => ({
    type: 'object',
    properties: { name: { const: t.name }, [syntax.argumentsKey]: t.parameters },
    required: ['name', syntax.argumentsKey],
    additionalProperties: false,
  }));
  const grammar = compileJsonSchema(schemas.length === 1 ? schemas[0] : { anyOf: schemas });
  return new ToolCallConstraint(grammar, vocab, callMarkers(syntax, tokenize, options.parallel), options.free);
}

/** Whether the decoder lets `text` and then EOS through, token by token (each token must be in the mask). */
function accepts(constraint: ToolCallConstraint, text: string): boolean {
  const words = vocab.allocateMask();
  for (const token of [...tokenize(text), EOS]) {
    words.fill(0);
    if (constraint.fillMask(words) && !(((words[token >>> 5] ?? 0) >>> (token & 31)) & 1)) return false;
    try {
      constraint.accept(token);
    } catch {
      return false;
    }
  }
  return true;
}

describe('ToolCallConstraint', () => {
  it("auto: free text, then optionally parallel calls, each with its own tool's arguments", () => {
    const auto = () => toolDecoder('<tool_call>', { free: true, parallel: true });
    const weather = '<tool_call>\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n</tool_call>';
    const time = '<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call>';
    assert.equal(accepts(auto(), 'Just text, no call.'), true);
    assert.equal(accepts(auto(), `Let me check.${weather}`), true);
    assert.equal(accepts(auto(), `${time}\n${weather}`), true);
    assert.equal(accepts(auto(), '<tool_call>\n{"name":"get_time","arguments":{"city":"X"}}\n</tool_call>'), false);
    assert.equal(accepts(auto(), '<tool_call>\n{"name":"nope","arguments":{}}\n</tool_call>'), false);
    assert.equal(accepts(auto(), `${time} and text after`), false);
  });

  it('required and named allow no text; named allows exactly that call, once when not parallel', () => {
    const time = '<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call>';
    const weather = (city: string) =>
      `<tool_call>\n{"name":"get_weather","arguments":{"city":"${city}"}}\n</tool_call>`;
    assert.equal(accepts(toolDecoder('<tool_call>', { free: false, parallel: false }), 'text'), false);
    assert.equal(accepts(toolDecoder('<tool_call>', { free: false, parallel: false }), time), true);
    const named = () => toolDecoder('<tool_call>', { free: false, parallel: false, only: 'get_weather' });
    assert.equal(accepts(named(), time), false);
    assert.equal(accepts(named(), weather('A')), true);
    assert.equal(accepts(named(), `${weather('A')}\n${weather('B')}`), false);
    const forced = named();
    const text = (tokens: number[]) => tokens.map((t) => texts[t] as string).join('');
    assert.equal(
      text(forced.forced()) + text(forced.forced()),
      '<tool_call>\n{"name":"get_weather","arguments":{"city":"',
    );
  });

  it('array syntax (Mistral) puts parallel calls in one JSON array', () => {
    const two = '[TOOL_CALLS][{"name":"get_time","arguments":{}},{"name":"get_time","arguments":{}}]';
    assert.equal(accepts(toolDecoder('[TOOL_CALLS]', { free: true, parallel: true }), two), true);
    assert.equal(accepts(toolDecoder('[TOOL_CALLS]', { free: false, parallel: false }), two), false);
    const one = '[TOOL_CALLS][{"name":"get_time","arguments":{}}]';
    assert.equal(accepts(toolDecoder('[TOOL_CALLS]', { free: false, parallel: false }), one), true);
  });

  const gemma = '<start_of_turn>user\n{{ tools }}<end_of_turn>\n<start_of_turn>model\n```tool_call\n';
  for (const [family, template] of [
    ['hermes', '<tool_call>'],
    ['mistral', '[TOOL_CALLS]'],
    ['llama3', '<|python_tag|>'],
    ['gemma', gemma],
  ] as const) {
    it(`${family}: every random walk yields valid calls`, () => {
      let most = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const calls = walk(template, seed, true);
        assert.ok(calls.length >= 1, `seed ${seed}: no call`);
        for (const c of calls) {
          assert.equal(c.name, 'find');
          assert.ok(validate(JSON.parse(c.arguments)), `seed ${seed}: ${c.arguments}`);
        }
        most = Math.max(most, calls.length);
      }
      if (family !== 'llama3') assert.ok(most > 1, 'parallel calls never happened');
      else assert.equal(most, 1);
      for (let seed = 1; seed <= 10; seed++) assert.equal(walk(template, seed, false).length, 1);
    });
  }
});
