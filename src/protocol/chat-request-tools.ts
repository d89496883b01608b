/**
 * Validation of the schema-carrying parts of a chat request: `tools`, `tool_choice` and `response_format`. Their
 * schemas are free-form JSON that later stages recurse over, so their depth is bounded here, naming the field.
 */
import type { ChatResponseFormat, ChatTool, ChatToolChoice } from './chat-request.js';
import type { JsonValue } from './chat-wire.js';
import { bool, checkJsonDepth, fail, isObj, optionalString } from './request-fields.js';

const namePattern = /^[a-zA-Z0-9_-]{1,64}$/;

/** An optional JSON Schema object at `param` (depth-bounded), or `fallback` when absent. */
function schemaAt(v: unknown, param: string, fallback: Record<string, JsonValue>): Record<string, JsonValue> {
  if (v === undefined || v === null) return fallback;
  if (!isObj(v)) fail(`'${param}' must be a JSON Schema object`, param, 'invalid_type');
  checkJsonDepth(v, param);
  return v as Record<string, JsonValue>;
}

/** `tools`: function tools with unique names; `parameters` defaults to any object. */
export function parseTools(v: unknown): ChatTool[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail("'tools' must be an array", 'tools', 'invalid_type');
  const seen = new Set<string>();
  return v.map((t, i): ChatTool => {
    const at = `tools[${i}].function`;
    const f = isObj(t) ? t.function : undefined;
    if (!isObj(t) || t.type !== 'function' || !isObj(f))
      fail('tools must be {type: "function", function}', `tools[${i}]`);
    if (typeof f.name !== 'string' || !namePattern.test(f.name)) {
      fail('function.name must match ^[a-zA-Z0-9_-]{1,64}$', `${at}.name`, 'invalid_value');
    }
    if (seen.has(f.name)) fail(`duplicate tool name '${f.name}'`, `${at}.name`, 'invalid_value');
    seen.add(f.name);
    return {
      name: f.name,
      description: optionalString(f, 'description', at),
      parameters: schemaAt(f.parameters, `${at}.parameters`, { type: 'object' }),
      strict: bool(f, 'strict', false, at),
    };
  });
}

/** `tool_choice`: a mode, or one of `tools` by name. */
export function parseToolChoice(v: unknown, tools: ChatTool[]): ChatToolChoice {
  if (v === undefined || v === null) return tools.length > 0 ? 'auto' : 'none';
  if (v === 'none' || v === 'auto' || v === 'required') {
    if (v !== 'none' && tools.length === 0) fail(`tool_choice '${v}' requires 'tools'`, 'tool_choice', 'invalid_value');
    return v;
  }
  const f = isObj(v) ? v.function : undefined;
  if (!isObj(v) || v.type !== 'function' || !isObj(f) || typeof f.name !== 'string') {
    fail("tool_choice must be 'none', 'auto', 'required' or {type: 'function', function: {name}}", 'tool_choice');
  }
  if (!tools.some((t) => t.name === f.name)) {
    fail(`tool_choice names unknown tool '${String(f.name)}'`, 'tool_choice.function.name', 'invalid_value');
  }
  return { name: f.name as string };
}

/** `response_format`: text, json_object, or json_schema with a name and a (depth-bounded) schema. */
export function parseResponseFormat(v: unknown): ChatResponseFormat {
  if (v === undefined || v === null) return { type: 'text' };
  if (!isObj(v)) fail("'response_format' must be an object", 'response_format', 'invalid_type');
  if (v.type === 'text' || v.type === 'json_object') return { type: v.type };
  if (v.type !== 'json_schema') {
    return fail(`unsupported response_format type '${String(v.type)}'`, 'response_format.type', 'invalid_value');
  }
  const at = 'response_format.json_schema';
  const js = v.json_schema;
  if (!isObj(js)) fail(`'${at}' must be an object`, at, 'invalid_type');
  if (typeof js.name !== 'string' || !namePattern.test(js.name)) {
    fail('json_schema.name is required and must match ^[a-zA-Z0-9_-]{1,64}$', `${at}.name`);
  }
  optionalString(js, 'description', at);
  return {
    type: 'json_schema',
    name: js.name,
    schema: schemaAt(js.schema, `${at}.schema`, {}),
    strict: bool(js, 'strict', false, at),
  };
}
