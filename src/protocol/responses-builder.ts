/**
 * Builds a Responses API `response` from the chat layer's events, and the streamed events in OpenAI's order at the
 * same time: `response.created`, `response.in_progress`, then per output item `output_item.added` → (content part,
 * text or argument deltas, their `done`s) → `output_item.done`, and `response.completed` (or `.incomplete`), each
 * numbered by `sequence_number`. A JSON answer is the final snapshot of the very same builder, so streamed and
 * non-streamed responses agree. Calls of the built-in image tool become `image_generation_call` items.
 */
import { randomBytes } from 'node:crypto';
import { newToolCallId, type ChatOutputEvent, type UsageCounts } from './chat-response.js';
import { IMAGE_TOOL_NAME } from './image-tool.js';
import type { ResponseItem } from './responses-input.js';
import type { ResponsesRequest } from './responses-request.js';
import type { WireResponse, WireResponseEvent, WireResponseItem } from './responses-wire.js';

/** A generated image as the `image_generation_call` item shows it. */
export interface ImageCallResult {
  b64Png: string;
  width: number;
  height: number;
  seed: number;
  model: string;
}

/** A call of the image tool the model made in a turn: its output item and the prompt it wrote (arguments JSON). */
export interface ImageCallRequest {
  itemId: string;
  arguments: string;
}

const itemId = (prefix: string): string => `${prefix}_${randomBytes(16).toString('hex')}`;

/** A new response id (`resp_…`). */
export function newResponseId(): string {
  return itemId('resp');
}

/** Accumulates one response over its model turns and image calls. */
export class ResponseBuilder {
  /** The snapshot (final once `finish` ran). */
  readonly response: WireResponse;
  private seq = 0;
  private message: { index: number; item: Extract<WireResponseItem, { type: 'message' }> } | null = null;
  private heldSpace = '';
  /** This turn's calls by the chat layer's call index. */
  private calls = new Map<number, { index: number; item: WireResponseItem; args: string }>();
  private truncated = false;

  constructor(id: string, request: ResponsesRequest, createdAt = Math.floor(Date.now() / 1000)) {
    this.response = {
      id,
      object: 'response',
      created_at: createdAt,
      completed_at: null,
      status: 'in_progress',
      error: null,
      incomplete_details: null,
      instructions: request.instructions,
      max_output_tokens: request.maxOutputTokens,
      model: request.model,
      output: [],
      output_text: '',
      parallel_tool_calls: request.parallelToolCalls,
      previous_response_id: request.previousResponseId,
      store: request.store,
      temperature: request.temperature,
      top_p: request.topP,
      text: request.echo.text,
      tool_choice: request.echo.toolChoice,
      tools: request.echo.tools,
      truncation: 'disabled',
      background: false,
      metadata: request.metadata,
      usage: null,
    };
  }

  private event(type: string, fields: Record<string, unknown>): WireResponseEvent {
    // Events are serialised later than they are made: each carries a copy, not the live snapshot.
    return { type, sequence_number: this.seq++, ...structuredClone(fields) };
  }

  /** `response.created` and `response.in_progress`. */
  start(): WireResponseEvent[] {
    return [
      this.event('response.created', { response: this.response }),
      this.event('response.in_progress', { response: this.response }),
    ];
  }

  private addItem(item: WireResponseItem): number {
    const index = this.response.output.push(item) - 1;
    return index;
  }

  private text(text: string, out: WireResponseEvent[]): void {
    if (!this.message && (this.heldSpace + text).trim() === '') {
      // Whitespace a template puts around a tool call is not an answer: a message item starts at real text.
      this.heldSpace += text;
      return;
    }
    if (!this.message) {
      const item: WireResponseItem = {
        type: 'message',
        id: itemId('msg'),
        role: 'assistant',
        status: 'in_progress',
        content: [],
      };
      const index = this.addItem(item);
      out.push(this.event('response.output_item.added', { output_index: index, item }));
      const part = { type: 'output_text' as const, text: '', annotations: [], logprobs: [] };
      item.content.push(part);
      out.push(
        this.event('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part }),
      );
      this.message = { index, item };
      text = this.heldSpace + text;
      this.heldSpace = '';
    }
    const { index, item } = this.message;
    (item.content[0] as { text: string }).text += text;
    out.push(
      this.event('response.output_text.delta', {
        item_id: item.id,
        output_index: index,
        content_index: 0,
        delta: text,
        logprobs: [],
      }),
    );
  }

  private call(callIndex: number, name: string, out: WireResponseEvent[]): void {
    const item: WireResponseItem =
      name === IMAGE_TOOL_NAME
        ? {
            type: 'image_generation_call',
            id: itemId('ig'),
            status: 'in_progress',
            result: null,
            revised_prompt: '',
            output_format: 'png',
            size: null,
            seed: null,
            model: null,
          }
        : {
            type: 'function_call',
            id: itemId('fc'),
            call_id: newToolCallId(),
            name,
            arguments: '',
            status: 'in_progress',
          };
    const index = this.addItem(item);
    this.calls.set(callIndex, { index, item, args: '' });
    out.push(this.event('response.output_item.added', { output_index: index, item }));
    if (item.type === 'image_generation_call') {
      out.push(this.event('response.image_generation_call.in_progress', { item_id: item.id, output_index: index }));
    }
  }

  /** The events one chat event becomes (reasoning and log-probabilities are not part of this API's output here). */
  add(e: ChatOutputEvent): WireResponseEvent[] {
    const out: WireResponseEvent[] = [];
    if (e.type === 'content') this.text(e.text, out);
    else if (e.type === 'tool_call') this.call(e.index, e.name, out);
    else if (e.type === 'tool_arguments') {
      const call = this.calls.get(e.index);
      if (!call) return out;
      call.args += e.text;
      if (call.item.type === 'function_call') {
        call.item.arguments += e.text;
        out.push(
          this.event('response.function_call_arguments.delta', {
            item_id: call.item.id,
            output_index: call.index,
            delta: e.text,
          }),
        );
      }
    } else if (e.type === 'finish' && e.reason === 'length') this.truncated = true;
    return out;
  }

  /** Closes the turn's open items; returns their events and the image calls the model made (still to run). */
  endTurn(): { events: WireResponseEvent[]; imageCalls: ImageCallRequest[] } {
    const out: WireResponseEvent[] = [];
    const status = this.truncated ? 'incomplete' : 'completed';
    if (this.message) {
      const { index, item } = this.message;
      const part = item.content[0]!;
      out.push(
        this.event('response.output_text.done', {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          text: part.text,
          logprobs: [],
        }),
      );
      out.push(
        this.event('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part }),
      );
      item.status = status;
      out.push(this.event('response.output_item.done', { output_index: index, item }));
    }
    const imageCalls: ImageCallRequest[] = [];
    for (const { index, item, args } of this.calls.values()) {
      if (item.type === 'image_generation_call') {
        imageCalls.push({ itemId: item.id, arguments: args });
        continue;
      }
      if (item.type !== 'function_call') continue;
      out.push(
        this.event('response.function_call_arguments.done', {
          item_id: item.id,
          output_index: index,
          arguments: item.arguments,
          name: item.name,
        }),
      );
      item.status = status;
      out.push(this.event('response.output_item.done', { output_index: index, item }));
    }
    this.message = null;
    this.heldSpace = '';
    this.calls = new Map();
    return { events: out, imageCalls };
  }

  private imageItem(id: string): { index: number; item: Extract<WireResponseItem, { type: 'image_generation_call' }> } {
    const index = this.response.output.findIndex((i) => i.id === id);
    return { index, item: this.response.output[index] as Extract<WireResponseItem, { type: 'image_generation_call' }> };
  }

  /** An image call's prompt is known and the worker starts: `response.image_generation_call.generating`. */
  imageGenerating(id: string, prompt: string): WireResponseEvent[] {
    const { index, item } = this.imageItem(id);
    item.status = 'generating';
    item.revised_prompt = prompt;
    return [this.event('response.image_generation_call.generating', { item_id: id, output_index: index })];
  }

  /** The PNG is made: `response.image_generation_call.completed` and the item's `output_item.done`. */
  imageCompleted(id: string, image: ImageCallResult): WireResponseEvent[] {
    const { index, item } = this.imageItem(id);
    Object.assign(item, {
      status: 'completed',
      result: image.b64Png,
      size: `${image.width}x${image.height}`,
      seed: image.seed,
      model: image.model,
    });
    return [
      this.event('response.image_generation_call.completed', { item_id: id, output_index: index }),
      this.event('response.output_item.done', { output_index: index, item }),
    ];
  }

  /** Whether some turn ended at the token cap. */
  get incomplete(): boolean {
    return this.truncated;
  }

  /** Final status, usage and `output_text`; returns `response.completed` (or `response.incomplete`). */
  finish(usage: UsageCounts): WireResponseEvent[] {
    const r = this.response;
    r.status = this.truncated ? 'incomplete' : 'completed';
    r.incomplete_details = this.truncated ? { reason: 'max_output_tokens' } : null;
    r.completed_at = Math.floor(Date.now() / 1000);
    r.output_text = r.output.map((i) => (i.type === 'message' ? i.content.map((c) => c.text).join('') : '')).join('');
    r.usage = {
      input_tokens: usage.promptTokens,
      input_tokens_details: { cached_tokens: usage.cachedTokens },
      output_tokens: usage.completionTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.promptTokens + usage.completionTokens,
    };
    return [this.event(this.truncated ? 'response.incomplete' : 'response.completed', { response: r })];
  }
}

/** A response's output as conversation items (what `previous_response_id` replays after the input). */
export function outputItems(response: WireResponse): ResponseItem[] {
  return response.output.map((item): ResponseItem => {
    if (item.type === 'message')
      return { type: 'message', role: 'assistant', content: item.content.map((c) => ({ type: 'text', text: c.text })) };
    if (item.type === 'function_call')
      return { type: 'function_call', callId: item.call_id, name: item.name, arguments: item.arguments };
    return { type: 'image_generation_call', id: item.id, prompt: item.revised_prompt };
  });
}
