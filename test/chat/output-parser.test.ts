import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputParser, type OutputEvent } from '../../src/chat/output-parser.js';
import { detectToolSyntax } from '../../src/chat/tool-syntax.js';

/** Feeds `text` in `size`-character pieces and summarises the events. */
function parse(text: string, size: number, template = '<tool_call>', thinking = true) {
  const parser = new OutputParser({ syntax: detectToolSyntax(template), tools: true, thinking });
  const events: OutputEvent[] = [];
  for (let i = 0; i < text.length; i += size) events.push(...parser.push(text.slice(i, i + size)));
  events.push(...parser.end());
  const calls: { name: string; arguments: string }[] = [];
  let content = '';
  let reasoning = '';
  for (const e of events) {
    if (e.type === 'content') content += e.text;
    else if (e.type === 'reasoning') reasoning += e.text;
    else if (e.type === 'tool_call') calls[e.index] = { name: e.name, arguments: '' };
    else (calls[e.index] as { arguments: string }).arguments += e.text;
  }
  return { content, reasoning, calls };
}

describe('OutputParser', () => {
  const hermes =
    'Sure.<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris \\"}\\" x", "n": [1, {"a": 2}]}}\n</tool_call>\n' +
    '<tool_call>\n{"name": "noop", "arguments": {}}\n</tool_call>';
  for (const size of [1, 2, 3, 7, 1000]) {
    it(`splits Hermes calls from content in ${size}-char pieces`, () => {
      const r = parse(hermes, size);
      assert.equal(r.content, 'Sure.');
      assert.deepEqual(r.calls, [
        { name: 'get_weather', arguments: '{"city": "Paris \\"}\\" x", "n": [1, {"a": 2}]}' },
        { name: 'noop', arguments: '{}' },
      ]);
    });
  }

  it('keeps <think> out of content', () => {
    const r = parse('<think>hmm <tool_call> maybe</think>The answer <thi', 2);
    assert.equal(r.reasoning, 'hmm <tool_call> maybe');
    assert.equal(r.content, 'The answer <thi');
    assert.deepEqual(r.calls, []);
  });

  it('buffers arguments written before the name', () => {
    const r = parse('<tool_call>\n{"arguments": {"x": 1}, "name": "f"}\n</tool_call>', 1);
    assert.deepEqual(r.calls, [{ name: 'f', arguments: '{"x": 1}' }]);
  });

  it('reads Mistral arrays and a missing arguments key', () => {
    const r = parse('[TOOL_CALLS][{"name": "a", "arguments": {"k": "v"}}, {"name": "b"}]', 4, '[TOOL_CALLS]');
    assert.deepEqual(r.calls, [
      { name: 'a', arguments: '{"k": "v"}' },
      { name: 'b', arguments: '{}' },
    ]);
    assert.equal(r.content, '');
  });

  const gemma = '<start_of_turn>model\n```tool_call\n';
  for (const size of [1, 3, 1000]) {
    it(`reads Gemma fenced calls in ${size}-char pieces and leaves other code fences in content`, () => {
      const text =
        'Run:\n```python\nprint(1)\n```\n```tool_call\n{"name": "f", "arguments": {"q": "`"}}\n```\n' +
        '```tool_call\n{"name": "g", "arguments": {}}\n```';
      const r = parse(text, size, gemma);
      assert.equal(detectToolSyntax(gemma).family, 'gemma');
      assert.equal(r.content, 'Run:\n```python\nprint(1)\n```\n');
      assert.deepEqual(r.calls, [
        { name: 'f', arguments: '{"q": "`"}' },
        { name: 'g', arguments: '{}' },
      ]);
    });
  }

  it('reads Llama 3.1 parameters', () => {
    const r = parse('<|python_tag|>{"name": "f", "parameters": {"q": 1}}', 3, '<|python_tag|>');
    assert.deepEqual(r.calls, [{ name: 'f', arguments: '{"q": 1}' }]);
  });
});
