/**
 * The `input` of `POST /v1/responses` (a string, or OpenAI's input items) validated into camelCase `ResponseItem`s,
 * and their one conversion into the chat layer's messages. A stored response keeps its conversation as these items,
 * so `previous_response_id` replays exactly what the model saw, in the same shape a client can send back.
 */
import { parseFilePart, type ChatContentPart, type ChatMessage, type ChatToolCall } from './chat-messages.js';
import { IMAGE_TOOL_NAME, IMAGE_TOOL_RESULT } from './image-tool.js';
import { fail, isObj, type Obj } from './request-fields.js';

/** One conversation item after validation. */
export type ResponseItem =
  | { type: 'message'; role: 'system' | 'developer' | 'user' | 'assistant'; content: ChatContentPart[] }
  | { type: 'function_call'; callId: string; name: string; arguments: string }
  | { type: 'function_call_output'; callId: string; output: string }
  /** A built-in image call made earlier; `prompt` is what the model asked for (OpenAI's `revised_prompt`). */
  | { type: 'image_generation_call'; id: string; prompt: string };

const roles = new Set(['system', 'developer', 'user', 'assistant']);

function requireString(obj: Obj, key: string, at: string): string {
  const v = obj[key];
  if (typeof v !== 'string') fail(`'${at}.${key}' must be a string`, `${at}.${key}`, 'invalid_type');
  return v;
}

function parsePart(p: unknown, at: string, role: string): ChatContentPart {
  if (!isObj(p)) fail('each content part must be an object', at, 'invalid_type');
  if (p.type === 'input_text' || p.type === 'output_text') return { type: 'text', text: requireString(p, 'text', at) };
  if (p.type === 'input_image' && role === 'user') {
    const url = p.image_url;
    if (typeof url !== 'string' || !/^(data:|https?:\/\/)/i.test(url)) {
      fail(
        'input_image.image_url must be a data: URL or an http(s) URL (file_id is not supported)',
        `${at}.image_url`,
        'invalid_image_url',
      );
    }
    const detail = p.detail ?? 'auto';
    if (detail !== 'low' && detail !== 'high' && detail !== 'auto') {
      fail("input_image.detail must be 'low', 'high' or 'auto'", `${at}.detail`, 'invalid_value');
    }
    return { type: 'image', url, detail };
  }
  // A PDF, as in chat completions' `file` part: the same fields, beside `type` (OpenAI's `input_file`).
  if (p.type === 'input_file' && role === 'user') {
    const { type: _type, ...file } = p;
    return parseFilePart(file, at);
  }
  return fail(`unsupported content part type '${String(p.type)}' for role '${role}'`, `${at}.type`, 'invalid_value');
}

function parseMessageItem(item: Obj, at: string): ResponseItem {
  const role = item.role;
  if (typeof role !== 'string' || !roles.has(role))
    fail(`unknown role '${String(role)}'`, `${at}.role`, 'invalid_value');
  const content = item.content;
  if (typeof content === 'string')
    return { type: 'message', role: role as 'user', content: [{ type: 'text', text: content }] };
  if (!Array.isArray(content))
    fail('content must be a string or an array of content parts', `${at}.content`, 'invalid_type');
  return {
    type: 'message',
    role: role as 'user',
    content: content.map((p, i) => parsePart(p, `${at}.content[${i}]`, role)),
  };
}

function outputText(v: unknown, at: string): string {
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) fail("'output' must be a string or an array of input_text parts", at, 'invalid_type');
  return v
    .map((p, i) => {
      const part = parsePart(p, `${at}[${i}]`, 'tool');
      return part.type === 'text' ? part.text : '';
    })
    .join('');
}

function parseItem(item: unknown, at: string): ResponseItem {
  if (!isObj(item)) fail('each input item must be an object', at, 'invalid_type');
  switch (item.type ?? 'message') {
    case 'message':
      return parseMessageItem(item, at);
    case 'function_call':
      return {
        type: 'function_call',
        callId: requireString(item, 'call_id', at),
        name: requireString(item, 'name', at),
        arguments: requireString(item, 'arguments', at),
      };
    case 'function_call_output':
      return {
        type: 'function_call_output',
        callId: requireString(item, 'call_id', at),
        output: outputText(item.output, `${at}.output`),
      };
    case 'image_generation_call':
      return {
        type: 'image_generation_call',
        id: requireString(item, 'id', at),
        prompt: typeof item.revised_prompt === 'string' ? item.revised_prompt : '',
      };
    default:
      return fail(`unsupported input item type '${String(item.type)}'`, `${at}.type`, 'invalid_value');
  }
}

/** `input`: a string (one user message) or a non-empty array of items. */
export function parseResponseInput(v: unknown): ResponseItem[] {
  if (typeof v === 'string') return [{ type: 'message', role: 'user', content: [{ type: 'text', text: v }] }];
  if (!Array.isArray(v) || v.length === 0)
    fail("'input' must be a string or a non-empty array of items", 'input', 'invalid_type');
  return v.map((item, i) => parseItem(item, `input[${i}]`));
}

/**
 * The chat messages of `instructions` (a system message, first) and `items`. Calls that follow one another join
 * one assistant message, as chat templates expect; an image call is a call of the built-in tool plus its result.
 * `origins`, when given, receives for each message the index of the item it came from (unset or null: none).
 */
export function itemsToMessages(
  instructions: string | null,
  items: readonly ResponseItem[],
  origins: (number | null)[] = [],
): ChatMessage[] {
  const out: ChatMessage[] = instructions ? [{ role: 'system', content: [{ type: 'text', text: instructions }] }] : [];
  if (instructions) origins.push(null);
  const addCall = (call: ChatToolCall): void => {
    const last = out[out.length - 1];
    if (last?.role === 'assistant') last.toolCalls.push(call);
    else out.push({ role: 'assistant', content: null, toolCalls: [call], reasoning: null });
  };
  for (const [index, item] of items.entries()) {
    if (item.type === 'message') {
      // A user message keeps its parts one for one, so an error about messages[k].content[j] is about this item's.
      if (item.role !== 'assistant') {
        out.push({ role: item.role, content: item.content });
        origins[out.length - 1] = index;
      } else
        out.push({
          role: 'assistant',
          content: item.content.map((p) => (p.type === 'text' ? p.text : '')).join(''),
          toolCalls: [],
          reasoning: null,
        });
    } else if (item.type === 'function_call') {
      addCall({ id: item.callId, name: item.name, arguments: item.arguments });
    } else if (item.type === 'function_call_output') {
      out.push({ role: 'tool', content: item.output, toolCallId: item.callId });
    } else {
      addCall({ id: item.id, name: IMAGE_TOOL_NAME, arguments: JSON.stringify({ prompt: item.prompt }) });
      out.push({ role: 'tool', content: IMAGE_TOOL_RESULT, toolCallId: item.id });
    }
  }
  return out;
}
