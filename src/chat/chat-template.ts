/**
 * Renders a conversation with the model's own Jinja chat template (`@huggingface/jinja`, the renderer transformers.js
 * uses), in the shapes those templates expect: text-only content as a plain string, mixed content as a list of
 * `{type: 'text'|'image'}` parts, assistant tool calls with parsed-object arguments, and `tools` in OpenAI's
 * `{type: 'function', function}` form.
 */
import { Template } from '@huggingface/jinja';
import type { ChatMessage, ChatTool } from '../protocol/index.js';

/** Template variables beyond the messages. */
export interface RenderOptions {
  bosToken: string | null;
  eosToken: string | null;
  tools: ChatTool[];
  /** Open an assistant turn at the end (always true for generation). Default true. */
  addGenerationPrompt?: boolean;
}

type TemplatePart = { type: 'text'; text: string } | { type: 'image' };

function templateContent(parts: { type: string; text?: string }[]): string | TemplatePart[] {
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => p.text ?? '').join('');
  return parts.map((p): TemplatePart => (p.type === 'text' ? { type: 'text', text: p.text ?? '' } : { type: 'image' }));
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // History may hold arguments a client edited into invalid JSON; the template then prints them verbatim.
    return text;
  }
}

/** The messages as template objects; `developer` becomes `system`, which is what open templates know. */
export function templateMessages(messages: ChatMessage[]): Record<string, unknown>[] {
  return messages.map((m) => {
    switch (m.role) {
      case 'system':
      case 'developer':
      case 'user':
        return { role: m.role === 'developer' ? 'system' : m.role, content: templateContent(m.content) };
      case 'tool':
        return { role: 'tool', content: m.content, tool_call_id: m.toolCallId };
      case 'assistant':
        return {
          role: 'assistant',
          content: m.content ?? '',
          ...(m.toolCalls.length > 0 && {
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function',
              function: { name: c.name, arguments: parseArguments(c.arguments) },
            })),
          }),
        };
    }
  });
}

/** A compiled chat template, reusable across requests. */
export class ChatTemplate {
  private readonly template: Template;

  /** Throws when `source` is not valid Jinja for @huggingface/jinja. */
  constructor(readonly source: string) {
    this.template = new Template(source);
  }

  /** The prompt text (special tokens as text) for `messages`. */
  render(messages: ChatMessage[], options: RenderOptions): string {
    const tools = options.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description ?? '', parameters: t.parameters },
    }));
    return this.template.render({
      messages: templateMessages(messages),
      tools: tools.length > 0 ? tools : undefined,
      add_generation_prompt: options.addGenerationPrompt ?? true,
      bos_token: options.bosToken ?? '',
      eos_token: options.eosToken ?? '',
    });
  }
}
