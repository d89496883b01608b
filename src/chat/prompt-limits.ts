/**
 * Bounds on the work a chat request costs before generation, so that no request holds the event loop for long: the
 * Jinja template is interpreted per message and per tool (tens of µs each), and a prompt longer than the model's
 * context is refused by its byte length before a single token is counted. What remains (prompts that may fit) is
 * tokenised on the engine's tokenizer thread.
 */
import { ContextOverflowError, type EnginePrompt } from '../engines/index.js';
import { InvalidRequestError, type ChatRequest } from '../protocol/index.js';
import type { ChatModel } from './chat-model.js';

/** Most messages one request may carry (each is a pass of the template interpreter). */
export const MAX_MESSAGES = 2048;
/** Most tools one request may declare (OpenAI's own limit). */
export const MAX_TOOLS = 128;
/**
 * Most characters of JSON all tool definitions of a request may take: templates print them with `tojson`, which the
 * Jinja interpreter walks node by node (~0.2 s per MB), before any schema limit is checked.
 */
export const MAX_TOOLS_JSON = 512 * 1024;

function tooLong(param: string, max: number, got: number): InvalidRequestError {
  return new InvalidRequestError(
    `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${got} instead.`,
    { param, code: 'array_above_max_length' },
  );
}

/**
 * Refuses requests with more messages or tools than the template should interpret (400 `array_above_max_length`),
 * or tool definitions too large to print (400 `invalid_value` on `tools`).
 */
export function checkRequestSize(request: ChatRequest): void {
  if (request.messages.length > MAX_MESSAGES) throw tooLong('messages', MAX_MESSAGES, request.messages.length);
  if (request.tools.length > MAX_TOOLS) throw tooLong('tools', MAX_TOOLS, request.tools.length);
  if (request.tools.length === 0) return;
  let size: number;
  try {
    // Native and linear in what the body already held; nesting too deep to print counts as too large.
    size = JSON.stringify(request.tools).length;
  } catch {
    size = Infinity;
  }
  if (size > MAX_TOOLS_JSON) {
    throw new InvalidRequestError(
      `Invalid 'tools': the tool definitions take more than ${MAX_TOOLS_JSON} characters of JSON.`,
      {
        param: 'tools',
        code: 'invalid_value',
      },
    );
  }
}

function contextError(contextSize: number, detail: string): InvalidRequestError {
  return new InvalidRequestError(
    `This model's maximum context length is ${contextSize} tokens. However, ${detail}. Please reduce the length of the messages.`,
    { param: 'messages', code: 'context_length_exceeded' },
  );
}

/**
 * Refuses a rendered prompt that is certainly longer than the context, from its UTF-8 byte length alone: n tokens
 * spell at most n × `promptBytesPerToken` bytes, so more bytes than the context's worth cannot fit. Costs at most one
 * pass over the text (`Buffer.byteLength`), none when its length alone decides; no tokenising.
 */
export function checkPromptBytes(model: ChatModel, text: string): void {
  const { contextSize, promptBytesPerToken } = model.engine.info;
  const most = contextSize * promptBytesPerToken;
  // UTF-8 takes at least 1 and at most 3 bytes per UTF-16 unit: only between those bounds is the exact count needed
  // (which would flatten and walk the whole text).
  if (text.length * 3 <= most) return;
  const bytes = text.length > most ? text.length : Buffer.byteLength(text, 'utf8');
  if (bytes > most) {
    throw contextError(
      contextSize,
      `your messages are at least ${bytes} bytes long, more than ${contextSize} tokens of this model can spell (at most ${promptBytesPerToken} bytes a token)`,
    );
  }
}

/** The prompt's token count (tokenised off the event loop); a prompt over the context is a 400. */
export async function countPromptTokens(model: ChatModel, prompt: EnginePrompt): Promise<number> {
  try {
    return await model.engine.countPromptTokens(prompt);
  } catch (error) {
    if (error instanceof ContextOverflowError) {
      throw contextError(error.contextSize, `your messages resulted in at least ${error.promptTokens} tokens`);
    }
    throw error;
  }
}
