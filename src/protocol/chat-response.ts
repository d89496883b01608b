/**
 * Builds OpenAI chat-completion responses from the chat layer's camelCase events: one accumulated
 * `chat.completion` object, or `chat.completion.chunk`s in exactly OpenAI's streamed order (role delta first,
 * content deltas, tool-call deltas with index/id/name then argument fragments, a finish chunk per choice, an
 * optional usage chunk). Both are built from the same events, so streamed and non-streamed answers agree.
 */
import { randomBytes } from 'node:crypto';
import type {
  WireChatCompletion,
  WireChatCompletionChunk,
  WireFinishReason,
  WireTokenLogprob,
  WireToolCall,
  WireUsage,
} from './chat-wire.js';

/** The events a choice produces (structurally the chat layer's `ChoiceEvent`). */
export type ChatOutputEvent =
  | { type: 'content'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool_call'; index: number; name: string }
  | { type: 'tool_arguments'; index: number; text: string }
  | {
      type: 'logprobs';
      content: {
        token: string;
        bytes: number[];
        logprob: number;
        top: { token: string; bytes: number[]; logprob: number }[];
      }[];
    }
  | { type: 'finish'; reason: WireFinishReason; completionTokens: number };

/** Identity of one response, shared by all its chunks. */
export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

/** Token counts (camelCase side of `usage`). */
export interface UsageCounts {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** `system_fingerprint` of every chat answer. */
export const FINGERPRINT = 'fp_atelier';

/** A new response identity (`chatcmpl-…`, unix seconds). */
export function newCompletionMeta(model: string): CompletionMeta {
  return { id: `chatcmpl-${randomBytes(12).toString('hex')}`, created: Math.floor(Date.now() / 1000), model };
}

/** A tool call id in OpenAI's format. */
export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('base64url')}`;
}

/** OpenAI's `usage` object. */
export function wireUsage(u: UsageCounts): WireUsage {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function wireLogprobs(content: Extract<ChatOutputEvent, { type: 'logprobs' }>['content']): WireTokenLogprob[] {
  return content.map((t) => ({
    token: t.token,
    logprob: t.logprob,
    bytes: t.bytes,
    top_logprobs: t.top.map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes })),
  }));
}

interface ChoiceState {
  content: string;
  reasoning: string;
  calls: WireToolCall[];
  logprobs: WireTokenLogprob[] | null;
  finish: WireFinishReason;
}

/** Accumulates events of all choices into one `chat.completion`. */
export class CompletionBuilder {
  private readonly choices: ChoiceState[] = [];

  constructor(
    private readonly meta: CompletionMeta,
    n: number,
    private readonly withLogprobs: boolean,
  ) {
    for (let i = 0; i < n; i++) {
      this.choices.push({ content: '', reasoning: '', calls: [], logprobs: withLogprobs ? [] : null, finish: 'stop' });
    }
  }

  /** Adds one event of choice `index`. */
  add(index: number, e: ChatOutputEvent): void {
    const c = this.choices[index] as ChoiceState;
    if (e.type === 'content') c.content += e.text;
    else if (e.type === 'reasoning') c.reasoning += e.text;
    else if (e.type === 'tool_call')
      c.calls[e.index] = { id: newToolCallId(), type: 'function', function: { name: e.name, arguments: '' } };
    else if (e.type === 'tool_arguments') (c.calls[e.index] as WireToolCall).function.arguments += e.text;
    else if (e.type === 'logprobs') c.logprobs?.push(...wireLogprobs(e.content));
    else c.finish = e.reason;
  }

  /** The finished response. */
  build(usage: UsageCounts): WireChatCompletion {
    return {
      id: this.meta.id,
      object: 'chat.completion',
      created: this.meta.created,
      model: this.meta.model,
      system_fingerprint: FINGERPRINT,
      choices: this.choices.map((c, index) => ({
        index,
        message: {
          role: 'assistant',
          // With tool calls, the whitespace a template puts around them is not content.
          content: c.calls.length > 0 && c.content.trim() === '' ? null : c.content,
          refusal: null,
          ...(c.calls.length > 0 && { tool_calls: c.calls }),
          ...(c.reasoning !== '' && { reasoning_content: c.reasoning }),
        },
        logprobs: this.withLogprobs ? { content: c.logprobs, refusal: null } : null,
        finish_reason: c.finish,
      })),
      usage: wireUsage(usage),
    };
  }
}

/** Turns events into `chat.completion.chunk`s one by one. */
export class ChunkBuilder {
  private readonly started = new Set<number>();
  private readonly pendingLogprobs = new Map<number, WireTokenLogprob[]>();

  constructor(
    private readonly meta: CompletionMeta,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(
    index: number,
    delta: WireChatCompletionChunk['choices'][number]['delta'],
    finish: WireFinishReason | null,
  ): WireChatCompletionChunk {
    const logprobs = this.pendingLogprobs.get(index);
    this.pendingLogprobs.delete(index);
    return {
      id: this.meta.id,
      object: 'chat.completion.chunk',
      created: this.meta.created,
      model: this.meta.model,
      system_fingerprint: FINGERPRINT,
      choices: [
        { index, delta, logprobs: logprobs ? { content: logprobs, refusal: null } : null, finish_reason: finish },
      ],
      ...(this.includeUsage && { usage: null }),
    };
  }

  /** The chunks one event becomes (the first event of a choice is preceded by its role delta). */
  add(index: number, e: ChatOutputEvent): WireChatCompletionChunk[] {
    const out: WireChatCompletionChunk[] = [];
    if (!this.started.has(index)) {
      this.started.add(index);
      out.push(this.chunk(index, { role: 'assistant', content: '', refusal: null }, null));
    }
    switch (e.type) {
      case 'content':
        if (e.text !== '') out.push(this.chunk(index, { content: e.text }, null));
        break;
      case 'reasoning':
        if (e.text !== '') out.push(this.chunk(index, { reasoning_content: e.text }, null));
        break;
      case 'tool_call':
        out.push(
          this.chunk(
            index,
            {
              tool_calls: [
                { index: e.index, id: newToolCallId(), type: 'function', function: { name: e.name, arguments: '' } },
              ],
            },
            null,
          ),
        );
        break;
      case 'tool_arguments':
        out.push(this.chunk(index, { tool_calls: [{ index: e.index, function: { arguments: e.text } }] }, null));
        break;
      case 'logprobs':
        this.pendingLogprobs.set(index, [...(this.pendingLogprobs.get(index) ?? []), ...wireLogprobs(e.content)]);
        break;
      case 'finish':
        out.push(this.chunk(index, {}, e.reason));
        break;
    }
    return out;
  }

  /** The final usage chunk (`choices: []`), sent only with `stream_options.include_usage`. */
  usage(u: UsageCounts): WireChatCompletionChunk | null {
    if (!this.includeUsage) return null;
    return {
      id: this.meta.id,
      object: 'chat.completion.chunk',
      created: this.meta.created,
      model: this.meta.model,
      system_fingerprint: FINGERPRINT,
      choices: [],
      usage: wireUsage(u),
    };
  }
}
