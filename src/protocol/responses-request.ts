/**
 * Validation of a `POST /v1/responses` body (OpenAI's Responses API) into camelCase, and the chat request each model
 * turn of it runs as — the same `ChatRequest` that `/v1/chat/completions` builds, so both endpoints share one engine
 * path, one decoder and one set of guarantees. Unknown fields are a 400 naming them, as in chat.
 */
import type { ChatMessage } from './chat-messages.js';
import type { ChatRequest, ChatResponseFormat, ChatTool, ChatToolChoice } from './chat-request.js';
import type { JsonValue } from './chat-wire.js';
import { IMAGE_TOOL_NAME, imageToolFunction, parseImageTool, type ImageToolOptions } from './image-tool.js';
import { parseResponseInput, type ResponseItem } from './responses-input.js';
import { bool, checkJsonDepth, fail, isObj, num, onlyKeys, optionalString } from './request-fields.js';

/** A validated Responses request. `echo` holds the wire fields a response repeats back verbatim. */
export interface ResponsesRequest {
  model: string;
  input: ResponseItem[];
  instructions: string | null;
  previousResponseId: string | null;
  store: boolean;
  stream: boolean;
  format: ChatResponseFormat;
  tools: ChatTool[];
  imageTool: ImageToolOptions | null;
  toolChoice: ChatToolChoice;
  parallelToolCalls: boolean;
  /** Output token cap over all model turns of the response; null = up to the context size. */
  maxOutputTokens: number | null;
  temperature: number;
  topP: number;
  seed: number | null;
  metadata: Record<string, string>;
  echo: { tools: JsonValue[]; toolChoice: JsonValue; text: JsonValue };
}

const KNOWN_FIELDS = new Set([
  'model',
  'input',
  'instructions',
  'previous_response_id',
  'store',
  'stream',
  'text',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_output_tokens',
  'temperature',
  'top_p',
  'seed',
  'metadata',
  'user',
  'truncation',
]);
const namePattern = /^[a-zA-Z0-9_-]{1,64}$/;

function schemaOf(v: unknown, param: string, fallback: Record<string, JsonValue>): Record<string, JsonValue> {
  if (v === undefined || v === null) return fallback;
  if (!isObj(v)) fail(`'${param}' must be a JSON Schema object`, param, 'invalid_type');
  checkJsonDepth(v, param);
  return v as Record<string, JsonValue>;
}

/** `text.format`: text, json_object, or json_schema (name, schema, strict) — flat, as the Responses API spells it. */
function parseFormat(text: unknown): ChatResponseFormat {
  if (text === undefined || text === null) return { type: 'text' };
  if (!isObj(text)) fail("'text' must be an object", 'text', 'invalid_type');
  onlyKeys(text, ['format', 'verbosity'], 'text');
  const f = text.format;
  if (f === undefined || f === null) return { type: 'text' };
  if (!isObj(f)) fail("'text.format' must be an object", 'text.format', 'invalid_type');
  if (f.type === 'text' || f.type === 'json_object') return { type: f.type };
  if (f.type !== 'json_schema')
    fail(`unsupported text.format type '${String(f.type)}'`, 'text.format.type', 'invalid_value');
  onlyKeys(f, ['type', 'name', 'schema', 'strict', 'description'], 'text.format');
  if (typeof f.name !== 'string' || !namePattern.test(f.name)) {
    fail('text.format.name is required and must match ^[a-zA-Z0-9_-]{1,64}$', 'text.format.name', 'invalid_value');
  }
  optionalString(f, 'description', 'text.format');
  return {
    type: 'json_schema',
    name: f.name,
    schema: schemaOf(f.schema, 'text.format.schema', {}),
    strict: bool(f, 'strict', false, 'text.format'),
  };
}

/** `tools`: flat function tools (Responses shape; `strict` defaults to true) and at most one `image_generation`. */
function parseResponseTools(v: unknown): { tools: ChatTool[]; imageTool: ImageToolOptions | null } {
  if (v === undefined || v === null) return { tools: [], imageTool: null };
  if (!Array.isArray(v)) fail("'tools' must be an array", 'tools', 'invalid_type');
  const tools: ChatTool[] = [];
  let imageTool: ImageToolOptions | null = null;
  v.forEach((t, i) => {
    const at = `tools[${i}]`;
    if (isObj(t) && t.type === 'image_generation') {
      if (imageTool) fail('at most one image_generation tool', at, 'invalid_value');
      imageTool = parseImageTool(t, at);
      return;
    }
    if (!isObj(t) || t.type !== 'function')
      fail(
        "tools must be {type: 'function', name, parameters} or {type: 'image_generation'}",
        `${at}.type`,
        'invalid_value',
      );
    onlyKeys(t, ['type', 'name', 'description', 'parameters', 'strict'], at);
    if (typeof t.name !== 'string' || !namePattern.test(t.name) || t.name === IMAGE_TOOL_NAME) {
      fail(
        `tools[].name must match ^[a-zA-Z0-9_-]{1,64}$ and not be '${IMAGE_TOOL_NAME}'`,
        `${at}.name`,
        'invalid_value',
      );
    }
    if (tools.some((x) => x.name === t.name)) fail(`duplicate tool name '${t.name}'`, `${at}.name`, 'invalid_value');
    tools.push({
      name: t.name,
      description: optionalString(t, 'description', at),
      parameters: schemaOf(t.parameters, `${at}.parameters`, { type: 'object' }),
      strict: bool(t, 'strict', true, at),
    });
  });
  return { tools, imageTool };
}

/** `tool_choice`: a mode, `{type: 'function', name}`, or `{type: 'image_generation'}`. */
function parseChoice(v: unknown, tools: ChatTool[], image: boolean): ChatToolChoice {
  const any = tools.length > 0 || image;
  if (v === undefined || v === null) return any ? 'auto' : 'none';
  if (v === 'none' || v === 'auto' || v === 'required') {
    if (v !== 'none' && !any) fail(`tool_choice '${v}' requires 'tools'`, 'tool_choice', 'invalid_value');
    return v;
  }
  if (isObj(v) && v.type === 'image_generation') {
    if (!image) fail('tool_choice image_generation requires an image_generation tool', 'tool_choice', 'invalid_value');
    return { name: IMAGE_TOOL_NAME };
  }
  if (!isObj(v) || v.type !== 'function' || typeof v.name !== 'string') {
    fail(
      "tool_choice must be 'none', 'auto', 'required', {type: 'function', name} or {type: 'image_generation'}",
      'tool_choice',
    );
  }
  if (!tools.some((t) => t.name === v.name))
    fail(`tool_choice names unknown tool '${String(v.name)}'`, 'tool_choice.name', 'invalid_value');
  return { name: v.name as string };
}

function metadataOf(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v) || Object.keys(v).length > 16)
    fail("'metadata' must be an object of at most 16 string values", 'metadata', 'invalid_type');
  for (const [key, value] of Object.entries(v)) {
    if (key.length > 64 || typeof value !== 'string' || value.length > 512) {
      fail(`'metadata.${key}': keys ≤ 64 and values ≤ 512 characters (strings)`, `metadata.${key}`, 'invalid_value');
    }
  }
  return v as Record<string, string>;
}

/** Validates `body` (already JSON-parsed); throws `InvalidRequestError` (400) on the first problem. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (!isObj(body)) fail('The request body must be a JSON object', null);
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) fail(`Unrecognized request argument supplied: ${key}`, key, 'unknown_parameter');
  }
  if (typeof body.model !== 'string' || body.model === '') fail("'model' is required", 'model');
  if (body.truncation !== undefined && body.truncation !== null && body.truncation !== 'disabled') {
    fail("only truncation 'disabled' is supported", 'truncation', 'invalid_value');
  }
  optionalString(body, 'user', '', 256);
  const { tools, imageTool } = parseResponseTools(body.tools);
  const maxOutputTokens = num(body, 'max_output_tokens', -1, { min: 1, max: 2 ** 31, integer: true });
  return {
    model: body.model,
    input: parseResponseInput(body.input),
    instructions: optionalString(body, 'instructions', ''),
    previousResponseId: optionalString(body, 'previous_response_id', '', 128),
    store: bool(body, 'store', true),
    stream: bool(body, 'stream', false),
    format: parseFormat(body.text),
    tools,
    imageTool,
    toolChoice: parseChoice(body.tool_choice, tools, imageTool !== null),
    parallelToolCalls: bool(body, 'parallel_tool_calls', true),
    maxOutputTokens: maxOutputTokens > 0 ? maxOutputTokens : null,
    temperature: num(body, 'temperature', 1, { min: 0, max: 2 }),
    topP: num(body, 'top_p', 1, { min: 0, max: 1 }),
    seed: body.seed == null ? null : num(body, 'seed', 0, { min: -(2 ** 53), max: 2 ** 53, integer: true }),
    metadata: metadataOf(body.metadata),
    echo: {
      tools: (body.tools ?? []) as JsonValue[],
      toolChoice: (body.tool_choice ?? (tools.length > 0 || imageTool ? 'auto' : 'none')) as JsonValue,
      text: (body.text ?? { format: { type: 'text' } }) as JsonValue,
    },
  };
}

/** One model turn of `request` over `messages` as a chat request; `turn` overrides the tool choice and the cap. */
export function turnChatRequest(
  request: ResponsesRequest,
  messages: ChatMessage[],
  turn: { toolChoice: ChatToolChoice; maxTokens: number | null },
): ChatRequest {
  return {
    model: request.model,
    messages,
    maxTokens: turn.maxTokens,
    n: 1,
    stop: [],
    stream: request.stream,
    includeUsage: false,
    sampling: {
      temperature: request.temperature,
      topP: request.topP,
      topK: 0,
      minP: 0,
      seed: request.seed,
      frequencyPenalty: 0,
      presencePenalty: 0,
      logitBias: new Map(),
    },
    responseFormat: request.format,
    tools: request.imageTool ? [...request.tools, imageToolFunction] : request.tools,
    toolChoice: turn.toolChoice,
    parallelToolCalls: request.parallelToolCalls,
    logprobs: false,
    topLogprobs: 0,
  };
}
