import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompileError, compileToolCalls, Matcher } from '../../src/structure/index.js';
import { byteVocab } from './helpers.js';

const tools = [
  { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
  { name: 'get_time', parameters: { type: 'object', properties: {}, additionalProperties: false } },
];
const hermes = { open: '<tool_call>\n', close: '\n</tool_call>', separator: '\n', nameKey: 'name', argumentsKey: 'arguments', array: false };
const mistral = { open: '[TOOL_CALLS]', close: '', separator: '', nameKey: 'name', argumentsKey: 'arguments', array: true };

function complete(grammar: ReturnType<typeof compileToolCalls>, text: string): boolean {
  const m = new Matcher(grammar, byteVocab);
  return m.acceptString(text) && m.accept(256);
}

describe('compileToolCalls', () => {
  it('auto: free text, then optionally parallel calls with per-tool arguments', () => {
    const g = compileToolCalls({ tools, mode: 'auto', parallel: true, syntax: hermes });
    assert.equal(complete(g, 'Just text, no call.'), true);
    assert.equal(complete(g, 'Let me check.<tool_call>\n{"name":"get_weather","arguments":{"city":"Oslo"}}\n</tool_call>'), true);
    assert.equal(complete(g, '<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call>\n<tool_call>\n{"name":"get_weather","arguments":{"city":"X"}}\n</tool_call>'), true);
    assert.equal(complete(g, '<tool_call>\n{"name":"get_time","arguments":{"city":"X"}}\n</tool_call>'), false);
    assert.equal(complete(g, '<tool_call>\n{"name":"nope","arguments":{}}\n</tool_call>'), false);
    assert.equal(complete(g, '<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call> and text after'), false);
  });

  it('required and named modes allow no text; named allows exactly that call once', () => {
    const req = compileToolCalls({ tools, mode: 'required', parallel: false, syntax: hermes });
    assert.equal(complete(req, 'text'), false);
    assert.equal(complete(req, '<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call>'), true);
    const named = compileToolCalls({ tools, mode: 'named', name: 'get_weather', parallel: true, syntax: hermes });
    assert.equal(complete(named, '<tool_call>\n{"name":"get_time","arguments":{}}\n</tool_call>'), false);
    assert.equal(complete(named, '<tool_call>\n{"name":"get_weather","arguments":{"city":"A"}}\n</tool_call>'), true);
    assert.equal(complete(named, '<tool_call>\n{"name":"get_weather","arguments":{"city":"A"}}\n</tool_call>\n<tool_call>\n{"name":"get_weather","arguments":{"city":"B"}}\n</tool_call>'), false);
    const m = new Matcher(named, byteVocab);
    assert.equal(new TextDecoder().decode(m.forcedBytes()), '<tool_call>\n{"name":"get_weather","arguments":{"city":"');
  });

  it('array syntax (Mistral) puts parallel calls in one JSON array', () => {
    const g = compileToolCalls({ tools, mode: 'auto', parallel: true, syntax: mistral });
    assert.equal(complete(g, '[TOOL_CALLS][{"name":"get_time","arguments":{}},{"name":"get_time","arguments":{}}]'), true);
    const single = compileToolCalls({ tools, mode: 'required', parallel: false, syntax: mistral });
    assert.equal(complete(single, '[TOOL_CALLS][{"name":"get_time","arguments":{}},{"name":"get_time","arguments":{}}]'), false);
    assert.equal(complete(single, '[TOOL_CALLS][{"name":"get_time","arguments":{}}]'), true);
  });

  it('names the failing tool schema in the error pointer', () => {
    const bad = [{ name: 'f', parameters: { type: 'object', properties: { x: { not: { minimum: 1 } } } } }];
    assert.throws(() => compileToolCalls({ tools: bad, mode: 'auto', parallel: false, syntax: hermes }), (e: unknown) => e instanceof CompileError && e.pointer === '/tools/0/parameters/properties/x' && e.keyword === 'not');
    assert.throws(() => compileToolCalls({ tools, mode: 'named', name: 'zzz', parallel: false, syntax: hermes }), /no tool named/);
    assert.throws(() => compileToolCalls({ tools, mode: 'auto', parallel: false, syntax: { ...hermes, open: '' } }), /non-empty open marker/);
  });
});
