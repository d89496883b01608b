/**
 * OpenAI chat-completions wire types (snake_case, exactly as the official `openai` client sends and parses them).
 * Only the fields atelier supports are listed; anything else in a request is rejected by `parseChatRequest`.
 */
import type { WireGeneratedImage } from './image-tool.js';

/** A JSON value as it appears in a request body. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** One content part of a user (or system/developer/tool: text only) message. */
export type WireContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'low' | 'high' | 'auto' } }
  | { type: 'file'; file: { file_data?: string; file_id?: string; filename?: string } };

/** A tool call as the assistant emitted it (in a response or echoed back in history). */
export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A message of the `messages` array. */
export type WireMessage =
  | { role: 'system' | 'developer'; content: string | WireContentPart[]; name?: string }
  | { role: 'user'; content: string | WireContentPart[]; name?: string }
  | {
      role: 'assistant';
      content?: string | WireContentPart[] | null;
      name?: string;
      tool_calls?: WireToolCall[];
      reasoning_content?: string | null;
    }
  | { role: 'tool'; content: string | WireContentPart[]; tool_call_id: string };

/** A function tool definition. */
export interface WireTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, JsonValue>; strict?: boolean | null };
}

/** The `tool_choice` field. */
export type WireToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

/** The `response_format` field. */
export type WireResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: Record<string, JsonValue>; strict?: boolean | null };
    };

/** Token log-probabilities of one output token (`choices[].logprobs.content[]`). */
export interface WireTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: { token: string; logprob: number; bytes: number[] | null }[];
}

/** The `usage` object. */
export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/** Why a choice ended. */
export type WireFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Non-streamed response (`object: "chat.completion"`). */
export interface WireChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal: null;
      tool_calls?: WireToolCall[];
      reasoning_content?: string;
      /** atelier: images the built-in `image_generation` tool made for this answer. */
      images?: WireGeneratedImage[];
    };
    logprobs: { content: WireTokenLogprob[] | null; refusal: null } | null;
    finish_reason: WireFinishReason;
  }[];
  usage: WireUsage;
}

/** One tool-call fragment of a streamed delta: the first carries id + name, later ones argument text. */
export interface WireToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

/** Streamed chunk (`object: "chat.completion.chunk"`), sent as one SSE `data:` line. */
export interface WireChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      refusal?: null;
      tool_calls?: WireToolCallDelta[];
      reasoning_content?: string;
      /** atelier: every image of the built-in tool's calls, in one delta once they are made. */
      images?: WireGeneratedImage[];
    };
    logprobs: { content: WireTokenLogprob[]; refusal: null } | null;
    finish_reason: WireFinishReason | null;
  }[];
  usage?: WireUsage | null;
}
