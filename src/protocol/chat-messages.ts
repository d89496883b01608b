/**
 * Validation of one chat message and its content parts (text, images, PDF files), shared by chat completions and
 * the Responses API: snake_case wire fields in, camelCase `ChatMessage` out, every error naming its `param` path.
 */
import { fail, isObj, onlyKeys, optionalString } from './request-fields.js';

/**
 * A content part after validation: text, an image referenced by data URL or http(s) URL, or a PDF document (OpenAI's
 * `file` part) given inline as a base64 `data:application/pdf` URL or as the id of an uploaded file.
 */
export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image'; url: string; detail: 'low' | 'high' | 'auto' }
  | ChatFilePart;

/** A `file` content part: exactly one of `data` (a data URL) and `fileId` is set; `filename` names it in prompts. */
export interface ChatFilePart {
  type: 'file';
  data: string | null;
  fileId: string | null;
  filename: string | null;
}

/** A tool call in the conversation (`arguments` is the JSON text the model produced). */
export interface ChatToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A validated message. */
export type ChatMessage =
  | { role: 'system' | 'developer' | 'user'; content: ChatContentPart[] }
  | { role: 'assistant'; content: string | null; toolCalls: ChatToolCall[]; reasoning: string | null }
  | { role: 'tool'; content: string; toolCallId: string };

function parseParts(v: unknown, param: string, imagesAllowed: boolean): ChatContentPart[] {
  if (typeof v === 'string') return [{ type: 'text', text: v }];
  if (!Array.isArray(v)) fail('content must be a string or an array of content parts', param, 'invalid_type');
  return v.map((p, i): ChatContentPart => {
    const at = `${param}[${i}]`;
    if (isObj(p) && p.type === 'text') {
      if (typeof p.text !== 'string') fail('a text part needs a string `text`', `${at}.text`, 'invalid_type');
      return { type: 'text', text: p.text };
    }
    if (isObj(p) && p.type === 'image_url' && imagesAllowed) {
      const img = p.image_url;
      if (!isObj(img) || typeof img.url !== 'string') fail('image_url.url must be a string', `${at}.image_url.url`);
      const detail = img.detail ?? 'auto';
      if (detail !== 'low' && detail !== 'high' && detail !== 'auto') {
        fail("image_url.detail must be 'low', 'high' or 'auto'", `${at}.image_url.detail`, 'invalid_value');
      }
      if (!/^(data:|https?:\/\/)/i.test(img.url)) {
        fail('image_url.url must be a data: URL or an http(s) URL', `${at}.image_url.url`, 'invalid_image_url');
      }
      return { type: 'image', url: img.url, detail };
    }
    if (isObj(p) && p.type === 'file' && imagesAllowed) return parseFilePart(p.file, `${at}.file`);
    return fail(
      `unsupported content part${isObj(p) ? ` type '${String(p.type)}'` : ''}`,
      `${at}.type`,
      'invalid_value',
    );
  });
}

/**
 * OpenAI's `file` part (`at` = its path): `{file_data: "data:application/pdf;base64,…", filename}` or `{file_id}`.
 * The Responses API's `input_file` carries the same fields.
 */
export function parseFilePart(file: unknown, at: string): ChatFilePart {
  if (!isObj(file)) fail('a file part needs a `file` object', at, 'invalid_type');
  const path = (key: string): string => (at ? `${at}.${key}` : key);
  onlyKeys(file, ['file_data', 'file_id', 'filename'], at);
  const filename = optionalString(file, 'filename', at, 256);
  const data = file.file_data ?? null;
  const fileId = file.file_id ?? null;
  if ((data === null) === (fileId === null))
    fail('a file part needs exactly one of `file_data` and `file_id`', at, 'invalid_value');
  if (fileId !== null && (typeof fileId !== 'string' || fileId === ''))
    fail('file_id must be a non-empty string', path('file_id'), 'invalid_type');
  if (data !== null && (typeof data !== 'string' || !/^data:application\/pdf;base64,/i.test(data))) {
    fail(
      'file_data must be a base64 data URL of a PDF (data:application/pdf;base64,…)',
      path('file_data'),
      'invalid_value',
    );
  }
  return { type: 'file', data: data as string | null, fileId: fileId as string | null, filename };
}

function textOf(v: unknown, param: string): string {
  return parseParts(v, param, false)
    .map((p) => (p.type === 'text' ? p.text : ''))
    .join('');
}

export function parseMessage(m: unknown, at: string): ChatMessage {
  if (!isObj(m)) fail('each message must be an object', at, 'invalid_type');
  const raw = m;
  switch (raw.role) {
    case 'system':
    case 'developer':
      return { role: raw.role as 'system' | 'developer', content: parseParts(raw.content, `${at}.content`, false) };
    case 'user':
      return { role: 'user', content: parseParts(raw.content, `${at}.content`, true) };
    case 'tool':
      if (typeof raw.tool_call_id !== 'string') fail("tool messages need 'tool_call_id'", `${at}.tool_call_id`);
      return { role: 'tool', content: textOf(raw.content, `${at}.content`), toolCallId: raw.tool_call_id };
    case 'assistant': {
      const calls = raw.tool_calls ?? [];
      if (!Array.isArray(calls)) fail("'tool_calls' must be an array", `${at}.tool_calls`, 'invalid_type');
      const toolCalls = calls.map((c: unknown, i: number): ChatToolCall => {
        const f = isObj(c) ? c.function : undefined;
        if (
          !isObj(c) ||
          typeof c.id !== 'string' ||
          !isObj(f) ||
          typeof f.name !== 'string' ||
          typeof f.arguments !== 'string'
        ) {
          fail(
            'tool calls need id, function.name and function.arguments (strings)',
            `${at}.tool_calls[${i}]`,
            'invalid_type',
          );
        }
        return { id: c.id as string, name: f.name as string, arguments: f.arguments as string };
      });
      const content = raw.content == null ? null : textOf(raw.content, `${at}.content`);
      const reasoning = optionalString(raw, 'reasoning_content', at);
      return { role: 'assistant', content, toolCalls, reasoning };
    }
    default:
      return fail(`unknown role '${String(raw.role)}'`, `${at}.role`, 'invalid_value');
  }
}
