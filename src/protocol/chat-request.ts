/**
 * Validation of a `/v1/chat/completions` body and its one conversion from snake_case wire fields to the camelCase
 * `ChatRequest` the rest of atelier uses. Every field atelier supports is checked here; any other field is rejected
 * with a 400 naming it (`param`) rather than silently ignored — the llama-server/Ollama failure mode.
 */
import type { JsonValue } from './chat-wire.js';
import { parseResponseFormat, parseToolChoice, parseTools } from './chat-request-tools.js';
import { imageToolChoice, imageToolFunction, splitImageTool, type ImageToolOptions } from './image-tool.js';
import { bool, fail, isObj, num, onlyKeys, optionalString, type Obj } from './request-fields.js';
import { parseMessage, type ChatMessage } from './chat-messages.js';

/** A function tool the model may call; `parameters` is a JSON Schema (default: any object). */
export interface ChatTool {
  name: string;
  description: string | null;
  parameters: Record<string, JsonValue>;
  strict: boolean;
}

/** `tool_choice` after validation: a string mode or one named function. */
export type ChatToolChoice = 'none' | 'auto' | 'required' | { name: string };

/** `response_format` after validation. */
export type ChatResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, JsonValue>; strict: boolean };

/** Sampling parameters (OpenAI defaults: temperature 1, top_p 1, penalties 0; top_k/min_p are extensions). */
export interface ChatSampling {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  seed: number | null;
  frequencyPenalty: number;
  presencePenalty: number;
  /** token id → bias added to its logit, −100…100 (−100 ≈ never). */
  logitBias: Map<number, number>;
}

/** A validated chat-completion request. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  /** Completion token cap (`max_completion_tokens`, else `max_tokens`); null = up to the context size. */
  maxTokens: number | null;
  n: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  sampling: ChatSampling;
  responseFormat: ChatResponseFormat;
  tools: ChatTool[];
  toolChoice: ChatToolChoice;
  parallelToolCalls: boolean;
  logprobs: boolean;
  /** 0…20 alternatives per token (only with `logprobs: true`). */
  topLogprobs: number;
  /** atelier's built-in `image_generation` tool (docs/RESPONSES.md); absent = none. Its function is in `tools`. */
  imageTool?: ImageToolOptions;
}

const KNOWN_FIELDS = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'stop',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'top_k',
  'min_p',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'response_format',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'store',
  'metadata',
]);

function parseStop(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length > 4 || list.some((s) => typeof s !== 'string' || s.length === 0)) {
    fail("'stop' must be a non-empty string or an array of up to 4 non-empty strings", 'stop', 'invalid_value');
  }
  return list as string[];
}

function parseLogitBias(v: unknown): Map<number, number> {
  const out = new Map<number, number>();
  if (v === undefined || v === null) return out;
  if (!isObj(v)) fail("'logit_bias' must be an object of token id → bias", 'logit_bias', 'invalid_type');
  for (const [k, b] of Object.entries(v)) {
    if (!/^\d+$/.test(k) || typeof b !== 'number' || b < -100 || b > 100) {
      fail(`'logit_bias' entry ${k}: keys are token ids, values numbers in [-100, 100]`, 'logit_bias', 'invalid_value');
    }
    out.set(Number(k), b);
  }
  return out;
}

/** `metadata`: up to 16 string pairs, keys ≤ 64 and values ≤ 512 characters (OpenAI's limits). */
function checkMetadata(v: unknown): void {
  if (v === undefined || v === null) return;
  if (!isObj(v)) fail("'metadata' must be an object of string values", 'metadata', 'invalid_type');
  const entries = Object.entries(v);
  if (entries.length > 16) fail("'metadata' holds at most 16 keys", 'metadata', 'invalid_value');
  for (const [key, value] of entries) {
    if (key.length > 64) fail("'metadata' keys are at most 64 characters", 'metadata', 'invalid_value');
    if (typeof value !== 'string' || value.length > 512) {
      fail(`'metadata.${key}' must be a string of at most 512 characters`, `metadata.${key}`, 'invalid_value');
    }
  }
}

/** The completion cap: both spellings are checked, `max_completion_tokens` wins when both are given. */
function maxTokensOf(body: Obj): number | null {
  const limits = { min: 1, max: 2 ** 31, integer: true };
  const legacy = num(body, 'max_tokens', -1, limits);
  const current = num(body, 'max_completion_tokens', -1, limits);
  return current > 0 ? current : legacy > 0 ? legacy : null;
}

/** `stream_options` (only with `stream: true`) → whether the last chunk carries usage. */
function includeUsageOf(body: Obj, stream: boolean): boolean {
  const options = body.stream_options;
  if (options === undefined || options === null) return false;
  if (!isObj(options)) fail("'stream_options' must be an object", 'stream_options', 'invalid_type');
  onlyKeys(options, ['include_usage'], 'stream_options');
  const include = bool(options, 'include_usage', false, 'stream_options');
  if (!stream) fail("'stream_options' is only allowed when 'stream' is true", 'stream_options', 'invalid_value');
  return include;
}

/** Validates `body` (already JSON-parsed) and converts it; throws `InvalidRequestError` (400) on the first problem. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (!isObj(body)) fail('The request body must be a JSON object', null);
  for (const key of Object.keys(body)) {
    if (!KNOWN_FIELDS.has(key)) fail(`Unrecognized request argument supplied: ${key}`, key, 'unknown_parameter');
  }
  if (typeof body.model !== 'string' || body.model === '') fail("'model' is required", 'model');
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    fail("'messages' must be a non-empty array", 'messages');
  }
  const messages = body.messages.map((m, i) => parseMessage(m, `messages[${i}]`));
  const stream = bool(body, 'stream', false);
  const logprobs = bool(body, 'logprobs', false);
  const topLogprobs = num(body, 'top_logprobs', 0, { min: 0, max: 20, integer: true });
  if (topLogprobs > 0 && !logprobs) fail("'top_logprobs' requires 'logprobs': true", 'top_logprobs', 'invalid_value');
  optionalString(body, 'user', '', 256);
  bool(body, 'store', false);
  checkMetadata(body.metadata);
  const n = num(body, 'n', 1, { min: 1, max: 16, integer: true });
  const { rest, imageTool } = splitImageTool(body.tools, n);
  const tools = imageTool ? [...parseTools(rest), imageToolFunction] : parseTools(rest);
  return {
    model: body.model,
    messages,
    maxTokens: maxTokensOf(body),
    n,
    stop: parseStop(body.stop),
    stream,
    includeUsage: includeUsageOf(body, stream),
    sampling: {
      temperature: num(body, 'temperature', 1, { min: 0, max: 2 }),
      topP: num(body, 'top_p', 1, { min: 0, max: 1 }),
      topK: num(body, 'top_k', 0, { min: 0, max: 1e6, integer: true }),
      minP: num(body, 'min_p', 0, { min: 0, max: 1 }),
      seed: body.seed == null ? null : num(body, 'seed', 0, { min: -(2 ** 53), max: 2 ** 53, integer: true }),
      frequencyPenalty: num(body, 'frequency_penalty', 0, { min: -2, max: 2 }),
      presencePenalty: num(body, 'presence_penalty', 0, { min: -2, max: 2 }),
      logitBias: parseLogitBias(body.logit_bias),
    },
    responseFormat: parseResponseFormat(body.response_format),
    tools,
    toolChoice: imageToolChoice(body.tool_choice, imageTool) ?? parseToolChoice(body.tool_choice, tools),
    parallelToolCalls: bool(body, 'parallel_tool_calls', true),
    logprobs,
    topLogprobs,
    ...(imageTool && { imageTool }),
  };
}
