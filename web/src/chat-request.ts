import { postStream } from './api.js';
import { isPdf } from './document-pages.js';

/** One message of the conversation as the studio keeps it. */
export interface Turn {
  role: 'user' | 'assistant';
  text: string;
  /** Attached images and PDFs as data URLs (user turns only); a PDF is sent as a `file` part. */
  images: string[];
}

/** What the chat form holds besides the conversation. */
export interface ChatSettings {
  model: string;
  system: string;
  /** JSON Schema text; empty for free text. */
  schema: string;
  maxTokens: number | undefined;
  temperature: number | undefined;
  /** Image model each reply draws with (atelier's `image_generation` tool, forced); empty or absent = no drawing. */
  draw?: string;
}

/** How a streamed reply ended. */
export interface ChatResult {
  finishReason: string | null;
  completionTokens: number | null;
}

type Part =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string } }
  | { type: 'file'; file: { file_data: string; filename: string } };

function toMessage(turn: Turn): { role: string; content: string | Part[] } {
  // A reply's images were drawn by the server's tool: the model sees its text, as it did when it wrote it.
  if (turn.images.length === 0 || turn.role === 'assistant') return { role: turn.role, content: turn.text };
  const parts: Part[] = turn.text ? [{ type: 'text', text: turn.text }] : [];
  turn.images.forEach((url, i) =>
    parts.push(
      isPdf(url)
        ? { type: 'file', file: { file_data: url, filename: `attachment-${i + 1}.pdf` } }
        : { type: 'image_url', image_url: { url } },
    ),
  );
  return { role: turn.role, content: parts };
}

/**
 * `response_format` for a schema typed by the user: json_schema, strict, named `studio_output`. Empty text means
 * none. Text that is not a JSON object throws here, before any request; whether it is a valid JSON Schema is the
 * server's call (its 400 is shown as it comes).
 */
export function responseFormat(schemaText: string): object | undefined {
  if (schemaText.trim() === '') return undefined;
  let schema: unknown;
  try {
    schema = JSON.parse(schemaText);
  } catch (error) {
    throw new Error(`The JSON schema is not valid JSON: ${(error as Error).message}`);
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new Error('The JSON schema must be a JSON object.');
  }
  return { type: 'json_schema', json_schema: { name: 'studio_output', strict: true, schema } };
}

/** The `/v1/chat/completions` body for the conversation so far, streaming with usage. */
export function chatBody(turns: readonly Turn[], settings: ChatSettings): Record<string, unknown> {
  const messages: object[] = settings.system.trim() ? [{ role: 'system', content: settings.system }] : [];
  messages.push(...turns.map(toMessage));
  const body: Record<string, unknown> = {
    model: settings.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  const format = responseFormat(settings.schema);
  if (format) body.response_format = format;
  if (settings.maxTokens !== undefined) body.max_completion_tokens = settings.maxTokens;
  if (settings.temperature !== undefined) body.temperature = settings.temperature;
  if (settings.draw) {
    body.tools = [{ type: 'image_generation', model: settings.draw }];
    body.tool_choice = { type: 'image_generation' };
  }
  return body;
}

/**
 * Streams a reply, calling `onText` with each content delta and `onImages` with the PNGs (data URLs) the image tool
 * drew (`delta.images`, docs/RESPONSES.md); resolves with how it ended.
 */
export async function streamChat(
  body: Record<string, unknown>,
  signal: AbortSignal,
  onText: (delta: string) => void,
  onImages: (urls: string[]) => void = () => undefined,
): Promise<ChatResult> {
  const result: ChatResult = { finishReason: null, completionTokens: null };
  for await (const chunk of postStream('/v1/chat/completions', body, signal)) {
    const choices = (chunk.choices ?? []) as {
      delta?: { content?: string | null; images?: { b64_json: string }[] };
      finish_reason?: string | null;
    }[];
    const choice = choices[0];
    if (choice?.delta?.images) onImages(choice.delta.images.map((image) => `data:image/png;base64,${image.b64_json}`));
    if (choice?.delta?.content) onText(choice.delta.content);
    if (choice?.finish_reason) result.finishReason = choice.finish_reason;
    const usage = chunk.usage as { completion_tokens?: number } | null | undefined;
    if (usage?.completion_tokens !== undefined) result.completionTokens = usage.completion_tokens;
  }
  return result;
}
